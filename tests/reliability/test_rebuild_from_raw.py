"""`scholarhouse ingest --rebuild` gives exactly the tables built incrementally over many runs.

The landing zone grows over five runs in uneven groups: new pages, an API dump, a duplicate,
a later capture of a profile, a file rewritten in place, a file removed, a quarantined file.
Then `--rebuild` (the real command, in-process) and a clean build into another warehouse
must both give the same rows and ids as the incremental warehouse.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from polars.testing import assert_frame_equal

from flows import cli
from flows.formats import read_dump
from tests.conftest import SAMPLE
from tests.flow_helpers import CORE_TABLES, ingest, ingest_ledger, read_tables
from tests.reliability.pages import owner_name, page, write_pages

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _openalex_works(title: str, year: int) -> str:
    """An OpenAlex works list whose first work is a paper of page 0 (same title and year)."""
    works = [
        {
            "id": f"https://openalex.org/W{number}",
            "doi": f"https://doi.org/10.1234/rebuild.{number}",
            "title": work_title,
            "publication_year": work_year,
            "cited_by_count": 10 + number,
            "authorships": [
                {"author": {"id": "https://openalex.org/A77", "display_name": owner_name(0)}}
            ],
        }
        for number, (work_title, work_year) in enumerate(
            [(title, year), ("A Work Only OpenAlex Knows", 2022)], start=1
        )
    ]
    return json.dumps({"meta": {"count": 2, "page": 1}, "results": works}, indent=1)


def _query(warehouse: Path, sql: str, parameters: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, parameters or []).fetchall()


def test_rebuild_equals_the_tables_built_incrementally_over_many_runs(tmp_path: Path):
    raw, warehouse = tmp_path / "raw", tmp_path / "incremental" / "scholar.duckdb"
    first_paper = next(p for p in read_dump(page(0).encode()).papers if p.year is not None)

    # Run 1: the sample and four pages.
    (raw / SAMPLE.parent.name).mkdir(parents=True)
    shutil.copy2(SAMPLE, raw / SAMPLE.parent.name / SAMPLE.name)
    write_pages(raw, range(4))
    assert ingest(raw, warehouse).published
    # Run 2: four more pages, an OpenAlex dump sharing a paper, a copy of a page.
    write_pages(raw, range(4, 8))
    (raw / "openalex" / "2026-11-25").mkdir(parents=True)
    (raw / "openalex" / "2026-11-25" / "works.json").write_text(
        _openalex_works(first_paper.title, first_paper.year or 0), encoding="utf-8"
    )
    (raw / "copies").mkdir()
    shutil.copy2(next((raw / "2026-11-25").glob("0001_*")), raw / "copies" / "page1.txt")
    assert ingest(raw, warehouse).published
    # Run 3: page 5 rewritten in place, a later capture of page 2.
    rewritten = next((raw / "2026-11-25").glob("0005_*"))
    rewritten.write_text(page(5, version=1), encoding="utf-8")
    (raw / "2026-11-26").mkdir()
    (raw / "2026-11-26" / "page2_again.txt").write_text(page(2, version=2), encoding="utf-8")
    assert ingest(raw, warehouse).published
    # Run 4: page 7 removed, two new pages, a file that is no dump.
    removed = next((raw / "2026-11-25").glob("0007_*"))
    removed.unlink()
    write_pages(raw, range(8, 10), folder="2026-11-27")
    (raw / "notes.txt").write_text("remember to rerun the scraper\n", encoding="utf-8")
    assert ingest(raw, warehouse).published
    # Run 5: nothing changed.
    assert not ingest(raw, warehouse).changed

    incremental, ledger = read_tables(warehouse), ingest_ledger(warehouse)
    assert (
        cli.main(
            [
                "ingest",
                "--rebuild",
                "--raw",
                str(raw),
                "--warehouse",
                str(warehouse),
                "--workers",
                "1",
            ]
        )
        == 0
    )
    rebuilt = read_tables(warehouse)
    clean = tmp_path / "clean" / "scholar.duckdb"
    ingest(raw, clean)
    for name in CORE_TABLES:
        assert_frame_equal(incremental[name], rebuilt[name], check_row_order=True)
        assert_frame_equal(incremental[name], read_tables(clean)[name], check_row_order=True)
    assert_frame_equal(ledger, ingest_ledger(warehouse))
    assert_frame_equal(ledger, ingest_ledger(clean))

    # What the runs did is really in there.
    assert _query(
        warehouse,
        "select count(*) from ingest_file where path = ?",
        [removed.relative_to(raw).as_posix()],
    ) == [(0,)]
    assert _query(
        warehouse,
        "select count(*) from paper where title = ?",
        [f"A Later Paper 0 of {owner_name(5)}"],
    ) == [(1,)]
    assert _query(
        warehouse,
        "select count(*) from profile_snapshot join author using (author_id) "
        "where author.display_name = ?",
        [owner_name(2)],
    ) == [(2,)]
    assert _query(
        warehouse,
        "select n_citations from paper where title = ?",
        [first_paper.title],
    ) == [(11,)]
    assert dict(_query(warehouse, "select status, count(*) from ingest_file group by 1")) == {
        "loaded": 1 + 9 + 1 + 1,
        "duplicate": 1,
        "quarantined": 1,
    }
