"""Properties of `read_dump` on profile pages, checked with hypothesis.

For any input the reader returns a `ParsedFile` or raises `Quarantine`, never anything else;
the same bytes give the same records; every failure carries a reason and a line of the file.
Pages built from the layout of FORMAT.md §1 (random header lines and blocks in every variant
the site shows, names in many scripts, markup in titles) are read back exactly; corrupted
pages (lines dropped, repeated, swapped, blank lines inserted, tail cut) still only yield
records and failures. Pathological files finish in bounded time.
"""

from __future__ import annotations

import codecs
import re
import time
from dataclasses import dataclass, field
from typing import Final

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flows.formats import read_dump
from flows.formats.decode import decode_text, split_lines
from flows.formats.records import ParsedFile, Quarantine

SETTINGS: Final = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
MONTHS_ALL: Final = (
    *("Jan", "Feb", "Mar", "Apr", "May", "Jun"),
    *("Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
)
# The meta line as FORMAT.md §1 states it, to keep generated text from looking like one.
META_LIKE: Final = re.compile(
    r"(?:[0-9]+(?:\.[0-9]+)?)?[A-Z-]*(?:" + "|".join(MONTHS_ALL) + r") [0-9]{1,2}(?:, [0-9]{4})?"
    r"(?:Code)?"
)


def read_or_quarantine(data: bytes) -> ParsedFile | Quarantine:
    """The reader's answer: records, or the Quarantine raised. Anything else propagates."""
    try:
        return read_dump(data)
    except Quarantine as quarantine:
        return quarantine


def check_total_and_deterministic(data: bytes) -> ParsedFile | None:
    """The reader's contract on any input; returns the records when there are some."""
    first = read_or_quarantine(data)
    second = read_or_quarantine(data)
    if isinstance(first, Quarantine):
        assert isinstance(second, Quarantine)
        assert first.reason and first.reason == second.reason
        return None
    assert first == second
    if first.format == "scholarfeed_profile":
        check_lines_point_into_the_file(first, split_lines(decode_text(data)))
    return first


def check_lines_point_into_the_file(parsed: ParsedFile, lines: list[str]) -> None:
    for failure in parsed.failures:
        assert failure.reason.strip()
        assert 1 <= failure.line <= len(lines)
    (profile,) = parsed.profiles
    assert lines[profile.line - 1].strip() == profile.display_name
    for paper in parsed.papers:
        assert 1 <= paper.line <= len(lines)
        assert paper.date_text is not None
        assert paper.date_text in lines[paper.line - 1]
        assert paper.title.strip()


# Arbitrary input.


@SETTINGS
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_give_records_or_quarantine_never_another_exception(data: bytes):
    check_total_and_deterministic(data)


@SETTINGS
@given(st.text(max_size=2000))
def test_arbitrary_text_gives_records_or_quarantine_never_another_exception(text: str):
    check_total_and_deterministic(text.encode("utf-8"))


PAGE_LIKE_LINES: Final = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "Yaxin Li",
            "CV",
            "h-index16",
            "h-index",
            "h-index١٦",
            "22papers",
            "1,248citations",
            "Novelty41%",
            "AI Score49",
            "22 Papers",
            "IRMay 29",
            "84.3LGJun 3Code",
            "MAMar 3",
            "AIOct 10, 2023Code",
            "Elastic Graph Neural Networks",
            "Elastic Graph Neural NetworksXiaorui Liu, Wei Jin et al.",
            "Hanyu Li, Yi-Ping Hsu, Aditya Mantha et al. · stanford",
            "A, , B,",
            "et al.",
            " · ",
            "We propose a method.",
        ]
    ),
    st.text(max_size=40),
)


@SETTINGS
@given(st.lists(PAGE_LIKE_LINES, max_size=60), st.sampled_from(["\n", "\r\n", "\r"]))
def test_lines_from_page_vocabulary_give_records_or_quarantine(lines: list[str], end: str):
    check_total_and_deterministic(end.join(lines).encode("utf-8"))


# Well-formed pages.

SYLLABLES: Final = (
    *("li", "an", "ma", "ro", "ke", "sa", "to", "ni", "ya", "xin", "wei", "jo", "se", "lu"),
    *("ci", "mé", "rø", "ñe", "gü", "ça", "łu", "ő", "ka", "mi", "ren", "dó", "fa", "hu"),
)
ZERO_WIDTH: Final = ("\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060")
PARTICLES: Final = ("van", "de", "de la", "van der", "bin", "al", "von", "y")

latin_word = st.lists(st.sampled_from(SYLLABLES), min_size=1, max_size=3).map(
    lambda parts: "".join(parts).capitalize()
)
latin_token = st.one_of(
    latin_word,
    st.tuples(latin_word, st.sampled_from(["-", *ZERO_WIDTH]), latin_word).map("".join),
    # Capitals inside a name: McDonald, LeCun, O'Brien.
    st.tuples(st.sampled_from(["Mc", "Mac", "Le", "De", "Van", "O'", "D'"]), latin_word).map(
        "".join
    ),
)
# Name characters of other scripts, drawn from short lists: cheap to generate, many shapes.
CJK: Final = "李王张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗雅欣琦伟芳娜敏静丽强磊军洋勇艳杰涛明超秀"
ARABIC: Final = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
HEBREW: Final = "אבגדהוזחטיכלמנסעפצקרשת"


def script_word(letters: str, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(letters), min_size=min_size, max_size=max_size).map("".join)


cjk_token = script_word(CJK, 1, 3)
arabic_token = script_word(ARABIC, 2, 6)
hebrew_token = script_word(HEBREW, 2, 6)


INITIALS: Final = st.lists(
    st.sampled_from("ABCJKMRSW").map(lambda letter: f"{letter}."), max_size=1
)
latin_name = st.tuples(
    latin_token,
    INITIALS,
    st.lists(st.sampled_from(PARTICLES), max_size=1),
    latin_token,
    st.lists(st.just("Jr."), max_size=1),
).map(lambda parts: " ".join([parts[0], *parts[1], *parts[2], parts[3], *parts[4]]))
person_name = st.one_of(
    latin_name,
    latin_name,
    cjk_token,
    st.tuples(cjk_token, cjk_token).map("·".join),
    st.lists(arabic_token, min_size=2, max_size=3).map(" ".join),
    st.lists(hebrew_token, min_size=2, max_size=2).map(" ".join),
)
ascii_capital_name = latin_name.filter(lambda name: name[0].isascii())

TITLE_WORDS: Final = (
    *("Learning", "Graph", "Neural", "Networks", "for", "of", "the", "Robust", "via", "a"),
    *("Attention", "Diffusion", "Models", "Survey", "Towards", "Efficient", "3D", "GPT-4"),
    *("$L_p$", r"$\mathcal{O}(n \log n)$", "<b>Bold</b>", "&amp;", "Q&A", "<script>x</script>"),
    *("'; DROP TABLE papers; --", "Robert'); DROP TABLE students;--", "SELECT * FROM t;"),
    *("Étude", "Über", "学习", "تعلم", "למידה", "(Extended", "Abstract)", "—", "Text-to-Image"),
    *("PyTorch", "GraphNets", "DeepRobust:", "e.g.", "vs.", "C++", "100%", "naïve", "x²", "🙂"),
    *("Jun", "Code", "et al.", "·", "h-index", "Papers"),
)
title_text = (
    st.lists(st.sampled_from(TITLE_WORDS), min_size=1, max_size=8)
    .map(" ".join)
    .filter(lambda title: not META_LIKE.fullmatch(title))
)
sentence = st.tuples(
    st.sampled_from(["We show", "This paper studies", "Results on"]),
    st.lists(st.sampled_from(TITLE_WORDS), min_size=1, max_size=16).map(" ".join),
).map(lambda parts: " ".join(parts) + ".")
affiliation_text = st.lists(
    st.sampled_from(
        ["stanford", "MIT", "Universität Zürich", "清华大学", "Carnegie Mellon", "msu"]
    ),
    min_size=1,
    max_size=3,
).map(", ".join)


@dataclass(frozen=True)
class Meta:
    """The facts of a meta line."""

    score: str | None
    category: str
    month: int
    day: int
    year: int | None
    has_code: bool

    @property
    def line(self) -> str:
        date = f"{MONTHS_ALL[self.month - 1]} {self.day}" + (f", {self.year}" if self.year else "")
        return (self.score or "") + self.category + date + ("Code" if self.has_code else "")


MONTH_DAY: Final = st.one_of(
    st.tuples(st.integers(1, 12), st.integers(1, 31)),
    st.sampled_from([(2, 28), (2, 29), (2, 30), (2, 31)]),
)
metas = st.tuples(
    st.none() | st.floats(0, 999.9).map(lambda s: f"{s:.1f}") | st.integers(0, 999).map(str),
    st.one_of(
        st.sampled_from(["CV", "LG", "IR", "AI", "NE", "CL", "DB", "IV", "MA", "DS", "GT"]),
        st.tuples(
            st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=4),
            st.sampled_from(["", "-TH", "-PH"]),
        ).map("".join),
    ),
    MONTH_DAY,
    st.none() | st.integers(1990, 2030),
    st.booleans(),
).map(lambda m: Meta(m[0], m[1], m[2][0], m[2][1], m[3], m[4]))


@dataclass(frozen=True)
class Paper:
    """What a generated block shows, as the reader should return it."""

    meta: Meta
    title: str
    names: tuple[str, ...]
    truncated: bool
    affiliation: str | None
    abstract: str | None
    layout: str = "standard"
    title_lines: tuple[str, ...] = field(default=())

    @property
    def author_line(self) -> str:
        line = ", ".join(self.names) + (" et al." if self.truncated else "")
        return line + (f" · {self.affiliation}" if self.affiliation else "")

    def lines(self) -> list[str]:
        """The block's lines, without the blank line that separates blocks."""
        separator = {"two spaces": "  ", "tab": "\t", "glued": ""}.get(self.layout)
        if separator is not None:
            lines = [self.meta.line, self.title + separator + self.author_line]
        else:
            lines = [self.meta.line, *(self.title_lines or (self.title,)), "", self.author_line]
        return lines + (["", self.abstract] if self.abstract is not None else [])


LAYOUTS: Final = st.sampled_from(["standard", "standard", "two spaces", "tab", "glued"])
GLUED_TITLE_END: Final = st.sampled_from(["networks", "models", "learning"])
ABSTRACT: Final = st.none() | sentence
# Only a block with another after it can have an abstract that looks like a meta line.
ABSTRACT_NOT_LAST: Final = ABSTRACT | metas.map(lambda meta: meta.line)


@st.composite
def papers(draw: st.DrawFn, last: bool) -> Paper:
    layout = draw(LAYOUTS)
    title = draw(title_text)
    names = draw(st.lists(person_name, min_size=1, max_size=3))
    truncated = draw(st.booleans())
    affiliation = draw(st.none() | affiliation_text)
    title_lines: tuple[str, ...] = ()
    if layout == "glued":
        # A glued split needs a lower-case end to the title, a capital start to the first
        # name, and a list that looks like one (FORMAT.md §1 shows `...NetworksXiaorui Liu`).
        title = title + " " + draw(GLUED_TITLE_END)
        names = [draw(ascii_capital_name), *names]
    elif layout == "standard" and " " in title and draw(st.booleans()):
        words = title.split(" ")
        cut = draw(st.integers(1, 100)) % (len(words) - 1) + 1
        title_lines = (" ".join(words[:cut]), " ".join(words[cut:]))
    elif layout in ("two spaces", "tab") and len(names) == 1 and " " not in names[0]:
        truncated = True  # one one-word name alone is not enough to call a split certain
    return Paper(
        meta=draw(metas),
        title=title,
        names=tuple(names),
        truncated=truncated,
        affiliation=affiliation,
        abstract=draw(ABSTRACT if last else ABSTRACT_NOT_LAST),
        layout=layout,
        title_lines=title_lines,
    )


PAPER: Final = papers(last=False)
LAST_PAPER: Final = papers(last=True)
OPTIONAL_HEADER: Final = {
    "primary_category": st.sampled_from(["CV", "LG", "MA", "HEP-TH"]),
    "n_citations": st.integers(0, 10**9),
    "novelty_pct": st.integers(0, 100),
    "ai_score": st.integers(0, 100),
}


@dataclass(frozen=True)
class Page:
    """A generated page: its lines and what the reader should find in them."""

    name: str
    header: dict[str, int | str]
    papers: tuple[Paper, ...]
    lines: tuple[str, ...]
    meta_lines: tuple[int, ...]


@st.composite
def pages(draw: st.DrawFn) -> Page:
    name = draw(person_name)
    blocks = [*draw(st.lists(PAPER, max_size=3)), draw(LAST_PAPER)]
    header: dict[str, int | str] = {
        "h_index": draw(st.integers(0, 300)),
        "n_papers_declared": draw(st.integers(0, 20_000)),
    }
    for key, values in OPTIONAL_HEADER.items():
        if draw(st.booleans()):
            header[key] = draw(values)
    header_lines = [header_line(key, value) for key, value in header.items()]
    order = draw(st.lists(st.integers(0, 9), min_size=6, max_size=6))
    header_lines = [line for _, line in sorted(zip(order, header_lines, strict=False))]
    lines = [name, "", *header_lines, "", f"{len(blocks)} Papers"]
    meta_lines = []
    for paper in blocks:
        lines.append("")
        meta_lines.append(len(lines) + 1)
        lines += paper.lines()
    return Page(name, header, tuple(blocks), tuple(lines), tuple(meta_lines))


def header_line(key: str, value: int | str) -> str:
    formats = {
        "primary_category": "{}",
        "h_index": "h-index{}",
        "n_papers_declared": "{}papers",
        "n_citations": "{:,}citations",
        "novelty_pct": "Novelty{}%",
        "ai_score": "AI Score{}",
    }
    return formats[key].format(value)


ENCODINGS: Final = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 bom": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16-le bom": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be bom": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
}
page_bytes_options = st.tuples(
    st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from(sorted(ENCODINGS)), st.booleans()
)


def render(lines: tuple[str, ...] | list[str], options: tuple[str, str, bool]) -> bytes:
    end, encoding, final_line_end = options
    return ENCODINGS[encoding](end.join(lines) + (end if final_line_end else ""))


@SETTINGS
@given(pages(), page_bytes_options)
def test_well_formed_page_reads_back_exactly_what_it_shows(page: Page, options):
    parsed = check_total_and_deterministic(render(page.lines, options))
    assert parsed is not None
    assert parsed.failures == ()
    (profile,) = parsed.profiles
    assert (profile.display_name, profile.line) == (page.name, 1)
    for key, value in page.header.items():
        assert getattr(profile, key) == value, key
    assert profile.n_papers_listed == len(page.papers)
    assert len(parsed.papers) == len(page.papers)
    for paper, shown, line in zip(parsed.papers, page.papers, page.meta_lines, strict=True):
        assert paper.line == line
        assert paper.title == shown.title
        meta = shown.meta
        assert paper.category_code == meta.category
        assert (paper.year, paper.month, paper.day) == (meta.year, meta.month, meta.day)
        assert paper.score == (float(meta.score) if meta.score else None)
        assert paper.has_code is meta.has_code
        assert tuple(mention.name for mention in paper.authors) == shown.names
        assert [mention.position for mention in paper.authors] == list(
            range(1, len(shown.names) + 1)
        )
        assert paper.authors_truncated is shown.truncated
        assert paper.affiliation == shown.affiliation
        assert paper.abstract == shown.abstract
        assert "authors_missing" not in paper.flags


# Corrupted pages.


@st.composite
def corrupted_lines(draw: st.DrawFn) -> list[str]:
    lines = list(draw(pages()).lines)
    for _ in range(draw(st.integers(1, 6))):
        operation = draw(st.sampled_from(["drop", "repeat", "swap", "blank", "cut", "join"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if operation == "drop":
            del lines[i]
        elif operation == "repeat":
            lines.insert(i, lines[i])
        elif operation == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif operation == "blank":
            lines[i:i] = [""] * draw(st.integers(1, 3))
        elif operation == "cut":
            text = "\n".join(lines)
            lines = text[: draw(st.integers(0, len(text)))].split("\n")
        elif i + 1 < len(lines):
            lines[i : i + 2] = [lines[i] + lines[i + 1]]
    return lines


@SETTINGS
@given(corrupted_lines(), page_bytes_options)
def test_corrupted_page_gives_records_and_failures_or_quarantine(lines: list[str], options):
    check_total_and_deterministic(render(lines, options))


@SETTINGS
@given(pages(), st.data())
def test_a_lost_blank_line_before_a_block_loses_no_paper(page: Page, data: st.DataObject):
    # Without the blank line before a block, the block still opens at its meta line. (After an
    # abstract that looks like a meta line, the page would read as a repeated meta line.)
    k = data.draw(st.integers(0, len(page.papers) - 1))
    before = page.papers[k - 1].abstract if k else None
    assume(before is None or not META_LIKE.fullmatch(before))
    i = page.meta_lines[k] - 2
    lines = page.lines[:i] + page.lines[i + 1 :]
    parsed = check_total_and_deterministic("\n".join(lines).encode("utf-8"))
    assert parsed is not None
    assert parsed.failures == ()
    assert [paper.title for paper in parsed.papers] == [paper.title for paper in page.papers]


# Pathological inputs: linear time, not a benchmark.

TIME_LIMIT_SECONDS: Final = 10.0
HEADER: Final = "Yaxin Li\n\nh-index16\n22papers\n\n22 Papers\n\n"
BLOCK: Final = "IRMay 29\nUniPinRec\n\nHanyu Li, Yi-Ping Hsu et al.\n\nAn abstract.\n\n"
PATHOLOGICAL: Final = {
    "20 MB single line": lambda: b"a" * 20_000_000,
    "20 MB single line of spaces and words": lambda: b"h-index1 " * 2_300_000,
    "100k blank lines before a page": lambda: ("\n" * 100_000 + HEADER + BLOCK).encode(),
    "100k blank lines inside a page": lambda: (HEADER + BLOCK + "\n" * 100_000 + BLOCK).encode(),
    "50k meta lines": lambda: (HEADER + "IRMay 29\n" * 50_000).encode(),
    "50k meta lines between blank lines": lambda: (HEADER + "IRMay 29\n\n" * 50_000).encode(),
    "50k meta lines without a header": lambda: ("IRMay 29\n" * 50_000).encode(),
    "1 MB author line of commas": lambda: (HEADER + "IRMay 29\nT\n\n" + "," * 1_000_000).encode(),
    "99k author line of commas": lambda: (HEADER + "IRMay 29\nT\n\n" + ", " * 49_000).encode(),
    "99k compact line of words": lambda: (HEADER + "IRMay 29\n" + "Ab " * 33_000).encode(),
    "99k compact line of glued words": lambda: (HEADER + "IRMay 29\n" + "aB" * 49_000).encode(),
    "99k line of spaces and a dot": lambda: (HEADER + "IRMay 29\nT" + " " * 98_000 + "·").encode(),
    "99k header line of digits": lambda: ("Yaxin Li\n\n" + "9" * 99_000 + "papers\n").encode(),
    "2k blocks missing authors": lambda: (
        HEADER + ("IRMay 29\n" + "Ab " * 600 + "\n\n") * 2_000
    ).encode(),
}


@pytest.mark.parametrize("make", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_input_finishes_in_bounded_time(make):
    data = make()
    started = time.perf_counter()
    read_or_quarantine(data)
    assert time.perf_counter() - started < TIME_LIMIT_SECONDS
