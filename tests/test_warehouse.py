"""Loading frames into a build file, and the process settings a run starts with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows import warehouse


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
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        warehouse.create_table(con, "sliced", frame)
        warehouse.create_table(con, "empty", frame.clear())
        assert_frame_equal(con.sql("select * from sliced").pl(), frame)
        assert con.sql("select count(*) from empty").fetchall() == [(0,)]


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
