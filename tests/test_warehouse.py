"""Loading frames into a build file, and the process settings a run starts with."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows import warehouse
from flows.ingest import load_tables
from flows.landing import usable_cores


def test_a_frame_larger_than_a_slice_loads_whole_and_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    frame = pl.DataFrame(
        {
            "paper_id": [f"P{i:05d}" for i in range(5_000)],
            "title": [f"title {i} " * (i % 7) or None for i in range(5_000)],
            "flags": [["a", "b"][: i % 3] for i in range(5_000)],
        }
    )
    monkeypatch.setattr(warehouse, "_SLICE_BYTES", 4_096)
    monkeypatch.setattr(warehouse, "_ROW_GROUP_ROWS", 1)
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        warehouse.create_table(con, "sliced", frame)
        warehouse.create_table(con, "empty", frame.clear())
        assert_frame_equal(con.sql("select * from sliced").pl(), frame)
        assert con.sql("select count(*) from empty").fetchall() == [(0,)]


def test_a_slice_holds_a_row_group_for_each_duckdb_thread(monkeypatch: pytest.MonkeyPatch):
    # An insert compresses one row group per thread: a table loaded alone on two threads
    # took 0.8-0.9 s instead of 1.4 s (the papers of 10^5 profiles).
    frame = pl.DataFrame({"i": range(1_000)}, schema={"i": pl.Int64})
    monkeypatch.setattr(warehouse, "_SLICE_BYTES", 800)  # 100 rows of 8 bytes
    monkeypatch.setattr(warehouse, "_ROW_GROUP_ROWS", 30)
    with duckdb.connect() as con:
        sizes = {}
        for threads in (1, 4, 8, 16):
            con.execute("set threads = ?", [threads])
            sizes[threads] = warehouse._slice_rows(con, frame)
    # At most four times the bytes of a slice.
    assert sizes == {1: 100, 4: 120, 8: 240, 16: 400}


def test_the_row_group_size_is_duckdbs(tmp_path: Path):
    rows = 2 * warehouse._ROW_GROUP_ROWS + 1
    with duckdb.connect(str(tmp_path / "groups.duckdb")) as con:
        warehouse.create_table(con, "numbers", pl.DataFrame({"i": range(rows)}))
        con.execute("checkpoint")
        groups = con.sql(
            "select row_group_id, max(count) from pragma_storage_info('numbers') group by 1"
        ).fetchall()
    assert sorted(count for _, count in groups) == [1, *[warehouse._ROW_GROUP_ROWS] * 2]


def _compression(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, set[str]]:
    found = con.sql(
        "select column_name, compression from pragma_storage_info(?) "
        "where segment_type = 'VARCHAR'",
        params=[table],
    ).fetchall()
    methods: dict[str, set[str]] = {}
    for column, method in found:
        methods.setdefault(column, set()).add(method)
    return methods


def test_long_texts_are_stored_with_zstd_and_read_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    frame = pl.DataFrame(
        {
            "paper_id": [f"P{i:05d}" for i in range(5_000)],
            "abstract": [f"abstract {i} is long. " * 4 if i % 5 else None for i in range(5_000)],
            "flags": [["a", "b"][: i % 3] for i in range(5_000)],
            "seen_at": [datetime(2026, 1, 1 + i % 28) for i in range(5_000)],
            "order": list(range(5_000)),  # a keyword
        }
    )
    monkeypatch.setattr(warehouse, "_SLICE_BYTES", 4_096)
    monkeypatch.setattr(warehouse, "_ROW_GROUP_ROWS", 1)
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        warehouse.create_table(con, "sliced", frame)
        con.execute("checkpoint")
        assert_frame_equal(con.sql("select * from sliced").pl(), frame)
        methods = _compression(con, "sliced")
        assert methods["abstract"] == {"ZSTD"}
        assert "ZSTD" not in methods["paper_id"]


def test_a_table_with_a_nested_column_keeps_duckdbs_own_compression(tmp_path: Path):
    frame = pl.DataFrame(
        {
            "abstract": ["a long abstract, " * 8] * 3_000,
            "where": [{"page": i, "line": i + 1} for i in range(3_000)],
        }
    )
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        warehouse.create_table(con, "nested", frame)
        con.execute("checkpoint")
        assert_frame_equal(con.sql("select * from nested").pl(), frame)
        assert "ZSTD" not in _compression(con, "nested")["abstract"]


def build_info() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "built_at": [datetime(2026, 1, 1)],
            "code_fingerprint": ["c"],
            "input_fingerprint": ["i"],
            "n_files": [5],
        }
    )


def test_load_tables_loads_every_frame_and_gives_duckdb_its_threads_back(tmp_path: Path):
    build = tmp_path / "build.duckdb"
    frames = {f"t{i}": pl.DataFrame({"x": list(range(i * 997))}) for i in range(1, 6)}
    expected = {name: frame.clone() for name, frame in frames.items()}
    shown = "select current_setting('threads')"
    with duckdb.connect() as plain:
        default_threads = plain.sql(shown).fetchall()
    with warehouse.build_session(build):
        load_tables.fn(build, frames, build_info())
        with warehouse.connect_build(build) as con:
            assert con.sql(shown).fetchall() == default_threads
            for name, frame in expected.items():
                assert_frame_equal(con.sql(f"select * from {name}").pl(), frame)
            assert con.sql("select n_files from warehouse_info").fetchall() == [(5,)]
    assert frames == {}  # handed over: each frame left once loaded


def test_the_largest_table_loads_first_beside_the_others_and_apart_from_the_second_largest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import flows.ingest

    threads: dict[str, int] = {}
    events: list[tuple[str, str]] = []
    started = {name: threading.Event() for name in ("t1", "t2", "t3", "t4")}
    ended = {name: threading.Event() for name in ("t1", "t2", "t3", "t4")}

    def create_table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
        [(count,)] = con.execute("select current_setting('threads')").fetchall()
        threads[name] = count
        events.append(("start", name))
        if name in started:
            started[name].set()
        if name == "t4":
            # The other lane loads the small tables meanwhile, then waits: the second
            # largest starts only once the largest has gone (given a second to start).
            ended["t2"].wait(timeout=60)
            started["t3"].wait(timeout=1)
        warehouse.create_table(con, name, frame)
        events.append(("end", name))
        if name in ended:
            ended[name].set()

    monkeypatch.setattr(flows.ingest, "create_table", create_table)
    frames = {f"t{i}": pl.DataFrame({"x": list(range(i * 997))}) for i in range(1, 5)}
    with duckdb.connect() as plain:
        [(default_threads,)] = plain.sql("select current_setting('threads')").fetchall()
    load_tables.fn(tmp_path / "build.duckdb", frames, build_info())
    lanes = max(1, usable_cores() - flows.ingest._LANES + 1)
    assert threads == {"t1": lanes, "t2": lanes, "t3": lanes, "t4": lanes,
                       "warehouse_info": default_threads}  # fmt: skip
    # The small tables loaded beside the largest; the second largest only after it.
    assert events.index(("end", "t2")) < events.index(("end", "t4"))
    assert events.index(("end", "t4")) < events.index(("start", "t3"))


def test_a_table_that_fails_to_load_fails_the_load(tmp_path: Path):
    """All but the largest table load on two threads: an error there reaches the caller."""
    frames = {
        "small": pl.DataFrame({"x": [1, 2]}),
        "paper": pl.DataFrame({"paper_id": ["P1"], "not_a_documented_column": [1]}),
        "largest": pl.DataFrame({"x": list(range(10_000))}),
    }
    with pytest.raises(ValueError, match="undocumented columns"):
        load_tables.fn(tmp_path / "build.duckdb", frames, build_info())


def test_build_connections_bound_their_memory(tmp_path: Path):
    shown = "select current_setting('memory_limit')"
    with warehouse.connect_build(tmp_path / "build.duckdb", new=True) as con:
        limit = con.sql(shown).fetchall()
    with duckdb.connect() as plain:
        default = plain.sql(shown).fetchall()
    with duckdb.connect(config={"memory_limit": warehouse.BUILD_MEMORY_LIMIT}) as bounded:
        assert limit == bounded.sql(shown).fetchall() != default


def test_importing_the_package_returns_freed_memory_at_once():
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    shown = subprocess.run(
        [sys.executable, "-c", "import flows, polars, os; print(os.environ['_RJEM_MALLOC_CONF'])"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown.endswith(",dirty_decay_ms:100,muzzy_decay_ms:0")


def test_publishing_replaces_the_file_and_removes_the_old_one_while_its_readers_keep_it(
    tmp_path: Path,
):
    target = tmp_path / "wh" / "w.duckdb"
    builds = tmp_path / "build"
    builds.mkdir()
    for value in (1, 2):
        build = builds / f"b{value}.duckdb"
        with duckdb.connect(str(build)) as con:
            con.execute("create table t as select ? as v", [value])
        if value == 1:
            assert warehouse.publish(build, target) is None  # nothing replaced
            reader = duckdb.connect(str(target), read_only=True)
            old_inode = target.stat().st_ino
        else:
            removing = warehouse.publish(build, target)
            assert removing is not None
            removing.join()
    # The old file is gone from every folder, yet its reader still reads it.
    assert list(builds.iterdir()) == [] and [p.name for p in target.parent.iterdir()] == [
        "w.duckdb"
    ]
    assert target.stat().st_ino != old_inode
    assert reader.sql("select v from t").fetchall() == [(1,)]
    reader.close()
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.sql("select v from t").fetchall() == [(2,)]


def test_table_counts_are_each_tables_rows_deleted_ones_and_empty_tables_included(
    tmp_path: Path,
):
    with duckdb.connect(str(tmp_path / "counts.duckdb")) as con:
        assert warehouse.table_counts(con) == {}
        con.execute("create table paper as select range as i from range(1000)")
        con.execute("create table author as select range as i from range(7)")
        con.execute("create table empty (i integer)")
        con.execute("create schema other")
        con.execute("create table other.hidden as select 1 as i")
        con.execute("delete from paper where i % 3 = 0")
        assert warehouse.table_counts(con) == {"author": 7, "empty": 0, "paper": 666}
