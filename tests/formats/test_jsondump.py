"""JSON and JSON Lines dumps: shape detection by content, line tracking, failures, quarantine."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.formats.jsondump import read_json_dump
from flows.formats.records import ParsedFile, Quarantine

# Every file in realdata, by pattern: the format it must be read as, or the start of the
# quarantine reason, and how many files the pattern must match.
DETECTION = [
    ("google_scholar/gs_data_*.json", "google_scholar_author", 4),
    ("google_scholar/*.html", "json: invalid JSON at line 1 column 1", 1),
    ("openalex/bibliometrix/*.csv", "json: invalid JSON at line 1", 1),
    ("openalex/mearman_ego/authors/*.json", "openalex_author", 29),
    ("openalex/mearman_ego/authors_search_*.json", "openalex_list", 1),
    ("openalex/mearman_ego/works_filter_*.json", "openalex_list", 1),
    ("openalex/openalex_python_fixtures/A*.json", "openalex_author", 3),
    ("openalex/openalex_python_fixtures/W*.json", "openalex_work", 2),
    ("openalex/works/*.json", "openalex_work", 11),
    ("scholarfeed/*.json", "json: not a recognised OpenAlex, Semantic Scholar", 1),
    ("semantic_scholar/Author.json", "semantic_scholar_author", 1),
    ("semantic_scholar/Paper*.json", "semantic_scholar_paper", 2),
    # vcrpy cassettes are YAML: their bodies are tested in test_semantic_scholar.py.
    ("semantic_scholar/*.yaml", "json: invalid JSON at line 1 column 1", 6),
    ("SOURCES.md", "json: invalid JSON at line 1 column 1", 1),
]

MEARMAN = "openalex/mearman_ego/authors/A5017898742.json"
MEARMAN_WORKS = (
    "openalex/mearman_ego/works_filter_authorships.author.id_A5017898742_per_page50.json"
)
GOOGLE = "google_scholar/gs_data_{}.json"

# (who, profile file, file of their papers or None when the profile file lists them,
#  h-index and i10-index the source reports; i10 None where the source reports none)
REPORTED_METRICS = [
    ("A. Turing (Semantic Scholar)", "semantic_scholar/Author.json", None, 23, None),
    ("Kaiming He", GOOGLE.format("Kaiming_He_acad-homepage-template"), None, 68, 72),
    ("Rongjie Huang", GOOGLE.format("Rongjie_Huang"), None, 22, 35),
    ("Sizhe Chen", GOOGLE.format("Sizhe_Chen"), None, 10, 10),
    ("Yu Zhang", GOOGLE.format("Yu_Zhang_AaronZ345"), None, 8, 7),
    ("Joseph Mearman (OpenAlex)", MEARMAN, MEARMAN_WORKS, 2, 2),
]


def h_index(counts: Iterable[int | None]) -> int:
    """Largest h such that h papers have at least h citations (unknown counts left out)."""
    ranked = sorted((count for count in counts if count is not None), reverse=True)
    return sum(1 for rank, count in enumerate(ranked, start=1) if count >= rank)


def i10_index(counts: Iterable[int | None]) -> int:
    """Papers with at least 10 citations."""
    return sum(1 for count in counts if count is not None and count >= 10)


def _read(realdata: Path, relative: str) -> ParsedFile:
    return read_json_dump((realdata / relative).read_text(encoding="utf-8"))


def _compact(realdata: Path, relative: str) -> str:
    return json.dumps(json.loads((realdata / relative).read_text(encoding="utf-8")))


def _outcome(path: Path) -> str:
    try:
        return read_json_dump(path.read_text(encoding="utf-8")).format
    except Quarantine as quarantine:
        return quarantine.reason


def test_every_realdata_file_has_exactly_one_expected_shape(realdata):
    files = [path for path in realdata.rglob("*") if path.is_file()]
    for path in files:
        matching = [row for row in DETECTION if path.relative_to(realdata).match(row[0])]
        assert len(matching) == 1, path


@pytest.mark.parametrize(("pattern", "expected", "n_files"), DETECTION)
def test_realdata_shapes_are_detected_from_content(realdata, pattern, expected, n_files):
    paths = sorted(realdata.glob(pattern))
    assert len(paths) == n_files
    for path in paths:
        assert _outcome(path).startswith(expected), path


@pytest.mark.parametrize(
    ("who", "profile_file", "papers_file", "h_reported", "i10_reported"),
    REPORTED_METRICS,
    ids=[row[0] for row in REPORTED_METRICS],
)
def test_h_index_computed_from_per_paper_counts_equals_the_reported_one(
    realdata, who, profile_file, papers_file, h_reported, i10_reported
):
    parsed = _read(realdata, profile_file)
    (profile,) = parsed.profiles
    papers = list(parsed.papers)
    if papers_file is not None:
        papers += _read(realdata, papers_file).papers
    counts = [paper.n_citations for paper in papers]
    assert None not in counts
    assert profile.h_index == h_reported
    assert h_index(counts) == profile.h_index
    assert profile.i10_index == i10_reported
    if i10_reported is not None:
        assert i10_index(counts) == profile.i10_index


def test_h_index_helper_follows_the_definition():
    assert h_index([]) == 0
    assert h_index([0, 0]) == 0
    assert h_index([10, 8, 5, 4, 3]) == 4
    assert h_index([25, 8, 5, 3, 3]) == 3
    assert h_index([1, None, 1]) == 1


def test_snapshot_json_lines_keep_each_objects_line(realdata):
    works = json.loads((realdata / MEARMAN_WORKS).read_text(encoding="utf-8"))["results"]
    lines = [_compact(realdata, MEARMAN), ""] + [json.dumps(work) for work in works]
    parsed = read_json_dump("\n".join(lines) + "\n")
    assert parsed.format == "openalex_jsonl"
    assert [profile.line for profile in parsed.profiles] == [1]
    assert [paper.line for paper in parsed.papers] == list(range(3, 3 + len(works)))
    assert [paper.source_paper_id for paper in parsed.papers] == [
        work["id"].removeprefix("https://openalex.org/") for work in works
    ]
    assert parsed.failures == ()
    assert read_json_dump("\r\n".join(lines)) == parsed


def test_bad_json_lines_fail_alone_with_their_line_numbers(realdata):
    lines = [
        _compact(realdata, MEARMAN),
        '{"id": "https://openalex.org/W1", "title": ',
        "",
        "[1, 2]",
        '{"hello": "world"}',
        _compact(realdata, "openalex/works/W2741809807.json"),
    ]
    parsed = read_json_dump("\n".join(lines))
    assert [profile.line for profile in parsed.profiles] == [1]
    assert [paper.line for paper in parsed.papers] == [6]
    assert [(failure.line, failure.reason) for failure in parsed.failures] == [
        (2, "invalid JSON at column 44: Expecting value"),
        (4, "not a JSON object (an array of 2 items)"),
        (
            5,
            "not a recognised OpenAlex, Semantic Scholar or Google Scholar shape (keys: hello)",
        ),
    ]
    assert parsed.failures[0].text == lines[1]


def test_json_lines_with_a_broken_first_line_are_still_json_lines(realdata):
    lines = [
        '{"id": "https://openalex.org/A1", "display_',
        _compact(realdata, MEARMAN),
        _compact(realdata, "openalex/works/W3209445140.json"),
    ]
    parsed = read_json_dump("\n".join(lines))
    assert parsed.format == "openalex_jsonl"
    assert [failure.line for failure in parsed.failures] == [1]
    assert (len(parsed.profiles), len(parsed.papers)) == (1, 1)


def test_mixed_json_lines_number_each_profiles_papers_correctly(realdata):
    lines = [
        _compact(realdata, MEARMAN),
        _compact(realdata, "semantic_scholar/Author.json"),
        _compact(realdata, GOOGLE.format("Sizhe_Chen")),
    ]
    parsed = read_json_dump("\n".join(lines))
    assert parsed.format == "mixed_jsonl"
    assert [profile.source for profile in parsed.profiles] == [
        "openalex",
        "semantic_scholar",
        "google_scholar",
    ]
    by_source = {paper.source: paper.profile_index for paper in parsed.papers}
    assert by_source == {"semantic_scholar": 1, "google_scholar": 2}
    assert {paper.line for paper in parsed.papers if paper.source == "google_scholar"} == {3}


def test_json_lines_with_no_readable_line_are_quarantined():
    with pytest.raises(Quarantine) as caught:
        read_json_dump('{"a": 1}\n{"b": 2}\n')
    assert caught.value.reason == (
        "json: JSON Lines, but no line could be read (line 1: not a recognised OpenAlex,"
        " Semantic Scholar or Google Scholar shape (keys: a))"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            '{"a": 1, "b": 2, "c": 3}',
            "json: not a recognised OpenAlex, Semantic Scholar or Google Scholar shape"
            " (top-level keys: a, b, c)",
        ),
        ('{"a": 1,\n  "b": }', "json: invalid JSON at line 2 column 8: Expecting value"),
        ("id,title\n1,x\n", "json: invalid JSON at line 1 column 1: Expecting value"),
        ("", "json: empty document"),
        ("  \n", "json: empty document"),
        ("[]", "json: an empty array, nothing to read"),
        (
            "42",
            "json: not a recognised OpenAlex, Semantic Scholar or Google Scholar shape"
            " (top-level: a number)",
        ),
        (
            "{}",
            "json: not a recognised OpenAlex, Semantic Scholar or Google Scholar shape"
            " (top-level keys: none, an empty object)",
        ),
        (
            '{"id": "https://openalex.org/A1"}',
            "json: openalex author: openalex author A1 has no display_name",
        ),
        (
            '{"meta": {}, "results": [{"id": "https://openalex.org/I1"}]}',
            "json: no item of the openalex list could be read (first: openalex list item 0:"
            " not a recognised OpenAlex, Semantic Scholar or Google Scholar shape (keys: id))",
        ),
        ("[" * 100_000, "json: cannot be read: nested too deeply"),
    ],
)
def test_unreadable_documents_are_quarantined_with_a_specific_reason(text, reason):
    with pytest.raises(Quarantine) as caught:
        read_json_dump(text)
    assert caught.value.reason == reason


def test_an_item_of_a_list_fails_alone():
    parsed = read_json_dump(
        json.dumps(
            {
                "meta": {"count": 2},
                "results": [
                    {"id": "https://openalex.org/W1", "title": "Kept"},
                    {"id": "https://openalex.org/A2"},
                ],
            }
        )
    )
    assert [paper.title for paper in parsed.papers] == ["Kept"]
    (failure,) = parsed.failures
    assert failure.line == 1
    assert (
        failure.reason
        == "openalex list item 1: openalex author: openalex author A2 has no display_name"
    )
    assert json.loads(failure.text) == {"id": "https://openalex.org/A2"}


def test_an_empty_list_response_is_read_as_nothing():
    parsed = read_json_dump('{"meta": {"count": 0}, "results": []}')
    assert parsed == ParsedFile(format="openalex_list")


def test_batch_array_skips_the_nulls_semantic_scholar_returns_for_unknown_ids():
    parsed = read_json_dump(
        '[{"authorId": "1", "name": "A"}, null, {"authorId": "2", "name": "B"}]'
    )
    assert parsed.format == "semantic_scholar_list"
    assert [profile.display_name for profile in parsed.profiles] == ["A", "B"]
    assert parsed.failures == ()


def test_a_byte_order_mark_is_ignored(realdata):
    text = (realdata / MEARMAN).read_text(encoding="utf-8")
    assert read_json_dump("\ufeff" + text) == read_json_dump(text)


def test_layout_does_not_change_what_is_read(realdata):
    raw = json.loads((realdata / GOOGLE.format("Yu_Zhang_AaronZ345")).read_text(encoding="utf-8"))
    pretty = json.dumps(raw, indent=2)
    compact = json.dumps(raw, separators=(",", ":"))
    assert read_json_dump(pretty) == read_json_dump(compact)


# Keys of the shapes the readers know, so generated objects reach deep into the readers.
_KEYS = st.sampled_from(
    [
        "id", "display_name", "title", "authorships", "author", "summary_stats", "h_index",
        "i10_index", "results", "meta", "paperId", "authorId", "name", "papers", "authors",
        "citations", "references", "data", "offset", "next", "container_type", "scholar_id",
        "publications", "bib", "pub_year", "num_citations", "hindex", "cited_by_count",
        "citationCount", "publication_date", "publication_year", "year", "publicationDate",
        "externalIds", "DOI", "ArXiv", "topics", "primary_topic", "fieldsOfStudy", "ids", "doi",
        "updated_date", "updated", "abstract_inverted_index", "last_known_institutions",
        "last_known_institution", "orcid", "is_authors_truncated", "affiliations", "category",
    ]
)  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-5, 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "https://openalex.org/A5017898742",
            "https://openalex.org/W2250748100",
            "Author",
            "2021-09-01",
            "2025-09-21T07:40:09.928040",
            "https://doi.org/10.48550/arxiv.2108.04680",
        ]
    )
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_KEYS | st.text(max_size=5), children, max_size=6)
    ),
    max_leaves=30,
)


def _read_or_reason(text: str) -> ParsedFile | str:
    try:
        return read_json_dump(text)
    except Quarantine as quarantine:
        return quarantine.reason


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_read_or_quarantined_and_always_the_same_way(text):
    assert _read_or_reason(text) == _read_or_reason(text)


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_any_json_document_is_read_or_quarantined(value: Any):
    outcome = _read_or_reason(json.dumps(value))
    if isinstance(outcome, ParsedFile):
        assert all(record.line == 1 for record in (*outcome.profiles, *outcome.papers))
        n_profiles = len(outcome.profiles)
        assert all(
            paper.profile_index is None or 0 <= paper.profile_index < n_profiles
            for paper in outcome.papers
        )


@settings(max_examples=200, deadline=None)
@given(st.lists(_JSON, min_size=2, max_size=6))
def test_any_json_lines_are_read_or_quarantined(values: list[Any]):
    text = "\n".join(json.dumps(value) for value in values)
    outcome = _read_or_reason(text)
    if isinstance(outcome, ParsedFile):
        lines = range(1, len(values) + 1)
        assert all(record.line in lines for record in (*outcome.profiles, *outcome.papers))
        assert all(failure.line in lines for failure in outcome.failures)
