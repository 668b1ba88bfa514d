"""Helpers for flow tests: run the real flow, read a whole warehouse back as frames."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows import ingest as ingest_module
from flows.ingest import RunSummary
from flows.runner import run_ingest

# Tables whose rows must not depend on how or when the raw files were ingested.
CORE_TABLES = (
    "author", "paper", "authorship", "paper_topic", "paper_citation", "profile_snapshot",
    "profile_paper", "paper_observation", "ingest_failure", "author_metrics", "coauthor_edge",
    "author_network", "topic_year", "profile_cluster", "profile_purity", "profile_history",
)  # fmt: skip


def ingest(raw: Path, warehouse: Path, **options: object) -> RunSummary:
    return run_ingest(raw, warehouse, **options)  # type: ignore[arg-type]


def read_tables(warehouse: Path, tables: tuple[str, ...] = CORE_TABLES) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frames = {}
        for table in tables:
            frame = con.sql(f"select * from {table}").pl()
            keys = [name for name, dtype in frame.schema.items() if not dtype.is_nested()]
            frames[table] = frame.sort(keys, nulls_last=True)
        return frames


def ingest_ledger(warehouse: Path) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql("select path, sha256, status, reason from ingest_file order by path").pl()


def tree_digest(folder: Path) -> dict[str, tuple[str, int]]:
    """Content hash and mtime of every file: raw files must never change."""
    return {
        str(path.relative_to(folder)): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def use_sql_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: str, text: str) -> None:
    """Make the flow build from a copy of `sql/` with one more file (a model or a check)."""
    sql = tmp_path / "sql"
    shutil.copytree(ingest_module.sql_dir(), sql)
    (sql / relative).write_text(text)
    monkeypatch.setattr(ingest_module, "sql_dir", lambda: sql)
