"""Tests for flows.categories: the arXiv taxonomy and category-code resolution."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.categories import (
    ARCHIVE_PREFERENCE,
    ARXIV_CATEGORIES,
    CATEGORY_ALIASES,
    LEGACY_CATEGORIES,
    CategoryResolution,
    category_table,
    resolve_category,
)

SAMPLE_CATEGORIES = ("cs.AI", "cs.CL", "cs.CV", "cs.IR", "cs.LG", "cs.NE", "eess.IV")


def _expected_candidates(code: str) -> tuple[str, ...]:
    """Every id whose subject class (or bare archive) is `code`, in archive preference order."""
    matches = []
    for category_id in [*ARXIV_CATEGORIES, *LEGACY_CATEGORIES]:
        archive, _, subject = category_id.partition(".")
        if (subject or archive).upper() == code:
            matches.append((ARCHIVE_PREFERENCE.index(archive), category_id))
    return tuple(category_id for _, category_id in sorted(matches))


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("CV", "cs.CV"),
        ("LG", "cs.LG"),
        ("IR", "cs.IR"),
        ("AI", "cs.AI"),
        ("NE", "cs.NE"),
        ("CL", "cs.CL"),
        ("DB", "cs.DB"),
        ("IV", "eess.IV"),
    ],
)
def test_page_short_codes_resolve_to_their_category(code: str, category: str) -> None:
    resolution = resolve_category(code)
    assert resolution is not None
    assert resolution.raw == code
    assert resolution.category == category
    assert resolution.is_known
    assert resolution.candidates[0] == category


@pytest.mark.parametrize("code", ["LG", "IR", "AI", "NE", "CL", "DB", "IV"])
def test_short_code_of_a_single_archive_is_unambiguous(code: str) -> None:
    resolution = resolve_category(code)
    assert resolution is not None
    assert not resolution.is_ambiguous
    assert len(resolution.candidates) == 1


def test_cv_prefers_cs_over_math_and_is_flagged_ambiguous() -> None:
    assert resolve_category("CV") == CategoryResolution(
        "CV", "cs.CV", True, True, ("cs.CV", "math.CV")
    )


@pytest.mark.parametrize(
    ("code", "candidates"),
    [
        ("DS", ("cs.DS", "math.DS")),
        ("LO", ("cs.LO", "math.LO")),
        ("GT", ("cs.GT", "math.GT")),
        ("CO", ("stat.CO", "math.CO", "astro-ph.CO")),
        ("AP", ("stat.AP", "math.AP")),
        ("SY", ("cs.SY", "eess.SY")),
        ("IT", ("cs.IT", "math.IT")),
        ("NA", ("cs.NA", "math.NA")),
        ("SP", ("eess.SP", "math.SP")),
        ("TH", ("stat.TH", "econ.TH")),
        ("GN", ("math.GN", "q-bio.GN", "q-fin.GN", "econ.GN")),
    ],
)
def test_ambiguous_code_takes_the_preferred_archive_and_is_flagged(
    code: str, candidates: tuple[str, ...]
) -> None:
    assert resolve_category(code) == CategoryResolution(code, candidates[0], True, True, candidates)


@pytest.mark.parametrize("code", ["ZZ", "Zz9", "XYZ", "cs.ZZ", "hep"])
def test_unknown_code_is_kept_verbatim_and_flagged(code: str) -> None:
    assert resolve_category(code) == CategoryResolution(code, code, False, False, ())


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_missing_or_blank_code_resolves_to_none(raw: str | None) -> None:
    assert resolve_category(raw) is None


def test_surrounding_whitespace_is_stripped() -> None:
    assert resolve_category("  LG\n") == CategoryResolution("LG", "cs.LG", True, False, ("cs.LG",))
    assert resolve_category(" ZZ ") == CategoryResolution("ZZ", "ZZ", False, False, ())


@pytest.mark.parametrize(
    ("raw", "category"),
    [
        ("cs.LG", "cs.LG"),
        ("math.CO", "math.CO"),
        ("hep-th", "hep-th"),
        ("CS.LG", "cs.LG"),
        ("Math.CO", "math.CO"),
        ("eess.SY", "eess.SY"),
        ("stat.CO", "stat.CO"),
        ("astro-ph.CO", "astro-ph.CO"),
        ("physics.optics", "physics.optics"),
        ("cond-mat.mes-hall", "cond-mat.mes-hall"),
        ("astro-ph", "astro-ph"),
    ],
)
def test_full_id_is_accepted_and_unambiguous(raw: str, category: str) -> None:
    assert resolve_category(raw) == CategoryResolution(raw, category, True, False, (category,))


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("HEP-TH", "hep-th"),
        ("HEP-PH", "hep-ph"),
        ("HEP-EX", "hep-ex"),
        ("HEP-LAT", "hep-lat"),
        ("GR-QC", "gr-qc"),
        ("QUANT-PH", "quant-ph"),
        ("MATH-PH", "math-ph"),
        ("NUCL-TH", "nucl-th"),
        ("NUCL-EX", "nucl-ex"),
        ("ASTRO-PH", "astro-ph"),
        ("COND-MAT", "cond-mat"),
    ],
)
def test_upper_cased_bare_archive_resolves_to_that_archive(code: str, category: str) -> None:
    assert resolve_category(code) == CategoryResolution(code, category, True, False, (category,))


def test_physics_subject_class_shows_as_upper_cased_short_code() -> None:
    assert resolve_category("OPTICS") == CategoryResolution(
        "OPTICS", "physics.optics", True, False, ("physics.optics",)
    )
    resolution = resolve_category("MES-HALL")
    assert resolution is not None
    assert resolution.category == "cond-mat.mes-hall"


def test_taxonomy_is_the_complete_current_arxiv_list() -> None:
    assert len(ARXIV_CATEGORIES) == 155
    per_archive: dict[str, int] = {}
    for category_id in ARXIV_CATEGORIES:
        archive = category_id.partition(".")[0]
        per_archive[archive] = per_archive.get(archive, 0) + 1
    assert per_archive == {
        "cs": 40,
        "econ": 3,
        "eess": 4,
        "math": 32,
        "astro-ph": 6,
        "cond-mat": 9,
        "gr-qc": 1,
        "hep-ex": 1,
        "hep-lat": 1,
        "hep-ph": 1,
        "hep-th": 1,
        "math-ph": 1,
        "nlin": 5,
        "nucl-ex": 1,
        "nucl-th": 1,
        "physics": 22,
        "quant-ph": 1,
        "q-bio": 10,
        "q-fin": 9,
        "stat": 6,
    }
    assert ARXIV_CATEGORIES["cs.LG"] == "Machine Learning"
    assert ARXIV_CATEGORIES["eess.IV"] == "Image and Video Processing"


def test_taxonomy_contains_the_sample_categories() -> None:
    assert set(SAMPLE_CATEGORIES) <= set(ARXIV_CATEGORIES)


def test_category_ids_are_unique_ignoring_case() -> None:
    ids = [*ARXIV_CATEGORIES, *LEGACY_CATEGORIES]
    assert len({category_id.casefold() for category_id in ids}) == len(ids)


def test_aliases_join_two_categories_of_the_taxonomy() -> None:
    for alias, canonical in CATEGORY_ALIASES.items():
        assert alias in ARXIV_CATEGORIES
        assert canonical in ARXIV_CATEGORIES
        assert alias != canonical


def test_archive_preference_starts_cs_eess_stat_math_and_covers_every_archive() -> None:
    assert ARCHIVE_PREFERENCE[:4] == ("cs", "eess", "stat", "math")
    assert len(set(ARCHIVE_PREFERENCE)) == len(ARCHIVE_PREFERENCE)
    archives = {category_id.partition(".")[0] for category_id in ARXIV_CATEGORIES}
    archives |= set(LEGACY_CATEGORIES)
    assert archives == set(ARCHIVE_PREFERENCE)


def test_category_table_has_the_documented_columns() -> None:
    table = category_table()
    assert table.schema == pl.Schema(
        {
            "code": pl.String,
            "category": pl.String,
            "is_known": pl.Boolean,
            "is_ambiguous": pl.Boolean,
            "candidates": pl.List(pl.String),
            "name": pl.String,
        }
    )
    assert table["code"].n_unique() == table.height
    assert table["is_known"].all()


def test_category_table_lists_every_full_id_and_the_page_short_codes() -> None:
    codes = set(category_table()["code"])
    assert set(ARXIV_CATEGORIES) | set(LEGACY_CATEGORIES) <= codes
    assert {"CV", "LG", "IR", "AI", "NE", "CL", "DB", "IV", "HEP-TH", "ASTRO-PH"} <= codes


def test_category_table_agrees_with_resolve_category_on_every_code() -> None:
    for row in category_table().iter_rows(named=True):
        resolution = resolve_category(row["code"])
        assert resolution == CategoryResolution(
            row["code"],
            row["category"],
            row["is_known"],
            row["is_ambiguous"],
            tuple(row["candidates"]),
        )
        names = {**ARXIV_CATEGORIES, **LEGACY_CATEGORIES}
        assert row["name"] == names[row["category"]]


def test_every_short_code_lists_all_its_archives_in_preference_order() -> None:
    for row in category_table().iter_rows(named=True):
        code = row["code"]
        if code != code.upper() or "." in code:
            continue
        assert tuple(row["candidates"]) == _expected_candidates(code)
        assert row["is_ambiguous"] == (len(row["candidates"]) > 1)


@given(st.text())
def test_resolve_category_never_raises_and_keeps_unknown_codes(raw: str) -> None:
    resolution = resolve_category(raw)
    assert resolution == resolve_category(raw)
    if not raw.strip():
        assert resolution is None
        return
    assert resolution is not None
    assert resolution.raw == raw.strip()
    if resolution.is_known:
        assert resolution.category in resolution.candidates
        assert resolution.category == resolution.candidates[0]
    else:
        assert resolution.category == raw.strip()
        assert resolution.candidates == ()
