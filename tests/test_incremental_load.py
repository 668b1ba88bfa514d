"""The flow's incremental load against a full rebuild: files added, changed and removed."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import duckdb
import pytest
from polars.testing import assert_frame_equal

from flows import delta, incremental, models
from flows.cache import State
from flows.ingest import sql_dir
from flows.synth import write_synthetic_profiles
from tests.conftest import require_realdata
from tests.flow_helpers import CORE_TABLES, ingest, read_tables

pytestmark = pytest.mark.usefixtures("prefect_harness")

# Every table of the build: the core tables, the ledger and every model.
ALL_TABLES = (
    *CORE_TABLES, "ingest_file", "author_source_id", "snapshot_metrics", "term_year",
    "title_term", "profile_paper_component",
)  # fmt: skip


@pytest.fixture(autouse=True)
def any_share_of_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """These landing zones are small: one page is a large share of their rows, more than a
    scheduled run sees, and each table a load changes takes a block of the file, a large
    share of its size. They load incrementally all the same (a full load would hide a wrong
    increment); the share and the growth that make a full load are tested in test_delta."""
    monkeypatch.setattr(delta, "MAX_CHANGED_SHARE", 1.0)
    monkeypatch.setattr(delta, "MAX_GROWTH", 10.0)
    monkeypatch.setattr(incremental, "MAX_ADDED_SHARE", 1.0)


def _split(source: Path, seed: int) -> tuple[list[Path], list[Path]]:
    files = sorted(path for path in source.rglob("*") if path.is_file())
    random.Random(seed).shuffle(files)
    cut = len(files) * 2 // 3
    return files[:cut], files[cut:]


def _place(files: list[Path], source: Path, raw: Path) -> None:
    for path in files:
        target = raw / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _assert_same_build(incremental: Path, rebuilt: Path) -> None:
    first, second = read_tables(incremental, ALL_TABLES), read_tables(rebuilt, ALL_TABLES)
    for name in ALL_TABLES:
        # Exactly: the coauthor weights are summed exactly, in any order.
        try:
            assert_frame_equal(first[name], second[name], check_exact=True)
        except AssertionError as error:
            raise AssertionError(f"table {name} differs: {error}") from None


@pytest.mark.parametrize("seed", [3, 4])
def test_files_added_changed_and_removed_load_incrementally_as_a_rebuild(tmp_path: Path, seed: int):
    source = tmp_path / "generated"
    write_synthetic_profiles(60, source, seed=seed)
    before, after = _split(source, seed)
    raw, warehouse = tmp_path / "raw", tmp_path / "inc" / "w.duckdb"
    _place(before, source, raw)
    first = ingest(raw, warehouse)
    assert first.load == "full load: no digests of the published build"

    _place(after, source, raw)
    second = ingest(raw, warehouse)
    assert second.normalised == f"{len(after):,} new contents added to the last normalisation"
    assert second.load.startswith("incremental load: ")
    assert f"Built by {second.load}." in second.to_markdown()
    assert f"Normalised: {second.normalised}." in second.to_markdown()
    # the models with a changes file were brought up to date, not built whole
    changes = sorted(path.stem for path in (sql_dir() / models.CHANGES_DIR).glob("*.sql"))
    assert changes and f"({', '.join(changes)})" in second.models
    assert f"Models: {second.models}." in second.to_markdown()
    rebuilt = tmp_path / "full" / "w.duckdb"
    assert ingest(raw, rebuilt, rebuild=True).load == "full load: --rebuild"
    _assert_same_build(warehouse, rebuilt)

    kept = sorted(raw.rglob("*.txt"))
    kept[0].unlink()  # a page gone
    page = kept[1].read_text(encoding="utf-8")
    kept[1].write_text(page.replace("h-index", "h-index1", 1), encoding="utf-8")  # changed
    third = ingest(raw, warehouse)
    assert third.normalised == (
        "normalised in full: a content of the last normalisation went, changed or moved"
    )
    assert third.load.startswith("incremental load: ")
    assert f"({', '.join(changes)})" in third.models
    assert ingest(raw, rebuilt, rebuild=True).models == ""
    _assert_same_build(warehouse, rebuilt)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ((n_files,),) = con.sql("select n_files from warehouse_info").fetchall()
    assert n_files == len(list(raw.rglob("*.txt")))


def test_real_api_dumps_added_later_load_incrementally_as_a_rebuild(tmp_path: Path):
    source = require_realdata()
    before, after = _split(source, 1)
    raw, warehouse = tmp_path / "raw" / "2026-11-25", tmp_path / "inc" / "w.duckdb"
    _place(before, source, raw)
    ingest(raw.parent, warehouse)
    _place(after, source, raw)
    summary = ingest(raw.parent, warehouse)
    assert summary.normalised.endswith(" new contents added to the last normalisation")
    assert summary.load.startswith("incremental load: ")
    rebuilt = tmp_path / "full" / "w.duckdb"
    ingest(raw.parent, rebuilt, rebuild=True)
    _assert_same_build(warehouse, rebuilt)


def _add_page(raw: Path) -> None:
    extra = raw / "2026-11-26"
    extra.mkdir(exist_ok=True)
    (extra / "other.txt").write_text(
        "Han Xu\n\nh-index30\n40papers\n\n1 Papers\n\nLGSep 2, 2020\n"
        "Yet Meta Learning Can Adapt Fast, It Can Also Break Easily\n\n"
        "Han Xu, Yaxin Li, Xiaorui Liu et al.\n\nAbstract.\n",
        encoding="utf-8",
    )


def test_a_published_file_written_to_since_is_not_built_upon(
    raw_dir: Path, warehouse: Path, tmp_path: Path
):
    ingest(raw_dir, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table scratch as select 1 as x")
        con.execute("delete from paper")
    _add_page(raw_dir)
    summary = ingest(raw_dir, warehouse)
    # Normalised by adding the page, then loaded whole: every table is made whole first.
    assert summary.normalised == "1 new content added to the last normalisation"
    assert summary.load == "full load: the published file changed after it was published"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("select count(*) from paper").fetchall() == [(22,)]
        assert con.sql("select count(*) from duckdb_tables() where table_name = 'scratch'").fetchall() == [(0,)]  # fmt: skip
    rebuilt = tmp_path / "full" / "w.duckdb"
    ingest(raw_dir, rebuilt)
    _assert_same_build(warehouse, rebuilt)


def test_an_addition_that_changes_too_many_rows_is_loaded_whole_as_a_rebuild(
    raw_dir: Path, warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    ingest(raw_dir, warehouse)
    _add_page(raw_dir)
    monkeypatch.setattr(delta, "MAX_CHANGED_SHARE", 0.0)
    summary = ingest(raw_dir, warehouse)
    assert summary.normalised == "1 new content added to the last normalisation"
    assert summary.load.startswith("full load: ") and summary.load.endswith(" of the rows changed")
    rebuilt = tmp_path / "full" / "w.duckdb"
    ingest(raw_dir, rebuilt)
    _assert_same_build(warehouse, rebuilt)
    # The digests kept are of the whole tables: the next addition loads by changes again.
    monkeypatch.setattr(delta, "MAX_CHANGED_SHARE", 1.0)
    (raw_dir / "2026-11-26" / "third.txt").write_text(
        (raw_dir / "2026-11-26" / "other.txt").read_text().replace("Han Xu", "Jo Park"),
        encoding="utf-8",
    )
    summary = ingest(raw_dir, warehouse)
    assert summary.normalised == "1 new content added to the last normalisation"
    assert summary.load.startswith("incremental load: ")
    ingest(raw_dir, rebuilt, rebuild=True)
    _assert_same_build(warehouse, rebuilt)


def test_a_run_killed_before_keeping_its_digests_is_followed_by_a_full_load(
    raw_dir: Path, warehouse: Path, tmp_path: Path
):
    ingest(raw_dir, warehouse)
    digests = State.for_warehouse(warehouse).digests
    shutil.copytree(digests, tmp_path / "kept")
    _add_page(raw_dir)
    assert ingest(raw_dir, warehouse).load.startswith("incremental load: ")
    # As if that run was killed after publishing, before keeping its digests.
    shutil.rmtree(digests)
    shutil.copytree(tmp_path / "kept", digests)
    (raw_dir / "2026-11-25" / "000_615cb040fee88da4.txt").unlink()
    summary = ingest(raw_dir, warehouse)
    assert summary.load == "full load: the published file changed after it was published"
    rebuilt = tmp_path / "full" / "w.duckdb"
    ingest(raw_dir, rebuilt)
    _assert_same_build(warehouse, rebuilt)


def test_a_run_killed_before_keeping_its_memo_is_followed_by_an_addition_to_the_older_memo(
    raw_dir: Path, warehouse: Path, tmp_path: Path
):
    assert ingest(raw_dir, warehouse).normalised == (
        "normalised in full: no memo of the last normalisation"
    )
    memo = State.for_warehouse(warehouse).memo
    shutil.copytree(memo, tmp_path / "kept")
    _add_page(raw_dir)
    assert ingest(raw_dir, warehouse).normalised == (
        "1 new content added to the last normalisation"
    )
    # As if that run was killed after publishing, before keeping its memo.
    shutil.rmtree(memo)
    shutil.copytree(tmp_path / "kept", memo)
    (raw_dir / "2026-11-26" / "third.txt").write_text(
        (raw_dir / "2026-11-26" / "other.txt").read_text().replace("Han Xu", "Jo Park"),
        encoding="utf-8",
    )
    summary = ingest(raw_dir, warehouse)
    assert summary.normalised == "2 new contents added to the last normalisation"
    rebuilt = tmp_path / "full" / "w.duckdb"
    ingest(raw_dir, rebuilt)
    _assert_same_build(warehouse, rebuilt)
