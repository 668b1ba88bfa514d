"""The profile-page reader (FORMAT.md §1): facts of the real sample, one rule per test.

The real sample is `data/raw/2026-11-25/000_615cb040fee88da4.txt` (Yaxin Li, 22 papers). The
other pages are built here, a few lines each, so that each test shows the input it judges.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from flows.formats import read_dump
from flows.formats.profile_page import MAX_LINE_CHARS, read_profile_page
from flows.formats.records import PaperRecord, ParsedFile, Quarantine

SAMPLE_PATH: Final = (
    Path(__file__).resolve().parents[2] / "data" / "raw" / "2026-11-25" / "000_615cb040fee88da4.txt"
)
OWNER: Final = "Yaxin Li"
HEADER: Final = "Mei Tanaka\n\nh-index6\n2papers\n\n2 Papers\n"


def page(*blocks: str, header: str = HEADER) -> str:
    """A page: the header, then the blocks, each after one blank line."""
    return header + "".join("\n" + block.strip("\n") + "\n" for block in blocks)


def block(
    meta: str = "CLSep 14",
    title: str = "Prompt Sensitivity in Machine Translation",
    authors: str | None = "Mei Tanaka, Arjun Rao et al.",
    abstract: str | None = "We measure how prompt wording moves translation quality.",
) -> str:
    parts = [f"{meta}\n{title}"]
    parts += [authors] if authors is not None else []
    parts += [abstract] if abstract is not None else []
    return "\n\n".join(parts)


def read(text: str) -> ParsedFile:
    return read_dump(text.encode("utf-8"))


def only_paper(parsed: ParsedFile) -> PaperRecord:
    assert len(parsed.papers) == 1, parsed
    return parsed.papers[0]


def names(paper: PaperRecord) -> list[str]:
    return [mention.name for mention in paper.authors]


@pytest.fixture(scope="module")
def sample() -> ParsedFile:
    return read_dump(SAMPLE_PATH.read_bytes())


# The real sample.


def test_sample_has_22_papers_and_no_failures(sample: ParsedFile):
    assert len(sample.papers) == 22
    assert sample.failures == ()


def test_sample_lists_66_names_three_per_paper_all_truncated(sample: ParsedFile):
    assert sum(len(paper.authors) for paper in sample.papers) == 66
    assert all(len(paper.authors) == 3 and paper.authors_truncated for paper in sample.papers)


def test_sample_shows_34_distinct_names_including_the_owner(sample: ParsedFile):
    distinct = {name for paper in sample.papers for name in names(paper)}
    assert len(distinct) == 34
    assert OWNER in distinct


def test_sample_has_8_papers_whose_list_hides_the_owner(sample: ParsedFile):
    assert sum(OWNER not in names(paper) for paper in sample.papers) == 8


def test_sample_has_6_papers_with_code(sample: ParsedFile):
    assert sum(bool(paper.has_code) for paper in sample.papers) == 6


def test_sample_unipinrec_is_dated_may_29_without_a_year(sample: ParsedFile):
    (paper,) = [p for p in sample.papers if p.title.startswith("UniPinRec")]
    assert (paper.year, paper.month, paper.day, paper.date_text) == (None, 5, 29, "May 29")
    assert paper.affiliation == "stanford"


def test_sample_header_reports_the_sites_metrics(sample: ParsedFile):
    (profile,) = sample.profiles
    assert profile.display_name == OWNER
    assert profile.primary_category == "CV"
    assert profile.h_index == 16
    assert profile.n_papers_declared == 22
    assert profile.n_papers_listed == 22
    assert profile.n_citations == 1248
    assert profile.novelty_pct == 41
    assert profile.ai_score == 49


def test_sample_category_codes_are_the_seven_the_page_shows(sample: ParsedFile):
    codes = {paper.category_code for paper in sample.papers}
    assert codes == {"AI", "CL", "CV", "IR", "LG", "NE", "IV"}


def test_every_sample_record_line_points_at_its_line_in_the_file(sample: ParsedFile):
    lines = SAMPLE_PATH.read_text(encoding="utf-8").split("\n")
    assert lines[sample.profiles[0].line - 1] == OWNER
    for paper in sample.papers:
        meta = lines[paper.line - 1]
        assert meta.startswith(paper.category_code or "")
        assert paper.date_text in meta
        assert lines[paper.line] == paper.title


# Meta lines.


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ("IRMay 29", (None, "IR", None, 5, 29, False)),
        ("AIOct 10, 2023Code", (None, "AI", 2023, 10, 10, True)),
        ("84.3LGJun 3Code", (84.3, "LG", None, 6, 3, True)),
        ("MAMar 3", (None, "MA", None, 3, 3, False)),
        ("HEP-THJan 9, 2021", (None, "HEP-TH", 2021, 1, 9, False)),
        ("NEFeb 30, 2024", (None, "NE", 2024, 2, 30, False)),
    ],
)
def test_meta_line_gives_score_category_date_and_code(meta: str, expected: tuple):
    paper = only_paper(read(page(block(meta=meta))))
    got = (paper.score, paper.category_code, paper.year, paper.month, paper.day, paper.has_code)
    assert got == expected


def test_an_impossible_day_is_kept_as_the_page_shows_it():
    paper = only_paper(read(page(block(meta="CVFeb 30"))))
    assert (paper.month, paper.day, paper.date_text, paper.flags) == (2, 30, "Feb 30", ())


# Author lines.


def test_short_author_list_without_et_al_is_complete():
    paper = only_paper(read(page(block(authors="Arjun Rao, Mei Tanaka"))))
    assert names(paper) == ["Arjun Rao", "Mei Tanaka"]
    assert not paper.authors_truncated


@pytest.mark.parametrize("mark", ["et al.", "et al", "et. al.", "Et al.", "et al.,"])
def test_et_al_marks_a_truncated_list_in_its_usual_spellings(mark: str):
    paper = only_paper(read(page(block(authors=f"Arjun Rao, Mei Tanaka {mark}"))))
    assert names(paper) == ["Arjun Rao", "Mei Tanaka"]
    assert paper.authors_truncated


def test_a_name_that_reads_et_al_in_capitals_is_a_name():
    paper = only_paper(read(page(block(authors="Arjun Rao, Et Al"))))
    assert names(paper) == ["Arjun Rao", "Et Al"]
    assert not paper.authors_truncated


def test_affiliation_follows_a_middle_dot():
    paper = only_paper(read(page(block(authors="Arjun Rao, Mei Tanaka · Universität Zürich"))))
    assert names(paper) == ["Arjun Rao", "Mei Tanaka"]
    assert paper.affiliation == "Universität Zürich"


def test_a_middle_dot_inside_a_name_is_part_of_the_name():
    paper = only_paper(read(page(block(authors="买买提·艾力, Mei Tanaka et al. · tsinghua"))))
    assert names(paper) == ["买买提·艾力", "Mei Tanaka"]
    assert paper.affiliation == "tsinghua"


def test_stray_separators_give_names_without_empties_and_a_flag():
    paper = only_paper(read(page(block(authors="Arjun Rao, , Mei Tanaka,"))))
    assert names(paper) == ["Arjun Rao", "Mei Tanaka"]
    assert "stray_author_separator" in paper.flags


def test_names_starting_lower_case_are_kept_and_flagged_unusual():
    paper = only_paper(read(page(block(authors="danah boyd, Mei Tanaka"))))
    assert names(paper) == ["danah boyd", "Mei Tanaka"]
    assert paper.layout == "standard"
    assert "author_names_unusual" in paper.flags


def test_missing_author_line_keeps_the_paper_with_flag_authors_missing():
    paper = only_paper(read(page(block(title="Elastic Graph Neural Networks", authors=None))))
    assert paper.title == "Elastic Graph Neural Networks"
    assert paper.authors == ()
    assert paper.abstract == "We measure how prompt wording moves translation quality."
    assert "authors_missing" in paper.flags


# Titles, abstracts and layouts.


def test_title_on_two_lines_is_joined_and_flagged():
    text = page(block(title="Learning on Graphs with\nGraph Neural Networks"))
    paper = only_paper(read(text))
    assert paper.title == "Learning on Graphs with Graph Neural Networks"
    assert names(paper) == ["Mei Tanaka", "Arjun Rao"]
    assert paper.flags == ("title_on_several_lines",)


def test_author_line_right_under_the_title_is_found_without_a_blank_line():
    text = page("CLSep 14\nPrompt Sensitivity\nMei Tanaka, Arjun Rao et al.\n\nAn abstract.")
    paper = only_paper(read(text))
    assert (paper.title, paper.layout) == ("Prompt Sensitivity", "no_blank_before_authors")
    assert names(paper) == ["Mei Tanaka", "Arjun Rao"]


def test_missing_abstract_is_none():
    paper = only_paper(read(page(block(abstract=None))))
    assert paper.abstract is None
    assert paper.flags == ()


@pytest.mark.parametrize(
    ("line", "guessed"),
    [
        ("Elastic Graph Neural Networks  Xiaorui Liu, Wei Jin et al.", False),
        ("Elastic Graph Neural Networks\tXiaorui Liu, Wei Jin et al.", False),
        ("Elastic Graph Neural NetworksXiaorui Liu, Wei Jin et al.", True),
    ],
    ids=["two spaces", "tab", "glued"],
)
def test_compact_line_splits_into_title_and_authors(line: str, guessed: bool):
    paper = only_paper(read(page(f"LGJul 5, 2021Code\n{line}\n\nAn abstract.")))
    assert paper.title == "Elastic Graph Neural Networks"
    assert names(paper) == ["Xiaorui Liu", "Wei Jin"]
    assert paper.authors_truncated
    assert paper.layout == "compact"
    assert ("title_split_guessed" in paper.flags) is guessed
    assert paper.abstract == "An abstract."


def test_glued_compact_split_prefers_a_name_over_a_camel_case_title_word():
    line = "DeepRobust: Deep GraphNetsYaxin Li, Wei Jin et al. · msu"
    paper = only_paper(read(page(f"LGMay 13, 2020Code\n{line}")))
    assert paper.title == "DeepRobust: Deep GraphNets"
    assert names(paper) == ["Yaxin Li", "Wei Jin"]
    assert paper.affiliation == "msu"


def test_glued_single_name_without_et_al_is_too_ambiguous_to_split():
    # `ClusteringJane Smith` reads like `PyTorch Lightning`: a title may end in such words.
    paper = only_paper(read(page("LGMay 13, 2020\nA Note on Spectral ClusteringJane Smith")))
    assert paper.title == "A Note on Spectral ClusteringJane Smith"
    assert "authors_missing" in paper.flags


def test_abstract_that_looks_like_a_meta_line_stays_the_abstract():
    text = page(block(abstract="CVMay 2"), block(meta="LGJun 3", title="Second Paper"))
    first, second = read(text).papers
    assert first.abstract == "CVMay 2"
    assert (second.title, second.category_code, second.line) == ("Second Paper", "LG", 15)


# Block failures.


def test_meta_line_alone_at_the_end_is_a_failure_and_the_rest_still_loads():
    parsed = read(page(block(), "LGJun 3"))
    assert len(parsed.papers) == 1
    (failure,) = parsed.failures
    assert failure.line == 15
    assert failure.reason == "meta line without a title: the file ends after it"
    assert failure.text == "LGJun 3"


def test_block_that_lost_its_title_is_a_failure_not_part_of_the_previous_abstract():
    lost = "LGJun 3\n\nArjun Rao, Mei Tanaka\n\nAnother abstract."
    parsed = read(page(block(), lost, block(meta="CVMay 2", title="Third Paper")))
    assert [paper.title for paper in parsed.papers] == [
        "Prompt Sensitivity in Machine Translation",
        "Third Paper",
    ]
    assert parsed.papers[0].abstract == "We measure how prompt wording moves translation quality."
    (failure,) = parsed.failures
    assert failure.line == 15
    assert failure.reason == "meta line without a title: a blank line follows it"


def test_lost_blank_line_before_a_meta_line_does_not_glue_two_papers():
    text = page(block() + "\n" + block(meta="LGJun 3", title="Second Paper"))
    first, second = read(text).papers
    assert first.abstract == "We measure how prompt wording moves translation quality."
    assert (second.title, second.line) == ("Second Paper", 14)


def test_duplicated_blocks_are_both_read():
    parsed = read(page(block(), block()))
    first, second = parsed.papers
    assert first.title == second.title
    assert (first.line, second.line) == (8, 15)
    assert parsed.failures == ()


# Header.


def test_minimal_header_has_h_index_and_papers_and_nothing_else():
    (profile,) = read(page(block())).profiles
    assert (profile.h_index, profile.n_papers_declared, profile.n_papers_listed) == (6, 2, 2)
    assert profile.primary_category is None
    assert (profile.n_citations, profile.novelty_pct, profile.ai_score) == (None, None, None)


def test_header_lines_out_of_order_are_accepted():
    header = "Mei Tanaka\n\nAI Score49\n1,248citations\nh-index6\nCV\nNovelty41%\n2papers\n\n"
    header += "1 Papers\n"
    parsed = read(page(block(), header=header))
    (profile,) = parsed.profiles
    assert parsed.failures == ()
    assert (profile.primary_category, profile.h_index, profile.n_citations) == ("CV", 6, 1248)
    assert (profile.novelty_pct, profile.ai_score, profile.n_papers_listed) == (41, 49, 1)


def test_repeated_header_line_keeps_the_first_value_and_records_a_failure():
    header = "Mei Tanaka\n\nh-index6\nh-index7\n2papers\n\n2 Papers\n"
    parsed = read(page(block(), header=header))
    assert parsed.profiles[0].h_index == 6
    (failure,) = parsed.failures
    assert (failure.line, failure.text) == (4, "h-index7")
    assert failure.reason == "repeated h-index line (the first value is kept)"


@pytest.mark.parametrize(
    "line", ["h-index١٦", "h-index１６", "٢٢papers", "Novelty٤١%", "AI Score４９"]
)
def test_non_ascii_digits_in_a_header_number_are_a_failure_that_says_so(line: str):
    parsed = read(page(block(), header=f"Mei Tanaka\n\nh-index6\n2papers\n{line}\n\n1 Papers\n"))
    (failure,) = parsed.failures
    assert failure.line == 5
    assert "non-ASCII digits" in failure.reason


@pytest.mark.parametrize(
    "line", ["h-index", "h-index1.5", "1.2kcitations", "Novelty%", "AI Score-3"]
)
def test_malformed_header_number_is_a_failure_with_a_reason(line: str):
    parsed = read(page(block(), header=f"Mei Tanaka\n\nh-index6\n2papers\n{line}\n\n1 Papers\n"))
    (failure,) = parsed.failures
    assert failure.line == 5
    assert failure.reason.startswith("malformed ")


def test_header_number_with_thousands_of_digits_is_malformed_not_an_overflow():
    parsed = read(page(block(), header=f"Mei Tanaka\n\nh-index{'9' * 5000}\n2papers\n\n"))
    assert parsed.profiles[0].h_index is None
    assert parsed.failures[0].reason.startswith("malformed h-index line")


def test_unrecognised_header_line_is_a_failure():
    parsed = read(page(block(), header="Mei Tanaka\n\nh-index6\nFollow this author\n\n"))
    (failure,) = parsed.failures
    assert (failure.line, failure.reason) == (4, "unrecognised line before the first paper block")


# Whole-file rejection.


def test_page_without_display_name_is_quarantined():
    with pytest.raises(Quarantine, match="without a display name"):
        read("h-index6\n2papers\n\n" + block())


def test_text_that_is_not_a_profile_page_is_quarantined():
    with pytest.raises(Quarantine, match="not a profile page"):
        read("Dear colleagues,\n\nthe seminar moves to Thursday.\n")


def test_line_longer_than_the_limit_is_quarantined():
    with pytest.raises(Quarantine, match=f"line 8 is {MAX_LINE_CHARS + 1:,} characters"):
        read(page(block(meta="x" * (MAX_LINE_CHARS + 1))))


def test_leading_blank_lines_do_not_hide_the_page():
    parsed = read_profile_page("\n" * 100 + page(block()))
    assert parsed.profiles[0].line == 101
    assert parsed.papers[0].line == 108
