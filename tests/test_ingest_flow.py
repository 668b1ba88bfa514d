"""End to end: the real ingest flow under Prefect's test harness into temporary warehouses."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import flows.cache
from flows import ingest as ingest_module
from flows.cache import ReadersDiffer, State
from flows.ingest import CheckFailed, ParsedMissing
from flows.landing import RawFile
from tests.conftest import SAMPLE
from tests.flow_helpers import ingest, ingest_ledger, read_tables, tree_digest, use_sql_with

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_sample_ingest_shows_the_facts_of_the_real_sample(raw_dir: Path, warehouse: Path):
    summary = ingest(raw_dir, warehouse)
    assert summary.published and summary.files == {"loaded": 1}
    assert _query(warehouse, "select count(*) from paper") == [(22,)]
    assert _query(warehouse, "select count(*) from author") == [(34,)]
    assert _query(
        warehouse,
        "select count(*), count(*) filter (is_inferred and author_position is null) "
        "from authorship",
    ) == [(74, 8)]
    assert _query(warehouse, "select count(*) from paper where has_code") == [(6,)]
    assert _query(
        warehouse, "select published_on::varchar from paper where title like 'UniPinRec%'"
    ) == [("2026-05-29",)]
    assert _query(warehouse, "select distinct category from paper order by 1") == [
        (c,) for c in ["cs.AI", "cs.CL", "cs.CV", "cs.IR", "cs.LG", "cs.NE", "eess.IV"]
    ]
    assert _query(
        warehouse,
        "select h_index, n_papers, n_citations, novelty_pct, ai_score from profile_snapshot",
    ) == [(16, 22, 1248, 41, 49)]
    assert _query(warehouse, "select path, status from ingest_file") == [
        ("2026-11-25/000_615cb040fee88da4.txt", "loaded")
    ]


def test_every_table_and_column_is_documented(raw_dir: Path, warehouse: Path):
    ingest(raw_dir, warehouse)
    undocumented = _query(
        warehouse,
        "select table_name, column_name from duckdb_columns() "
        "where schema_name = 'main' and not internal and (comment is null or comment = '')",
    )
    assert undocumented == []
    assert _query(
        warehouse,
        "select count(*) from duckdb_tables() where schema_name = 'main' and comment is null",
    ) == [(0,)]


def test_unchanged_landing_zone_is_not_rebuilt(raw_dir: Path, warehouse: Path):
    ingest(raw_dir, warehouse)
    published = warehouse.stat().st_ino
    again = ingest(raw_dir, warehouse)
    assert not again.changed and again.n_files_read == 0
    # A flow run (as a scheduled deployment makes) comes to the same answer.
    as_flow = ingest(raw_dir, warehouse, always_flow_run=True)
    assert not as_flow.changed and as_flow.files == again.files == {"loaded": 1}
    assert warehouse.stat().st_ino == published


def test_unchanged_check_needs_no_flow_and_sees_every_kind_of_change(
    raw_dir: Path, warehouse: Path
):
    (raw_dir / "link.txt").symlink_to(next(raw_dir.rglob("*.txt")))
    (raw_dir / "empty.txt").write_bytes(b"")
    first = ingest(raw_dir, warehouse)
    unchanged = ingest_module.nothing_changed(raw_dir, warehouse)
    assert unchanged is not None and not unchanged.changed and unchanged.published
    # The counts of the published build, without opening it.
    assert unchanged.files == first.files == {"loaded": 1, "quarantined": 2}
    assert list(unchanged.seconds) == ["discover"]

    sample = next(p for p in raw_dir.rglob("*.txt") if p.name.startswith("000_"))
    stat = sample.stat()
    os.utime(sample, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert ingest_module.nothing_changed(raw_dir, warehouse) is None, "a touched file"
    ingest(raw_dir, warehouse)
    assert ingest_module.nothing_changed(raw_dir, warehouse) is not None

    (raw_dir / "new.txt").write_text("x")
    assert ingest_module.nothing_changed(raw_dir, warehouse) is None, "a new file"
    (raw_dir / "new.txt").unlink()
    assert ingest_module.nothing_changed(raw_dir, warehouse) is not None
    (raw_dir / "empty.txt").unlink()
    assert ingest_module.nothing_changed(raw_dir, warehouse) is None, "a removed file"
    (raw_dir / "empty.txt").write_bytes(b"")
    assert ingest_module.nothing_changed(raw_dir, warehouse) is None, "mtime differs now"
    ingest(raw_dir, warehouse)

    state = State.for_warehouse(warehouse)
    published = (state.root / "published.txt").read_text()
    code, inputs = published.split()[:2]
    (state.root / "published.txt").write_text(published.replace(code, "0" * len(code), 1))
    assert ingest_module.nothing_changed(raw_dir, warehouse) is None, "other code"
    (state.root / "published.txt").write_text(published.replace(inputs, "0" * len(inputs), 1))
    assert ingest_module.nothing_changed(raw_dir, warehouse) is None, "other inputs"
    (state.root / "published.txt").write_text(published)
    state.manifest_path.unlink()
    assert ingest_module.nothing_changed(raw_dir, warehouse) is None, "no manifest"


def test_the_code_fingerprint_is_of_the_code_not_of_where_it_lies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    here = ingest_module.code_fingerprint()
    ignore = shutil.ignore_patterns("__pycache__")
    copies = []
    for place in ("moved", "releases/2"):
        folder = tmp_path / place
        shutil.copytree(ingest_module._PACKAGE, folder / "flows", ignore=ignore)
        shutil.copytree(ingest_module.sql_dir(), folder / "sql", ignore=ignore)
        copies.append(folder / "flows")
    prints = []
    for package in copies:
        monkeypatch.setattr(ingest_module, "_PACKAGE", package)
        prints.append(ingest_module.code_fingerprint())
    # Moved elsewhere, the same code keeps its warehouse; changed, it does not.
    assert prints == [here, here]
    model = next((copies[1].parent / "sql").rglob("*.sql"))
    model.write_text(model.read_text() + "\n")
    assert ingest_module.code_fingerprint() != here
    model.rename(model.with_name("renamed.sql"))
    assert ingest_module.code_fingerprint() != here


def test_a_touched_but_identical_file_is_rehashed_not_reparsed(raw_dir: Path, warehouse: Path):
    first = ingest(raw_dir, warehouse)
    assert first.n_files_read == 1 and first.n_files_parsed == 1
    before = read_tables(warehouse)
    sample = next(raw_dir.rglob("*.txt"))
    sample.touch()
    rerun = ingest(raw_dir, warehouse)
    assert rerun.n_files_read == 1 and rerun.n_files_parsed == 0
    after = read_tables(warehouse)
    for name in before:
        assert_frame_equal(before[name], after[name])
    # Two copies of a new content and one of a known content: one new content is parsed.
    text = sample.read_text(encoding="utf-8")
    (sample.parent / "copy.txt").write_text(text, encoding="utf-8")
    for name in ("new-a.txt", "new-b.txt"):
        (sample.parent / name).write_text(text + "\n", encoding="utf-8")
    more = ingest(raw_dir, warehouse)
    assert more.n_files_read == 3 and more.n_files_parsed == 1


def test_copies_are_duplicates_and_bad_files_are_quarantined_with_reasons(
    raw_dir: Path, warehouse: Path
):
    (raw_dir / "copies").mkdir()
    shutil.copy(SAMPLE, raw_dir / "copies" / "same bytes; 'quoted'.txt")
    (raw_dir / "empty.txt").write_bytes(b"")
    (raw_dir / "binary.bin").write_bytes(b"\x00\x01\x02garbage")
    (raw_dir / "notes.txt").write_text("just some notes\nnothing to see\n")
    before = tree_digest(raw_dir)
    summary = ingest(raw_dir, warehouse)
    assert summary.files == {"loaded": 1, "duplicate": 1, "quarantined": 3}
    ledger = {row["path"]: row for row in ingest_ledger(warehouse).iter_rows(named=True)}
    assert ledger["2026-11-25/000_615cb040fee88da4.txt"]["status"] == "loaded"
    copy = ledger["copies/same bytes; 'quoted'.txt"]
    assert copy["status"] == "duplicate"
    assert "2026-11-25/000_615cb040fee88da4.txt" in copy["reason"]
    assert "empty" in ledger["empty.txt"]["reason"]
    assert "NUL" in ledger["binary.bin"]["reason"]
    assert "not a profile page" in ledger["notes.txt"]["reason"]
    assert _query(warehouse, "select count(*) from paper") == [(22,)]
    assert tree_digest(raw_dir) == before, "raw files must never be modified"


def test_same_files_in_one_run_or_many_give_the_same_tables(tmp_path: Path):
    second = tmp_path / "second.txt"
    text = SAMPLE.read_text(encoding="utf-8")
    # A later capture of the same profile, with one more paper and higher metrics.
    later = (
        text.replace("h-index16", "h-index17")
        .replace("22 Papers", "23 Papers")
        .replace(
            "\n\nIRMay 29\n",
            "\n\nLGNov 20\nA Brand New Paper on Graphs\n\nYaxin Li, Han Xu\n\nAbstract.\n\nIRMay 29\n",
            1,
        )
    )
    second.write_text(later, encoding="utf-8")
    one = tmp_path / "one" / "raw"
    (one / "2026-11-25").mkdir(parents=True)
    (one / "2026-11-26").mkdir(parents=True)
    shutil.copy(SAMPLE, one / "2026-11-25" / "a.txt")
    shutil.copy(second, one / "2026-11-26" / "b.txt")
    ingest(one, tmp_path / "one" / "w.duckdb")

    many = tmp_path / "many" / "raw"
    (many / "2026-11-26").mkdir(parents=True)
    shutil.copy(second, many / "2026-11-26" / "b.txt")
    ingest(many, tmp_path / "many" / "w.duckdb")
    (many / "2026-11-25").mkdir()
    shutil.copy(SAMPLE, many / "2026-11-25" / "a.txt")
    ingest(many, tmp_path / "many" / "w.duckdb")

    first, second_tables = (
        read_tables(tmp_path / "one" / "w.duckdb"),
        read_tables(tmp_path / "many" / "w.duckdb"),
    )
    for name in first:
        assert_frame_equal(first[name], second_tables[name], check_row_order=True)
    assert _query(tmp_path / "one" / "w.duckdb", "select count(*) from profile_snapshot") == [(2,)]
    assert _query(
        tmp_path / "one" / "w.duckdb",
        "select count(distinct author_id) from profile_snapshot",
    ) == [(1,)]


def test_rebuild_equals_incremental(raw_dir: Path, warehouse: Path, tmp_path: Path):
    ingest(raw_dir, warehouse)
    extra = raw_dir / "2026-11-26"
    extra.mkdir()
    (extra / "other.txt").write_text(
        "Han Xu\n\nh-index30\n40papers\n\n1 Papers\n\nLGSep 2, 2020\n"
        "Yet Meta Learning Can Adapt Fast, It Can Also Break Easily\n\n"
        "Han Xu, Yaxin Li, Xiaorui Liu et al.\n\nAbstract.\n",
        encoding="utf-8",
    )
    ingest(raw_dir, warehouse)
    incremental = read_tables(warehouse)
    ingest(raw_dir, warehouse, rebuild=True)
    rebuilt = read_tables(warehouse)
    for name in incremental:
        assert_frame_equal(incremental[name], rebuilt[name])
    # The shared paper is one paper with both page owners as listed authors.
    assert _query(
        warehouse,
        "select count(*) from paper where title like 'Yet Meta Learning%'",
    ) == [(1,)]


def test_a_failing_check_keeps_the_previous_warehouse(
    raw_dir: Path, warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    ingest(raw_dir, warehouse)
    published = warehouse.stat().st_ino
    use_sql_with(
        tmp_path,
        monkeypatch,
        "checks/no_paper_mentions_graphs.sql",
        "-- no_paper_mentions_graphs: a paper whose title mentions graphs\n"
        "select paper_id, title from paper where title ilike '%graph%'\n",
    )
    (raw_dir / "2026-11-25" / "000_615cb040fee88da4.txt").touch()
    with pytest.raises(CheckFailed, match="no_paper_mentions_graphs"):
        ingest(raw_dir, warehouse)
    assert warehouse.stat().st_ino == published
    assert _query(warehouse, "select count(*) from paper") == [(22,)]


def test_a_reader_holding_the_warehouse_open_never_blocks_a_load(raw_dir: Path, warehouse: Path):
    ingest(raw_dir, warehouse)
    reader = duckdb.connect(str(warehouse), read_only=True)
    try:
        (raw_dir / "2026-11-25" / "more.txt").write_text(
            "Someone Else\n\nh-index1\n1papers\n\nCVJan 3, 2021\nAnother Paper\n\nSomeone Else\n",
            encoding="utf-8",
        )
        summary = ingest(raw_dir, warehouse)
        assert summary.published
        assert reader.execute("select count(*) from paper").fetchall() == [(22,)]
    finally:
        reader.close()
    assert _query(warehouse, "select count(*) from paper") == [(23,)]


def test_process_pool_reading_gives_the_same_tables_as_threads(raw_dir: Path, tmp_path: Path):
    for index in range(4):
        folder = raw_dir / f"2026-11-2{index}"
        folder.mkdir(exist_ok=True)
        text = SAMPLE.read_text(encoding="utf-8").replace("Yaxin Li\n", f"Person {index}\n", 1)
        (folder / f"p{index}.txt").write_text(text, encoding="utf-8")
    ingest(raw_dir, tmp_path / "a.duckdb", workers=1)
    ingest(raw_dir, tmp_path / "b.duckdb", workers=2, batch_files=2)
    one, two = read_tables(tmp_path / "a.duckdb"), read_tables(tmp_path / "b.duckdb")
    for name in one:
        assert_frame_equal(one[name], two[name])
    ledger = ingest_ledger(tmp_path / "b.duckdb")
    assert ledger["status"].to_list().count("loaded") == 5
    assert isinstance(ledger, pl.DataFrame)


def test_a_worker_with_other_readers_refuses_its_batch_and_nothing_is_published(
    raw_dir: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    ingest(raw_dir, warehouse)
    published = warehouse.stat().st_ino
    for index in range(3):
        text = SAMPLE.read_text(encoding="utf-8").replace("Yaxin Li\n", f"Person {index}\n", 1)
        (raw_dir / "2026-11-25" / f"p{index}.txt").write_text(text, encoding="utf-8")
    # The flow runs other readers than the pool's workers (as a cluster's machine with
    # another version of the package would): each worker refuses, across the process bound.
    monkeypatch.setattr(flows.cache, "reader_fingerprint", lambda: "0123456789ab")
    with pytest.raises(ReadersDiffer, match=r"are not the flow's \(0123456789ab\)"):
        ingest(raw_dir, warehouse, workers=2, batch_files=1)
    assert warehouse.stat().st_ino == published
    assert _query(warehouse, "select count(*) from profile_snapshot") == [(1,)]


def test_files_read_but_missing_from_the_parse_cache_stop_the_run(
    raw_dir: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    # The parsed frames go nowhere: without the ledger's check the file would count as
    # loaded, with no paper.
    monkeypatch.setattr(State, "write_batch", lambda self, frames: "nowhere")
    with pytest.raises(ParsedMissing, match="1 files were read but their parsed rows"):
        ingest(raw_dir, warehouse)
    assert not warehouse.exists()


def _add_a_profile(raw_dir: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8").replace("Yaxin Li\n", "Person 0\n", 1)
    (raw_dir / "2026-11-25" / "p0.txt").write_text(text, encoding="utf-8")


def test_a_failed_write_out_keeps_the_warehouse_and_the_parse_cache_kept_meanwhile(
    raw_dir: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    ingest(raw_dir, warehouse)
    published = warehouse.stat().st_ino
    _add_a_profile(raw_dir)
    keep_parse_cache = ingest_module._keep_parse_cache

    def slow_keep(*args: object) -> None:
        time.sleep(0.5)  # still keeping the cache when the write-out fails
        keep_parse_cache(*args)

    def full_disk(build: Path) -> dict[str, int]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingest_module, "_keep_parse_cache", slow_keep)
    monkeypatch.setattr(ingest_module, "_counts_and_write_out", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        ingest(raw_dir, warehouse)
    # The run waited for the cache to be kept before it let go of the state folder.
    assert not [t for t in threading.enumerate() if t.name.startswith("keep-cache")]
    assert "2026-11-25/p0.txt" in State.for_warehouse(warehouse).read_manifest()["path"]
    assert warehouse.stat().st_ino == published
    assert _query(warehouse, "select count(*) from profile_snapshot") == [(1,)]
    monkeypatch.undo()
    # The next run reads no file again: the new one's parsed rows and manifest row were kept.
    again = ingest(raw_dir, warehouse)
    assert again.published and again.n_files_read == 0
    assert _query(warehouse, "select count(*) from profile_snapshot") == [(2,)]


def test_an_error_keeping_the_parse_cache_fails_the_run(
    raw_dir: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    ingest(raw_dir, warehouse)
    state = State.for_warehouse(warehouse)
    fingerprints = (state.root / "published.txt").read_text()
    _add_a_profile(raw_dir)

    def full_disk(self: State, manifest: pl.DataFrame) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(State, "write_manifest", full_disk)
    # Not lost in the thread that keeps the cache: the run fails, and does not record the
    # new build as published of these files, so the next run makes sure of them.
    with pytest.raises(OSError, match="No space left on device"):
        ingest(raw_dir, warehouse)
    assert (state.root / "published.txt").read_text() == fingerprints
    monkeypatch.undo()
    again = ingest(raw_dir, warehouse)
    assert again.published
    assert _query(warehouse, "select count(*) from profile_snapshot") == [(2,)]


def test_sample_models_show_the_known_network_clusters_and_trends(raw_dir: Path, warehouse: Path):
    ingest(raw_dir, warehouse)
    assert _query(warehouse, "select count(*) from coauthor_edge") == [(65,)]
    assert _query(warehouse, "select count(*), max(n_papers) from profile_cluster") == [(10, 7)]
    assert _query(
        warehouse,
        "select n_papers from topic_year where scheme = 'arxiv' and topic = 'cs.LG' and year = 2020",
    ) == [(4,)]
    assert _query(
        warehouse,
        "select h_index_reported, h_index from author_metrics join author using (author_id) "
        "where display_name = 'Yaxin Li'",
    ) == [(16, None)]


def test_a_failing_model_keeps_the_previous_warehouse(
    raw_dir: Path, warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    ingest(raw_dir, warehouse)
    published = warehouse.stat().st_ino
    use_sql_with(
        tmp_path,
        monkeypatch,
        "marts/broken_model.sql",
        "-- broken_model: one row per nothing\n-- x: a column\nselect x from no_such_table\n",
    )
    (raw_dir / "2026-11-25" / "000_615cb040fee88da4.txt").touch()
    with pytest.raises(Exception, match="broken_model"):
        ingest(raw_dir, warehouse)
    assert warehouse.stat().st_ino == published
    assert _query(warehouse, "select count(*) from paper") == [(22,)]


def test_read_pool_processes_run_polars_on_one_thread_each(monkeypatch: pytest.MonkeyPatch):
    # Two polars threads in each of a process per core only contend for the cores.
    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    with ingest_module.read_pool(2) as pool:
        sizes = {pool.submit(pl.thread_pool_size).result() for _ in range(4)}
    assert sizes == {1}
    # Only the pool's processes: the flow's own keeps polars' threads for the normalisation.
    assert "POLARS_MAX_THREADS" not in os.environ


@pytest.mark.parametrize(
    ("n_files", "size", "sizes"),
    [
        (0, 4, []),
        (3, 4, [3]),
        (4, 4, [4]),
        (5, 4, [3, 2]),
        (9, 4, [3, 3, 3]),
        (4001, 4000, [2001, 2000]),
    ],
)
def test_files_are_read_in_as_few_batches_as_hold_them_of_even_sizes(
    n_files: int, size: int, sizes: list[int]
):
    files = [RawFile(f"f{i:05d}.txt", 1, 1, None) for i in range(n_files)]
    batches = ingest_module._batches(files, size)
    assert [len(batch) for batch in batches] == sizes
    assert [raw for batch in batches for raw in batch] == files
