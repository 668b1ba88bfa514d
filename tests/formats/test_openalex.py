"""OpenAlex Author and Work objects → profile and paper records."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from flows.formats import openalex
from flows.formats.jsondump import read_json_dump

MEARMAN = "openalex/mearman_ego/authors/A5017898742.json"
MEARMAN_WORKS = (
    "openalex/mearman_ego/works_filter_authorships.author.id_A5017898742_per_page50.json"
)


def _load(realdata: Path, relative: str) -> dict[str, Any]:
    return json.loads((realdata / relative).read_text(encoding="utf-8"))


def _work(**fields: Any) -> dict[str, Any]:
    return {"id": "https://openalex.org/W1", "title": "A title", **fields}


def test_author_object_becomes_a_profile_with_the_metrics_openalex_reports(realdata):
    profile = openalex.read_author(_load(realdata, MEARMAN), line=1)
    assert profile.source == "openalex"
    assert profile.source_author_id == "A5017898742"
    assert profile.display_name == "Joseph Mearman"
    assert (profile.h_index, profile.i10_index) == (2, 2)
    assert (profile.n_papers_declared, profile.n_citations) == (9, 41)
    assert profile.n_papers_listed is None
    assert profile.orcid is None
    assert profile.affiliation == "Bangor University"
    assert profile.captured_at == datetime(2025, 9, 21, 7, 40, 9, 928040)
    assert profile.line == 1


def test_old_schema_author_reads_the_singular_institution_and_leaves_absent_metrics_none(
    realdata,
):
    profile = openalex.read_author(
        _load(realdata, "openalex/openalex_python_fixtures/A-api-response.json"), line=1
    )
    assert profile.display_name == "B. P. Abbott"
    assert profile.affiliation == "California Institute of Technology"
    # No summary_stats in this schema: the metrics are unknown, not zero.
    assert (profile.h_index, profile.i10_index) == (None, None)
    assert (profile.n_papers_declared, profile.n_citations) == (523, 28451)
    assert profile.orcid == "0000-0002-3666-1234"
    assert profile.captured_at == datetime(2023, 8, 1)


def test_deleted_author_keeps_the_zeros_openalex_states(realdata):
    profile = openalex.read_author(
        _load(realdata, "openalex/openalex_python_fixtures/A5317838346.json"), line=1
    )
    assert profile.display_name == "Deleted Author"
    assert (profile.h_index, profile.i10_index, profile.n_citations) == (0, 0, 0)
    assert profile.affiliation is None


def test_two_snapshots_of_one_author_report_different_counts(realdata):
    older = openalex.read_author(
        _load(realdata, "openalex/openalex_python_fixtures/A5023888391.json"), line=1
    )
    newer = openalex.read_author(
        _load(realdata, "openalex/mearman_ego/authors/A5023888391.json"), 1
    )
    assert older.source_author_id == newer.source_author_id == "A5023888391"
    assert (older.n_citations, newer.n_citations) == (3890, 3984)
    assert older.captured_at is not None and newer.captured_at is not None
    assert older.captured_at < newer.captured_at


def test_work_keeps_every_authorship_in_order_with_ids_and_orcids(realdata):
    paper = openalex.read_work(_load(realdata, "openalex/works/W2741809807.json"), line=1)
    assert paper.source_paper_id == "W2741809807"
    assert paper.title.startswith("The state of OA")
    assert paper.doi == "10.7717/peerj.4375"
    assert (paper.year, paper.month, paper.day) == (2018, 2, 13)
    assert paper.n_citations == 1016
    assert [author.position for author in paper.authors] == list(range(1, 10))
    first, last = paper.authors[0], paper.authors[-1]
    assert (first.name, first.source_author_id) == ("Heather Piwowar", "A5048491430")
    assert (last.name, last.source_author_id) == ("Stefanie Haustein", "A5014077037")
    assert paper.authors_truncated is False
    assert paper.profile_index is None
    assert paper.abstract is not None and paper.abstract.startswith("Despite growing interest")


def test_arxiv_doi_gives_the_arxiv_id(realdata):
    paper = openalex.read_work(_load(realdata, "openalex/works/W3188841554.json"), line=1)
    assert paper.doi == "10.48550/arxiv.2108.04680"
    assert paper.arxiv_id == "2108.04680"


def test_old_schema_work_takes_its_title_from_display_name(realdata):
    paper = openalex.read_work(
        _load(realdata, "openalex/openalex_python_fixtures/W-api-response.json"), line=1
    )
    assert paper.title.startswith("GW170104: Observation of a 50-Solar-Mass")
    assert paper.doi == "10.1103/physrevlett.118.091101"
    assert paper.topics == (("openalex_topic", "Gravitational Wave Astronomy and Cosmology"),)
    assert "title_missing" not in paper.flags


def test_topics_list_the_primary_topic_first_and_each_topic_once(realdata):
    raw = _load(realdata, "openalex/works/W2250748100.json")
    paper = openalex.read_work(raw, line=1)
    names = [name for scheme, name in paper.topics]
    assert {scheme for scheme, _ in paper.topics} == {"openalex_topic"}
    assert names[0] == raw["primary_topic"]["display_name"]
    assert len(names) == len(set(names))
    assert set(names) == {topic["display_name"] for topic in raw["topics"]}


def test_works_list_gives_one_paper_per_result(realdata):
    raw = _load(realdata, MEARMAN_WORKS)
    parsed = read_json_dump((realdata / MEARMAN_WORKS).read_text(encoding="utf-8"))
    assert parsed.format == "openalex_list"
    assert len(parsed.papers) == raw["meta"]["count"] == 9
    assert parsed.profiles == ()
    assert all(paper.source == "openalex" and paper.line == 1 for paper in parsed.papers)
    # Mearman is an author of every work in his own filtered list.
    assert all(
        any(author.source_author_id == "A5017898742" for author in paper.authors)
        for paper in parsed.papers
    )
    # The duplicate title stays two records: deduplication is the warehouse's job.
    duplicated = [paper for paper in parsed.papers if paper.title.startswith("3D Visualisations")]
    assert {paper.source_paper_id for paper in duplicated} == {"W3187234764", "W3188841554"}


def test_single_work_and_list_copy_of_a_work_are_different_snapshots(realdata):
    listed = read_json_dump((realdata / MEARMAN_WORKS).read_text(encoding="utf-8")).papers
    single = openalex.read_work(_load(realdata, "openalex/works/W2250748100.json"), line=1)
    from_list = next(paper for paper in listed if paper.source_paper_id == "W2250748100")
    assert single.title == from_list.title
    assert single.authors == from_list.authors


def test_author_search_response_gives_every_author_as_a_profile(realdata):
    parsed = read_json_dump(
        (realdata / "openalex/mearman_ego/authors_search_mearman_per_page20.json").read_text()
    )
    assert parsed.format == "openalex_list"
    assert len(parsed.profiles) == 8
    names = [profile.display_name for profile in parsed.profiles]
    assert "Downward and Mearman Tony Lawson" in names
    joseph = parsed.profiles[names.index("Joseph Mearman")]
    assert (joseph.h_index, joseph.i10_index, joseph.source_author_id) == (2, 2, "A5017898742")


def test_authors_truncated_follows_is_authors_truncated():
    assert openalex.read_work(_work(is_authors_truncated=True), 1).authors_truncated is True
    assert openalex.read_work(_work(is_authors_truncated=None), 1).authors_truncated is False
    assert openalex.read_work(_work(), 1).authors_truncated is False


def test_absent_counts_stay_none_and_are_never_invented():
    paper = openalex.read_work(_work(cited_by_count=None), 1)
    assert paper.n_citations is None
    # A boolean is not a count even though Python treats it as an int.
    assert openalex.read_work(_work(cited_by_count=True), 1).n_citations is None
    assert openalex.read_work(_work(cited_by_count=0), 1).n_citations == 0


def test_retracted_work_is_flagged():
    assert "retracted" in openalex.read_work(_work(is_retracted=True), 1).flags
    assert "retracted" not in openalex.read_work(_work(is_retracted=False), 1).flags


def test_work_without_authorships_is_flagged_not_dropped():
    paper = openalex.read_work(_work(authorships=[]), 1)
    assert paper.authors == ()
    assert "authors_missing" in paper.flags


def test_authorship_without_a_name_falls_back_to_the_raw_name_then_is_skipped():
    paper = openalex.read_work(
        _work(
            authorships=[
                {"author": {"id": "https://openalex.org/A1", "display_name": None}},
                {"author": {}, "raw_author_name": "J. Raw"},
                {"author": {"id": "https://openalex.org/A3", "display_name": "Third"}},
            ]
        ),
        1,
    )
    assert [(author.position, author.name) for author in paper.authors] == [
        (2, "J. Raw"),
        (3, "Third"),
    ]
    assert "author_name_missing" in paper.flags


def test_ids_arxiv_gives_the_arxiv_id_without_its_prefix():
    paper = openalex.read_work(_work(ids={"arxiv": "https://arxiv.org/abs/2401.01234"}), 1)
    assert paper.arxiv_id == "2401.01234"


def test_work_without_title_or_display_name_is_flagged():
    paper = openalex.read_work({"id": "https://openalex.org/W9"}, 1)
    assert paper.title == ""
    assert "title_missing" in paper.flags


def test_publication_year_alone_gives_the_year():
    paper = openalex.read_work(_work(publication_year=2020), 1)
    assert (paper.year, paper.month, paper.day, paper.date_text) == (2020, None, None, "2020")


@pytest.mark.parametrize(
    ("stated", "expected"),
    [
        ("https://doi.org/10.1145/2795233", "10.1145/2795233"),
        ("http://dx.doi.org/10.1145/ABC", "10.1145/abc"),
        ("doi:10.48550/arXiv.2108.04680", "10.48550/arxiv.2108.04680"),
        ("10.1000/XYZ", "10.1000/xyz"),
        ("not a doi", None),
        (None, None),
        (42, None),
    ],
)
def test_dois_are_lower_case_and_bare(stated, expected):
    assert openalex.bare_doi(stated) == expected


def test_author_without_display_name_cannot_be_read():
    with pytest.raises(ValueError, match="no display_name"):
        openalex.read_author({"id": "https://openalex.org/A1"}, 1)


def test_timezone_aware_updated_date_is_kept_as_naive_utc():
    profile = openalex.read_author(
        {
            "id": "https://openalex.org/A1",
            "display_name": "X",
            "updated_date": "2025-01-01T02:00:00+02:00",
        },
        1,
    )
    assert profile.captured_at == datetime(2025, 1, 1, 0, 0)


def test_abstract_is_rebuilt_from_the_inverted_index():
    paper = openalex.read_work(
        _work(abstract_inverted_index={"world": [1], "hello": [0], "again": [3], "hello!": [2]}), 1
    )
    assert paper.abstract == "hello world hello! again"


def test_detect_recognises_authors_works_and_lists_only():
    assert openalex.detect({"id": "https://openalex.org/A5017898742"}) == "author"
    assert openalex.detect({"id": "https://openalex.org/W2250748100"}) == "work"
    assert openalex.detect({"meta": {}, "results": []}) == "list"
    assert openalex.detect({"id": "https://openalex.org/I161548249"}) is None
    assert openalex.detect({"id": "A5017898742"}) is None
    assert openalex.detect({"results": []}) is None
