"""`scholarly` Google Scholar profile dumps → one profile and its publication list."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from flows.formats import google_scholar

PROFILES = {
    "gs_data_Kaiming_He_acad-homepage-template.json": ("Kaiming He", "DhtAFkwAAAAJ", 74),
    "gs_data_Rongjie_Huang.json": ("Rongjie Huang", "iRHBUsgAAAAJ", 78),
    "gs_data_Sizhe_Chen.json": ("Sizhe Chen", "lp5ujPsAAAAJ", 18),
    "gs_data_Yu_Zhang_AaronZ345.json": ("Yu Zhang", "kA9A6LsAAAAJ", 19),
}


def _load(realdata: Path, name: str) -> dict[str, Any]:
    return json.loads((realdata / "google_scholar" / name).read_text(encoding="utf-8"))


def _profile(**fields: Any) -> dict[str, Any]:
    return {"container_type": "Author", "scholar_id": "S", "name": "N", **fields}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profile_dump_gives_the_profile_and_every_publication(realdata, name):
    raw = _load(realdata, name)
    parsed = google_scholar.read_object(raw, line=1)
    (profile,) = parsed.profiles
    display_name, scholar_id, n_publications = PROFILES[name]
    assert parsed.format == "google_scholar_author"
    assert (profile.display_name, profile.source_author_id) == (display_name, scholar_id)
    assert (profile.h_index, profile.i10_index, profile.n_citations) == (
        raw["hindex"],
        raw["i10index"],
        raw["citedby"],
    )
    assert profile.affiliation == raw["affiliation"]
    assert profile.n_papers_listed == len(parsed.papers) == n_publications
    assert profile.n_papers_declared is None
    assert profile.captured_at == datetime.fromisoformat(raw["updated"])
    assert parsed.failures == ()
    # On these profiles the per-publication counts add up to the profile's total.
    assert sum(paper.n_citations or 0 for paper in parsed.papers) == raw["citedby"]


def test_publications_keep_their_id_year_and_count_and_list_no_authors(realdata):
    raw = _load(realdata, "gs_data_Kaiming_He_acad-homepage-template.json")
    paper = google_scholar.read_object(raw, line=1).papers[0]
    assert paper.title == "Deep Residual Learning for Image Recognition"
    assert paper.source_paper_id == "DhtAFkwAAAAJ:ALROH1vI_8AC"
    assert (paper.year, paper.date_text, paper.n_citations) == (2016, "2016", 215540)
    assert paper.profile_index == 0
    assert paper.source == "google_scholar"
    assert paper.authors == ()
    assert paper.flags == ("authors_not_listed",)


def test_publication_without_a_year_keeps_year_none(realdata):
    parsed = google_scholar.read_object(_load(realdata, "gs_data_Rongjie_Huang.json"), line=1)
    yearless = [paper for paper in parsed.papers if paper.year is None]
    assert yearless
    assert all(paper.date_text is None for paper in yearless)


def test_publications_as_a_list_read_like_the_keyed_form(realdata):
    raw = _load(realdata, "gs_data_Sizhe_Chen.json")
    keyed = google_scholar.read_object(raw, line=1)
    listed = google_scholar.read_object(
        {**raw, "publications": list(raw["publications"].values())}, 1
    )
    assert listed.papers == keyed.papers


def test_filled_bib_author_string_gives_the_author_list():
    parsed = google_scholar.read_object(
        _profile(
            publications={
                "S:1": {"bib": {"title": "T", "author": "K He and X Zhang and S Ren"}},
            }
        ),
        1,
    )
    (paper,) = parsed.papers
    assert [(a.position, a.name) for a in paper.authors] == [
        (1, "K He"),
        (2, "X Zhang"),
        (3, "S Ren"),
    ]
    assert "authors_not_listed" not in paper.flags


def test_publication_without_title_fails_alone():
    parsed = google_scholar.read_object(
        _profile(
            publications={
                "S:1": {"bib": {"title": "Kept"}, "num_citations": 3},
                "S:2": {"bib": {"pub_year": "2020"}, "num_citations": 9},
            }
        ),
        7,
    )
    assert [paper.title for paper in parsed.papers] == ["Kept"]
    (failure,) = parsed.failures
    assert (failure.line, failure.reason) == (7, "publications[S:2]: publication has no bib.title")


def test_absent_counts_stay_none():
    parsed = google_scholar.read_object(_profile(publications={"S:1": {"bib": {"title": "T"}}}), 1)
    (profile,) = parsed.profiles
    assert (profile.h_index, profile.i10_index, profile.n_citations) == (None, None, None)
    assert parsed.papers[0].n_citations is None


def test_profile_dumped_without_publications_lists_none():
    parsed = google_scholar.read_object(_profile(hindex=4), 1)
    assert parsed.profiles[0].n_papers_listed is None
    assert parsed.papers == ()


def test_unreadable_year_is_kept_as_text_and_flagged():
    parsed = google_scholar.read_object(
        _profile(publications={"S:1": {"bib": {"title": "T", "pub_year": "in press"}}}), 1
    )
    paper = parsed.papers[0]
    assert (paper.year, paper.date_text) == (None, "in press")
    assert "year_unreadable" in paper.flags


def test_detect_wants_a_scholarly_author():
    assert google_scholar.detect({"container_type": "Author"}) == "author"
    assert google_scholar.detect({"scholar_id": "x", "publications": {}}) == "author"
    assert google_scholar.detect({"container_type": "Publication"}) is None
    assert google_scholar.detect({"scholar_id": "x"}) is None
