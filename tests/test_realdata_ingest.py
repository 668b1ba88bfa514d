"""The whole flow on the real API responses in ../shared/realdata (skipped when absent)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import require_realdata
from tests.flow_helpers import ingest

pytestmark = pytest.mark.usefixtures("prefect_harness")

# (display name, source): the profiles whose paper lists are complete in the dumps.
COMPLETE_PROFILES = [
    ("A. Turing", "semantic_scholar"),
    ("Kaiming He", "google_scholar"),
    ("Rongjie Huang", "google_scholar"),
    ("Sizhe Chen", "google_scholar"),
    ("Yu Zhang", "google_scholar"),
    ("Joseph Mearman", "openalex"),
]


@pytest.fixture(scope="module")
def real_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("realdata") / "raw"
    shutil.copytree(require_realdata(), raw / "2026-11-25")
    warehouse = raw.parent / "warehouse.duckdb"
    ingest(raw, warehouse)
    return warehouse


def _rows(warehouse: Path, sql: str, parameters: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, parameters or []).fetchall()


@pytest.mark.parametrize(("name", "source"), COMPLETE_PROFILES)
def test_computed_h_index_equals_the_reported_one(real_warehouse: Path, name: str, source: str):
    rows = _rows(
        real_warehouse,
        "select m.h_index, m.h_index_reported, m.i10_index, m.i10_index_reported "
        "from snapshot_metrics as m join author as a using (author_id) "
        "where a.display_name = ? and m.source = ? and m.h_index is not null",
        [name, source],
    )
    assert rows, f"no computed metrics for {name} ({source})"
    for h_index, h_reported, i10_index, i10_reported in rows:
        assert h_index == h_reported
        if i10_reported is not None:
            assert i10_index == i10_reported


def test_mearman_author_metrics_from_his_works_list(real_warehouse: Path):
    assert _rows(
        real_warehouse,
        "select m.h_index, m.h_index_reported from author_metrics as m "
        "join author_source_id as s using (author_id) where s.source_id = 'A5017898742'",
    ) == [(2, 2)]


@pytest.mark.parametrize("title", ["stylesinger style transfer", "tcsinger zero shot"])
def test_a_paper_on_two_google_scholar_profiles_is_one_paper_with_both_authors(
    real_warehouse: Path, title: str
):
    papers = _rows(
        real_warehouse,
        "select paper_id from paper where title_key like ? || ' %'",
        [title],
    )
    assert len(papers) == 1
    authors = _rows(
        real_warehouse,
        "select a.display_name from authorship join author as a using (author_id) "
        "where paper_id = ? order by 1",
        [papers[0][0]],
    )
    assert ("Rongjie Huang",) in authors and ("Yu Zhang",) in authors


def test_two_openalex_ids_of_one_work_are_one_paper(real_warehouse: Path):
    rows = _rows(
        real_warehouse,
        "select count(distinct paper_id) from paper_observation "
        "where source_paper_id in ('W3187234764', 'W3188841554')",
    )
    assert rows == [(1,)]


def test_citations_are_observations_and_the_paper_keeps_the_latest(real_warehouse: Path):
    shared = _rows(
        real_warehouse,
        "select p.paper_id, p.n_citations, p.n_citations_source, count(*) "
        "from paper as p join paper_citation as c using (paper_id) "
        "where p.title_key like 'stylesinger %' group by all",
    )
    assert len(shared) == 1 and shared[0][3] >= 2
    latest = _rows(
        real_warehouse,
        "select n_citations from paper_citation where paper_id = ? "
        "order by observed_at desc, n_citations desc limit 1",
        [shared[0][0]],
    )
    assert shared[0][1] == latest[0][0] and shared[0][2] == "google_scholar"


def test_similar_names_with_two_source_ids_stay_two_authors(real_warehouse: Path):
    names = _rows(
        real_warehouse,
        "select count(distinct author_id) from author where display_name in "
        "('Andrew Wilson', 'Andrew T. Wilson')",
    )
    assert names == [(2,)]


def test_two_captures_of_one_openalex_author_are_two_snapshots_of_one_author(
    real_warehouse: Path,
):
    rows = _rows(
        real_warehouse,
        "select count(distinct s.author_id), count(*) from profile_snapshot as s "
        "where s.source = 'openalex' and s.source_author_id = 'A5023888391'",
    )
    assert rows == [(1, 2)]


def test_every_real_file_is_accounted_for(real_warehouse: Path, realdata: Path):
    n_files = sum(1 for path in realdata.rglob("*") if path.is_file())
    statuses = dict(_rows(real_warehouse, "select status, count(*) from ingest_file group by 1"))
    assert sum(statuses.values()) == n_files
    assert _rows(
        real_warehouse,
        "select count(*) from ingest_file where status = 'quarantined' and reason is null",
    ) == [(0,)]
