"""The arXiv category taxonomy and the resolution of the category codes that dumps show.

Owns the list of arXiv categories (id → name, as published at arxiv.org/category_taxonomy),
the aliases arXiv declares between them, and the rule that turns a code seen in a dump into
an arXiv category id. Scholar Feed pages show a category as its subject class without the
archive, upper-cased (`LG` for cs.LG, `IV` for eess.IV, `HEP-TH` for hep-th). Where a short
code names categories in several archives the feed's computer-science centre decides: cs,
then eess, stat, math, then the other archives in `ARCHIVE_PREFERENCE` order; the answer
records that the code was ambiguous. A code that names no category is kept verbatim and
flagged, never dropped. `category_table()` is the same rule as a frame for polars joins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

ARXIV_CATEGORIES: Final[dict[str, str]] = {
    "cs.AI": "Artificial Intelligence",
    "cs.AR": "Hardware Architecture",
    "cs.CC": "Computational Complexity",
    "cs.CE": "Computational Engineering, Finance, and Science",
    "cs.CG": "Computational Geometry",
    "cs.CL": "Computation and Language",
    "cs.CR": "Cryptography and Security",
    "cs.CV": "Computer Vision and Pattern Recognition",
    "cs.CY": "Computers and Society",
    "cs.DB": "Databases",
    "cs.DC": "Distributed, Parallel, and Cluster Computing",
    "cs.DL": "Digital Libraries",
    "cs.DM": "Discrete Mathematics",
    "cs.DS": "Data Structures and Algorithms",
    "cs.ET": "Emerging Technologies",
    "cs.FL": "Formal Languages and Automata Theory",
    "cs.GL": "General Literature",
    "cs.GR": "Graphics",
    "cs.GT": "Computer Science and Game Theory",
    "cs.HC": "Human-Computer Interaction",
    "cs.IR": "Information Retrieval",
    "cs.IT": "Information Theory",
    "cs.LG": "Machine Learning",
    "cs.LO": "Logic in Computer Science",
    "cs.MA": "Multiagent Systems",
    "cs.MM": "Multimedia",
    "cs.MS": "Mathematical Software",
    "cs.NA": "Numerical Analysis",
    "cs.NE": "Neural and Evolutionary Computing",
    "cs.NI": "Networking and Internet Architecture",
    "cs.OH": "Other Computer Science",
    "cs.OS": "Operating Systems",
    "cs.PF": "Performance",
    "cs.PL": "Programming Languages",
    "cs.RO": "Robotics",
    "cs.SC": "Symbolic Computation",
    "cs.SD": "Sound",
    "cs.SE": "Software Engineering",
    "cs.SI": "Social and Information Networks",
    "cs.SY": "Systems and Control",
    "econ.EM": "Econometrics",
    "econ.GN": "General Economics",
    "econ.TH": "Theoretical Economics",
    "eess.AS": "Audio and Speech Processing",
    "eess.IV": "Image and Video Processing",
    "eess.SP": "Signal Processing",
    "eess.SY": "Systems and Control",
    "math.AC": "Commutative Algebra",
    "math.AG": "Algebraic Geometry",
    "math.AP": "Analysis of PDEs",
    "math.AT": "Algebraic Topology",
    "math.CA": "Classical Analysis and ODEs",
    "math.CO": "Combinatorics",
    "math.CT": "Category Theory",
    "math.CV": "Complex Variables",
    "math.DG": "Differential Geometry",
    "math.DS": "Dynamical Systems",
    "math.FA": "Functional Analysis",
    "math.GM": "General Mathematics",
    "math.GN": "General Topology",
    "math.GR": "Group Theory",
    "math.GT": "Geometric Topology",
    "math.HO": "History and Overview",
    "math.IT": "Information Theory",
    "math.KT": "K-Theory and Homology",
    "math.LO": "Logic",
    "math.MG": "Metric Geometry",
    "math.MP": "Mathematical Physics",
    "math.NA": "Numerical Analysis",
    "math.NT": "Number Theory",
    "math.OA": "Operator Algebras",
    "math.OC": "Optimization and Control",
    "math.PR": "Probability",
    "math.QA": "Quantum Algebra",
    "math.RA": "Rings and Algebras",
    "math.RT": "Representation Theory",
    "math.SG": "Symplectic Geometry",
    "math.SP": "Spectral Theory",
    "math.ST": "Statistics Theory",
    "astro-ph.CO": "Cosmology and Nongalactic Astrophysics",
    "astro-ph.EP": "Earth and Planetary Astrophysics",
    "astro-ph.GA": "Astrophysics of Galaxies",
    "astro-ph.HE": "High Energy Astrophysical Phenomena",
    "astro-ph.IM": "Instrumentation and Methods for Astrophysics",
    "astro-ph.SR": "Solar and Stellar Astrophysics",
    "cond-mat.dis-nn": "Disordered Systems and Neural Networks",
    "cond-mat.mes-hall": "Mesoscale and Nanoscale Physics",
    "cond-mat.mtrl-sci": "Materials Science",
    "cond-mat.other": "Other Condensed Matter",
    "cond-mat.quant-gas": "Quantum Gases",
    "cond-mat.soft": "Soft Condensed Matter",
    "cond-mat.stat-mech": "Statistical Mechanics",
    "cond-mat.str-el": "Strongly Correlated Electrons",
    "cond-mat.supr-con": "Superconductivity",
    "gr-qc": "General Relativity and Quantum Cosmology",
    "hep-ex": "High Energy Physics - Experiment",
    "hep-lat": "High Energy Physics - Lattice",
    "hep-ph": "High Energy Physics - Phenomenology",
    "hep-th": "High Energy Physics - Theory",
    "math-ph": "Mathematical Physics",
    "nlin.AO": "Adaptation and Self-Organizing Systems",
    "nlin.CD": "Chaotic Dynamics",
    "nlin.CG": "Cellular Automata and Lattice Gases",
    "nlin.PS": "Pattern Formation and Solitons",
    "nlin.SI": "Exactly Solvable and Integrable Systems",
    "nucl-ex": "Nuclear Experiment",
    "nucl-th": "Nuclear Theory",
    "physics.acc-ph": "Accelerator Physics",
    "physics.ao-ph": "Atmospheric and Oceanic Physics",
    "physics.app-ph": "Applied Physics",
    "physics.atm-clus": "Atomic and Molecular Clusters",
    "physics.atom-ph": "Atomic Physics",
    "physics.bio-ph": "Biological Physics",
    "physics.chem-ph": "Chemical Physics",
    "physics.class-ph": "Classical Physics",
    "physics.comp-ph": "Computational Physics",
    "physics.data-an": "Data Analysis, Statistics and Probability",
    "physics.ed-ph": "Physics Education",
    "physics.flu-dyn": "Fluid Dynamics",
    "physics.gen-ph": "General Physics",
    "physics.geo-ph": "Geophysics",
    "physics.hist-ph": "History and Philosophy of Physics",
    "physics.ins-det": "Instrumentation and Detectors",
    "physics.med-ph": "Medical Physics",
    "physics.optics": "Optics",
    "physics.plasm-ph": "Plasma Physics",
    "physics.pop-ph": "Popular Physics",
    "physics.soc-ph": "Physics and Society",
    "physics.space-ph": "Space Physics",
    "quant-ph": "Quantum Physics",
    "q-bio.BM": "Biomolecules",
    "q-bio.CB": "Cell Behavior",
    "q-bio.GN": "Genomics",
    "q-bio.MN": "Molecular Networks",
    "q-bio.NC": "Neurons and Cognition",
    "q-bio.OT": "Other Quantitative Biology",
    "q-bio.PE": "Populations and Evolution",
    "q-bio.QM": "Quantitative Methods",
    "q-bio.SC": "Subcellular Processes",
    "q-bio.TO": "Tissues and Organs",
    "q-fin.CP": "Computational Finance",
    "q-fin.EC": "Economics",
    "q-fin.GN": "General Finance",
    "q-fin.MF": "Mathematical Finance",
    "q-fin.PM": "Portfolio Management",
    "q-fin.PR": "Pricing of Securities",
    "q-fin.RM": "Risk Management",
    "q-fin.ST": "Statistical Finance",
    "q-fin.TR": "Trading and Market Microstructure",
    "stat.AP": "Applications",
    "stat.CO": "Computation",
    "stat.ME": "Methodology",
    "stat.ML": "Machine Learning",
    "stat.OT": "Other Statistics",
    "stat.TH": "Statistics Theory",
}

# Bare archives that old papers carry as their primary category (astro-ph until 2009,
# cond-mat until 2004); they are not in the current taxonomy but still name a category.
LEGACY_CATEGORIES: Final[dict[str, str]] = {
    "astro-ph": "Astrophysics",
    "cond-mat": "Condensed Matter",
}

# arXiv's declared equivalences, alias → canonical id. A paper filed under one is listed
# under both, so the feed may show either short code for the same subject.
CATEGORY_ALIASES: Final[dict[str, str]] = {
    "cs.NA": "math.NA",
    "cs.SY": "eess.SY",
    "math.IT": "cs.IT",
    "math.MP": "math-ph",
    "q-fin.EC": "econ.GN",
    "stat.TH": "math.ST",
}

ARCHIVE_PREFERENCE: Final[tuple[str, ...]] = (
    "cs",
    "eess",
    "stat",
    "math",
    "physics",
    "astro-ph",
    "cond-mat",
    "q-bio",
    "q-fin",
    "econ",
    "nlin",
    "gr-qc",
    "hep-ex",
    "hep-lat",
    "hep-ph",
    "hep-th",
    "math-ph",
    "nucl-ex",
    "nucl-th",
    "quant-ph",
)

_NAMES: Final[dict[str, str]] = {**ARXIV_CATEGORIES, **LEGACY_CATEGORIES}


@dataclass(frozen=True)
class CategoryResolution:
    """What a category code names: the chosen arXiv id and every id the code could mean.

    `raw` is the code without surrounding whitespace. An unknown code has
    `category == raw`, `is_known=False` and no candidates.
    """

    raw: str
    category: str
    is_known: bool
    is_ambiguous: bool
    candidates: tuple[str, ...]


def _archive(category_id: str) -> str:
    return category_id.partition(".")[0]


def _short_code(category_id: str) -> str:
    """The code a page shows: the subject class, or the bare archive, upper-cased."""
    archive, _, subject = category_id.partition(".")
    return (subject or archive).upper()


def _preference_rank(category_id: str) -> tuple[int, str]:
    return ARCHIVE_PREFERENCE.index(_archive(category_id)), category_id


def _build_short_codes() -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for category_id in _NAMES:
        grouped.setdefault(_short_code(category_id), []).append(category_id)
    return {code: tuple(sorted(ids, key=_preference_rank)) for code, ids in sorted(grouped.items())}


_SHORT_CODES: Final[dict[str, tuple[str, ...]]] = _build_short_codes()
# No two ids differ only in case, so full ids can be matched case-insensitively.
_FULL_IDS: Final[dict[str, str]] = {category_id.casefold(): category_id for category_id in _NAMES}


def resolve_category(raw: str | None) -> CategoryResolution | None:
    """Resolve a short code (`LG`) or a full id (`cs.LG`) to an arXiv category; None if blank."""
    if raw is None:
        return None
    code = raw.strip()
    if not code:
        return None
    full_id = _FULL_IDS.get(code.casefold())
    if full_id is not None:
        return CategoryResolution(code, full_id, True, False, (full_id,))
    candidates = _SHORT_CODES.get(code.upper())
    if candidates is None:
        return CategoryResolution(code, code, False, False, ())
    return CategoryResolution(code, candidates[0], True, len(candidates) > 1, candidates)


def category_table() -> pl.DataFrame:
    """The lookup table for polars joins: one row per page short code and per full id.

    Full ids appear as arXiv spells them (`cs.LG`, `hep-th`), short codes upper-cased (`LG`,
    `HEP-TH`); a join on the stripped code gives what `resolve_category` gives for that code.
    """
    codes = [*_SHORT_CODES, *_NAMES]
    resolutions = [resolve_category(code) for code in codes]
    known = [resolution for resolution in resolutions if resolution is not None]
    return pl.DataFrame(
        {
            "code": [resolution.raw for resolution in known],
            "category": [resolution.category for resolution in known],
            "is_known": [resolution.is_known for resolution in known],
            "is_ambiguous": [resolution.is_ambiguous for resolution in known],
            "candidates": [list(resolution.candidates) for resolution in known],
            "name": [_NAMES[resolution.category] for resolution in known],
        },
        schema={
            "code": pl.String,
            "category": pl.String,
            "is_known": pl.Boolean,
            "is_ambiguous": pl.Boolean,
            "candidates": pl.List(pl.String),
            "name": pl.String,
        },
    )
