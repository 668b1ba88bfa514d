"""The batch reader (`flows.formats.profile_page_frames`) against the line-by-line reader.

Whatever a batch holds, the frames the read stage stores (`flows.landing.parse_contents`:
usual pages read together, the rest page by page) must equal the frames of the line-by-line
reader's records. Pages come from the layout strategies of `test_reader_properties`, corrupted
pages, page-like vocabulary, the bundled sample, the fixtures and the synthetic generator,
several to a batch, so a step that looked across a page boundary would show.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from flows.formats import read_dump
from flows.formats.frames import SCHEMAS, to_frames
from flows.formats.profile_page_frames import read_profile_pages
from flows.formats.records import ParsedFile, Quarantine
from flows.landing import parse_contents
from flows.synth import write_synthetic_profiles
from tests.formats.test_reader_properties import (
    OPTIONAL_HEADER,
    PAGE_LIKE_LINES,
    PARTICLES,
    Paper,
    affiliation_text,
    arabic_token,
    cjk_token,
    corrupted_lines,
    header_line,
    latin_word,
    metas,
    page_bytes_options,
    pages,
    render,
    sentence,
    title_text,
)

REPOSITORY: Final = Path(__file__).parents[2]
SAMPLE: Final = REPOSITORY / "data/raw/2026-11-25/000_615cb040fee88da4.txt"
FIXTURES: Final = REPOSITORY / "tests/fixtures"
# Each example reads a batch twice (both readers); fewer examples than the reader's own
# properties, each holding several pages.
SETTINGS: Final = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def contents_of(datas: Sequence[bytes]) -> list[tuple[str, bytes]]:
    """(sha256, bytes) of each distinct content, as the read stage hands them over."""
    found = {hashlib.sha256(data).hexdigest(): data for data in datas}
    return list(found.items())


def line_by_line(data: bytes) -> ParsedFile | Quarantine:
    try:
        return read_dump(data)
    except Quarantine as quarantine:
        return quarantine


def in_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in one order whatever the reader's: by every column that is not a list."""
    return frame.sort([name for name, dtype in frame.schema.items() if dtype != pl.List])


def assert_same_frames(contents: list[tuple[str, bytes]]) -> dict[str, pl.DataFrame]:
    batch = parse_contents(contents)
    expected = to_frames((sha256, line_by_line(data)) for sha256, data in contents)
    for name in SCHEMAS:
        try:
            assert_frame_equal(in_order(batch[name]), in_order(expected[name]))
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None
    return batch


def taken(contents: list[tuple[str, bytes]]) -> int:
    """How many of the contents the batch reader reads itself."""
    return len(contents) - len(read_profile_pages(contents)[1])


usual_page = st.builds(
    lambda page, options: render(page.lines, options), pages(), page_bytes_options
)
unix_page = pages().map(lambda page: "\n".join(page.lines).encode("utf-8"))
corrupted_page = corrupted_lines().map(lambda lines: "\n".join(lines).encode("utf-8"))
# Pages in the usual layout only, with names of letters (the batch reader's share of pages).
plain_name = st.one_of(
    st.tuples(
        latin_word,
        st.lists(st.sampled_from(PARTICLES), max_size=1),
        latin_word,
        st.lists(st.just("Jr."), max_size=1),
    ).map(lambda parts: " ".join([parts[0], *parts[1], parts[2], *parts[3]])),
    cjk_token,
    st.lists(arabic_token, min_size=2, max_size=3).map(" ".join),
)
usual_block = st.builds(
    Paper,
    meta=metas,
    title=title_text,
    names=st.lists(plain_name, min_size=1, max_size=3).map(tuple),
    truncated=st.booleans(),
    affiliation=st.none() | affiliation_text,
    abstract=st.none() | sentence | st.lists(sentence, min_size=2, max_size=3).map("\n\n".join),
    title_lines=st.just(()) | st.lists(title_text, min_size=2, max_size=3).map(tuple),
)


@st.composite
def usual_pages(draw: st.DrawFn) -> bytes:
    blocks = draw(st.lists(usual_block, min_size=1, max_size=4))
    header = {"h_index": draw(st.integers(0, 300))}
    for key, values in OPTIONAL_HEADER.items():
        if draw(st.booleans()):
            header[key] = draw(values)
    lines = [draw(plain_name), "", *(header_line(k, v) for k, v in header.items())]
    lines += ["", f"{len(blocks)} Papers"]
    for block in blocks:
        lines += ["", *block.lines()]
    return "\n".join(lines).encode("utf-8")


vocabulary_page = st.lists(PAGE_LIKE_LINES, max_size=40).map(
    lambda lines: "\n".join(lines).encode("utf-8")
)


@SETTINGS
@given(st.lists(usual_pages(), min_size=1, max_size=6))
def test_usual_pages_in_one_batch_are_read_there_with_the_line_by_line_frames(
    datas: list[bytes],
):
    contents = contents_of(datas)
    assert_same_frames(contents)
    assert taken(contents) > 0


@SETTINGS
@given(st.lists(st.one_of(unix_page, usual_page, usual_pages()), min_size=1, max_size=6))
def test_well_formed_pages_in_one_batch_give_the_line_by_line_frames(datas: list[bytes]):
    assert_same_frames(contents_of(datas))


@SETTINGS
@given(
    st.lists(
        st.one_of(
            usual_pages(),
            corrupted_page,
            vocabulary_page,
            st.text(max_size=300).map(str.encode),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_corrupted_and_odd_pages_mixed_with_good_ones_give_the_line_by_line_frames(
    datas: list[bytes],
):
    assert_same_frames(contents_of(datas))


def test_the_sample_is_read_in_the_batch_with_the_same_frames():
    contents = contents_of([SAMPLE.read_bytes()])
    assert taken(contents) == 1
    frames = assert_same_frames(contents)
    assert (frames["paper"].height, frames["mention"].height) == (22, 66)


def test_every_fixture_gives_the_line_by_line_frames_in_one_batch():
    datas = [
        path.read_bytes() for path in sorted(FIXTURES.rglob("*")) if path.suffix in (".txt", ".bin")
    ]
    contents = contents_of(datas)
    assert_same_frames(contents)
    # The plain fixtures are read in the batch; the variants, encodings and invalid files
    # by the line-by-line reader.
    assert 0 < taken(contents) < len(contents)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Ann Lee\n\nh-index 3\n\nLGJan 5, 2024\nA title\nAnn Lee, Bo Li\n", "no blank"),
        ("Ann Lee\r\n\r\nh-index 3\r\n\r\nLGJan 5, 2024\r\nA title\r\nAnn Lee\r\n", "CRLF"),
        ("\ufeffAnn Lee\n\nh-index 3\n\nLGJan 5, 2024\nA title\n\nAnn Lee, Bo Li\n", "BOM"),
        ("Ann Lee\n\nh-index 3\n\nLGJan 5, 2024\nA titleAnn Lee, Bo Li\n", "compact"),
        ("Ann Lee\n\nh-index 3\nh-index 4\n\nLGJan 5, 2024\nA title\n\nAnn Lee\n", "repeat"),
        ("Ann Lee\n\nh-index 3\n\nLGJan 5, 2024\n\nA title\n\nAnn Lee\n", "no title"),
        ("Ann Lee\n\nh-index 3\n\nLGJan 5, 2024\nA title\n\nann lee, bo li\n", "lower"),
        ("Ann Lee\n\nh-index 3\n\nLGJan 5, 2024\nA title\n\nAnn\u00a0Lee, Bo Li\n", "nbsp"),
        ("h-index 3\n\nLGJan 5, 2024\nA title\n\nAnn Lee\n", "no name"),
        ("Ann Lee\n\nh-index 3\n\nLGJan 5, 2024\nA ti\u00adtle\n\nAnn Lee\n", "soft hyphen"),
        # A letter Python's Unicode tables do not know yet (polars' do).
        ("Ann Lee\n\nh-index 3\n\nLGJan 5, 2024\nA title\n\nBo \U00031350et al.\n", "new"),
    ],
)
def test_a_page_outside_the_usual_layout_is_handed_back(text: str, why: str):
    contents = contents_of([text.encode("utf-8")])
    assert_same_frames(contents)
    assert taken(contents) == 0, why


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"Ann Lee\n\nh-index 3\n\nLGJan 5, 2024\nA ti\x01tle\n\nAnn Lee\n", "control"),
        (b"Ann Lee\n\nh-index 3\n\nLGJan 5, 2024\nA title\x7f\n\nAnn Lee\n", "delete"),
        (b"Ann L\xc3\xa9e\n\nh-index 3\n\nLGJan 5, 2024\nA t\x0btle\n\nAnn Lee\n", "vt"),
        # Not UTF-8, though its bytes above ASCII alone would be (an e-acute cut by an A).
        (b"Ann Lee\n\nh-index 3\n\nLGJan 5, 2024\nA ti\xc3A\xa9tle\n\nAnn Lee\n", "cut"),
        ("Ann Lee\n\nh-index 3\n\nLGJan 5, 2024\nA ti\u2028tle\n\nAnn Lee\n".encode(), "u2028"),
        ("Ann Lee\n\nh-index 3\n\nLGJan 5, 2024\nA title\n\nAnn\u200bLee\n".encode(), "zwsp"),
    ],
)
def test_a_page_with_a_character_outside_printable_text_is_handed_back(data: bytes, why: str):
    contents = contents_of([data])
    assert_same_frames(contents)
    assert taken(contents) == 0, why


def test_a_page_of_printable_letters_beyond_ascii_is_taken():
    text = "Ann Lée\n\nh-index 3\n\nLGJan 5, 2024\nÜber A title\n\nAnn Lée, 李明, Zoë Ng\n"
    contents = contents_of([text.encode("utf-8")])
    assert taken(contents) == 1
    frames = assert_same_frames(contents)
    assert frames["mention"]["name"].to_list() == ["Ann Lée", "李明", "Zoë Ng"]


def test_a_usual_page_is_taken_and_reads_as_the_line_by_line_reader_reads_it():
    text = (
        "Ann Lee\n\nCV\nh-index 3\n12 papers\n1,024 citations\nNovelty 40%\nAI Score 7\n\n"
        "2 Papers\n\n84.3LGJan 5, 2024Code\nA title\non two lines\n\nAnn Lee, Bo van Li et al. "
        "· Uni\n\nFirst paragraph\ngoes on.\n\nSecond.\n\nMAMar 3\nOther\n\nC. D. Jones Jr.\n"
    )
    contents = contents_of([text.encode("utf-8")])
    assert taken(contents) == 1
    frames = assert_same_frames(contents)
    first = frames["paper"].sort("paper_index").row(0, named=True)
    assert first["flags"] == ["title_on_several_lines", "abstract_on_several_paragraphs"]
    assert first["abstract"] == "First paragraph goes on.\nSecond."
    assert frames["profile"]["n_citations"].to_list() == [1024]


def test_author_lines_cut_at_their_first_dot_and_abstracts_of_neighbouring_blocks_apart():
    # Blocks with several abstract paragraphs next to each other and to blocks with one; an
    # author line cut at a tab before its dot, one with a second dot in its affiliation.
    blocks = [
        ("Ann Lee, Bo Li\t· Uni", "One.\n\nTwo."),
        ("Ann Lee · Uni · Town", "Three.\n\nFour.\n\nFive."),
        ("Ann Lee", "Six."),
        ("Ann Lee ·", "Seven.\n\nEight."),
    ]
    text = "Ann Lee\n\nh-index 3\n\n4 Papers\n" + "".join(
        f"\nLGJan {day}, 2024\nTitle {day}\n\n{authors}\n\n{abstract}\n"
        for day, (authors, abstract) in enumerate(blocks, start=1)
    )
    contents = contents_of([text.encode("utf-8")])
    assert taken(contents) == 1
    frames = assert_same_frames(contents)
    papers = frames["paper"].sort("paper_index")
    assert papers["abstract"].to_list() == [
        "One.\nTwo.",
        "Three.\nFour.\nFive.",
        "Six.",
        "Seven.\nEight.",
    ]
    assert papers["affiliation"].to_list() == ["Uni", "Uni · Town", None, None]
    several = ["abstract_on_several_paragraphs" in flags for flags in papers["flags"]]
    assert several == [True, True, False, True]
    names = frames["mention"].sort("paper_index", "position")
    assert names.filter(pl.col("paper_index") == 0)["name"].to_list() == ["Ann Lee", "Bo Li"]


def test_synthetic_pages_are_read_in_the_batch_with_the_same_frames(tmp_path: Path):
    write_synthetic_profiles(300, tmp_path, seed=3)
    datas = [path.read_bytes() for path in sorted(tmp_path.rglob("*.txt"))]
    contents = contents_of(datas)
    frames = assert_same_frames(contents)
    # The generator writes the usual layout mostly, and compact pages now and then: the
    # batch reader reads both.
    assert taken(contents) >= 0.9 * len(contents)
    layouts = frames["paper"].group_by("layout").len()
    assert set(layouts["layout"]) == {"standard", "compact"}


COMPACT_PAGE: Final = "Ann Lee\n\nh-index 3\n\n1 Papers\n\nLGJan 5, 2024\n{block}\n"


@pytest.mark.parametrize(
    ("block", "is_taken", "title", "layout"),
    [
        ("A title  Ann Lee, Bo Li\n\nIt works.", True, "A title", "compact"),
        ("A title\tAnn Lee et al.", True, "A title", "compact"),
        ("A title \t Ann Lee · Uni", True, "A title", "compact"),
        # One full name is enough at a certain cut; one one-word name is not.
        ("A title  Ann Lee\n\nIt works.", True, "A title", "compact"),
        ("A title  Lee\n\nIt works.", False, None, None),
        # Two wide spaces: the reader weighs the cuts (`_split_doubt`); handed back.
        ("A  title  Ann Lee, Bo Li", False, None, None),
        ("A  Title Words  Ann Lee, Bo Li", False, None, None),
        ("A title  Ann Lee, bo li", False, None, None),
        ("  A title", False, None, None),
        # The lines above the last are the title's.
        ("A long\ntitle  Ann Lee, Bo Li\n\nOne.\n\nTwo.", True, "A long title", "compact"),
        # An author line on its own comes first, even under a line with a wide space.
        ("A  title\n\nAnn Lee, Bo Li\n\nIt works.", True, "A  title", "standard"),
        (
            "A title  Ann Lee, Bo Li\n\nCarl Dee, Eve Fox",
            True,
            "A title  Ann Lee, Bo Li",
            "standard",
        ),
    ],
)
def test_a_compact_block_with_one_certain_cut_is_read_in_the_batch(
    block: str, is_taken: bool, title: str | None, layout: str | None
):
    contents = contents_of([COMPACT_PAGE.format(block=block).encode("utf-8")])
    frames = assert_same_frames(contents)
    assert taken(contents) == is_taken
    if is_taken:
        paper = frames["paper"].row(0, named=True)
        assert (paper["title"], paper["layout"]) == (title, layout)


def test_a_batch_the_batch_reader_fails_on_is_read_line_by_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    import flows.formats.profile_page_frames as batch_reader

    def failing(contents: Sequence[tuple[str, bytes]]) -> tuple[dict[str, pl.DataFrame], list[int]]:
        raise pl.exceptions.ComputeError("simulated failure")

    contents = contents_of(
        [SAMPLE.read_bytes(), b"", FIXTURES.joinpath("valid/compact_tab.txt").read_bytes()]
    )
    monkeypatch.setattr(batch_reader, "read_profile_pages", failing)
    frames = assert_same_frames(contents)
    assert frames["parsed_file"].height == 3
    assert "batch reader failed (simulated failure)" in caplog.text
