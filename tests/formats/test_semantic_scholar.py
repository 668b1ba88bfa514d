"""Semantic Scholar Graph API authors, papers and list pages → profile and paper records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flows.formats import semantic_scholar
from flows.formats.jsondump import read_json_dump


def _load(realdata: Path, name: str) -> dict[str, Any]:
    return json.loads((realdata / "semantic_scholar" / name).read_text(encoding="utf-8"))


def _cassette_bodies(realdata: Path, name: str) -> list[str]:
    """The response bodies recorded in a vcrpy cassette (test material only)."""
    yaml = pytest.importorskip("yaml")
    cassette = yaml.safe_load((realdata / "semantic_scholar" / name).read_text(encoding="utf-8"))
    bodies = []
    for interaction in cassette["interactions"]:
        response = interaction["response"]
        # vcrpy's httpx stubs recorded `content` in older versions and `body.string` later.
        body = response["content"] if "content" in response else response["body"]["string"]
        bodies.append(body)
    return bodies


def test_author_with_papers_becomes_one_profile_listing_every_paper(realdata):
    raw = _load(realdata, "Author.json")
    parsed = semantic_scholar.read_author(raw, line=1)
    (profile,) = parsed.profiles
    assert profile.source == "semantic_scholar"
    assert (profile.source_author_id, profile.display_name) == ("2262347", "A. Turing")
    assert (profile.h_index, profile.n_citations, profile.n_papers_declared) == (23, 12415, 60)
    assert profile.n_papers_listed == len(parsed.papers) == 60
    assert profile.i10_index is None  # S2 does not report one
    assert all(paper.profile_index == 0 for paper in parsed.papers)
    assert [paper.n_citations for paper in parsed.papers] == [
        paper["citationCount"] for paper in raw["papers"]
    ]
    assert all(
        any(author.source_author_id == "2262347" for author in paper.authors)
        for paper in parsed.papers
    )
    assert parsed.failures == ()


def test_paper_fields_map_to_the_record(realdata):
    raw = _load(realdata, "Author.json")["papers"][1]
    paper = semantic_scholar.read_paper(raw, line=1, profile_index=0)
    assert paper.source_paper_id == raw["paperId"]
    assert paper.title == "Systems of Logic Based on Ordinals"
    assert paper.doi == "10.1016/b978-044450423-4/50007-3"
    assert (paper.year, paper.month, paper.day) == (2012, 12, 31)
    assert paper.n_citations == 328
    assert paper.topics == (("s2_field", "Computer Science"), ("s2_field", "Mathematics"))


def test_topics_come_from_fields_of_study_only(realdata):
    raw = _load(realdata, "Author.json")["papers"][0]
    assert raw["fieldsOfStudy"] is None and raw["s2FieldsOfStudy"]
    assert semantic_scholar.read_paper(raw, line=1).topics == ()


def test_paper_response_keeps_the_paper_and_the_citing_papers_that_name_authors(realdata):
    raw = _load(realdata, "Paper.json")
    parsed = read_json_dump((realdata / "semantic_scholar" / "Paper.json").read_text())
    assert parsed.format == "semantic_scholar_paper"
    assert parsed.profiles == ()
    main, *related = parsed.papers
    assert (main.title, main.year, main.n_citations) == (
        "Computing Machinery and Intelligence",
        1950,
        10059,
    )
    assert [author.name for author in main.authors] == ["A. Turing"]
    assert main.flags == ()
    citing = [paper for paper in related if paper.flags == ("s2_citing_paper",)]
    referenced = [paper for paper in related if paper.flags == ("s2_referenced_paper",)]
    assert len(citing) + len(referenced) == len(related)
    usable = [c for c in raw["citations"] if c.get("authors") and c.get("title")]
    assert len(citing) == len(usable) == 998
    assert len(referenced) == 8
    # Each citing paper keeps its own count, not the cited paper's.
    counts = {c["paperId"]: c["citationCount"] for c in raw["citations"]}
    assert all(paper.n_citations == counts[paper.source_paper_id] for paper in citing)
    assert all(paper.authors and paper.title for paper in related)


def test_null_authors_give_a_paper_without_authors_and_a_flag(realdata):
    parsed = read_json_dump(
        (realdata / "semantic_scholar" / "PaperWithNullValues.json").read_text()
    )
    (paper,) = parsed.papers
    assert paper.source_paper_id == "2d5673caa9e6af3a7b82a43f19ee920992db07ad"
    assert paper.authors == ()
    assert "authors_missing" in paper.flags
    assert "title_missing" in paper.flags
    assert paper.n_citations is None


def test_recorded_author_papers_pages_read_as_paper_lists(realdata):
    bodies = _cassette_bodies(realdata, "test_get_author_papers.yaml")
    pages = [read_json_dump(body) for body in bodies]
    assert {page.format for page in pages} == {"semantic_scholar_list"}
    assert sum(len(page.papers) for page in pages) == 875
    # fields=title only: the pages name no authors and no counts.
    paper = pages[0].papers[0]
    assert paper.title == "SARS-CoV-2 hijacks p38β/MAPK11 to promote virus replication"
    assert paper.n_citations is None
    assert "authors_missing" in paper.flags


def test_recorded_paper_authors_page_reads_as_profiles_with_their_metrics(realdata):
    (body,) = _cassette_bodies(realdata, "test_get_paper_authors.yaml")
    parsed = read_json_dump(body)
    assert [
        (p.display_name, p.h_index, p.n_citations, p.n_papers_declared) for p in parsed.profiles
    ] == [
        ("E. Duflo", 91, 58740, 282),
        ("A. Banerjee", 90, 47761, 347),
        ("R. Glennerster", 31, 8936, 123),
        ("Cynthia Kinnan", 12, 3189, 35),
    ]


def test_recorded_batch_arrays_and_searches_are_read(realdata):
    (papers_body,) = _cassette_bodies(realdata, "test_get_papers.yaml")
    papers = read_json_dump(papers_body)
    assert papers.format == "semantic_scholar_list"
    assert [len(paper.authors) for paper in papers.papers] == [3, 4, 3]
    assert all("title_missing" in paper.flags for paper in papers.papers)
    (authors_body,) = _cassette_bodies(realdata, "test_get_authors.yaml")
    names = [profile.display_name for profile in read_json_dump(authors_body).profiles]
    assert names == ["E. Dijkstra", "D. Parnas", "I. Sommerville"]
    (search_body,) = _cassette_bodies(realdata, "test_search_author.yaml")
    search = read_json_dump(search_body)
    assert len(search.profiles) == 59
    assert all(profile.h_index is None for profile in search.profiles)
    (author_body,) = _cassette_bodies(realdata, "test_get_author.yaml")
    (turing,) = read_json_dump(author_body).profiles
    assert (turing.display_name, turing.source_author_id, turing.h_index) == (
        "A. Turing",
        "2262347",
        None,
    )
    assert turing.n_papers_listed is None


def test_external_ids_give_doi_and_arxiv_id():
    paper = semantic_scholar.read_paper(
        {
            "paperId": "p",
            "title": "T",
            "externalIds": {"DOI": "10.48550/arXiv.2108.04680", "ArXiv": "2108.04680"},
        },
        1,
    )
    assert (paper.doi, paper.arxiv_id) == ("10.48550/arxiv.2108.04680", "2108.04680")
    from_doi = semantic_scholar.read_paper(
        {"paperId": "p", "title": "T", "externalIds": {"DOI": "10.48550/arXiv.1706.03762"}}, 1
    )
    assert from_doi.arxiv_id == "1706.03762"


def test_author_without_id_keeps_its_name_and_position():
    paper = semantic_scholar.read_paper(
        {
            "paperId": "p",
            "title": "T",
            "authors": [{"authorId": None, "name": "A. Nonymous"}, {"authorId": "7", "name": "B"}],
        },
        1,
    )
    assert [(a.position, a.name, a.source_author_id) for a in paper.authors] == [
        (1, "A. Nonymous", None),
        (2, "B", "7"),
    ]


def test_a_paper_that_is_not_an_object_fails_alone():
    parsed = semantic_scholar.read_author(
        {"authorId": "1", "name": "X", "papers": [{"paperId": "a", "title": "A"}, "junk"]}, 4
    )
    assert [paper.title for paper in parsed.papers] == ["A"]
    (failure,) = parsed.failures
    assert failure.line == 4
    assert failure.reason.startswith("papers[1]:")


def test_author_without_a_name_cannot_be_read():
    with pytest.raises(ValueError, match="has no name"):
        semantic_scholar.read_author({"authorId": "1"}, 1)


def test_counts_absent_or_not_integers_stay_none():
    profile = semantic_scholar.read_author({"authorId": "1", "name": "X", "hIndex": "23"}, 1)
    assert profile.profiles[0].h_index is None
    assert profile.profiles[0].n_citations is None
