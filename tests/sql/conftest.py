"""Fixtures for the SQL model tests: an empty warehouse with every core table, a way to
insert a few rows, and a way to build the models a test needs (with their dependencies)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from flows.models import Check, Model, discover_checks, discover_models, run_models

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"

# The core tables as docs/warehouse-schema.md and flows.warehouse.CORE_DOCS define them
# (test_core_tables_match_the_warehouse_docs keeps the names in step).
CORE_TABLES: dict[str, dict[str, str]] = {
    "author": {
        "author_id": "varchar",
        "display_name": "varchar",
        "name_key": "varchar",
        "kind": "varchar",
        "n_profiles": "integer",
    },
    "paper": {
        "paper_id": "varchar",
        "title": "varchar",
        "title_key": "varchar",
        "published_on": "date",
        "published_year": "integer",
        "is_year_inferred": "boolean",
        "category": "varchar",
        "category_raw": "varchar",
        "is_category_known": "boolean",
        "is_category_ambiguous": "boolean",
        "has_code": "boolean",
        "abstract": "varchar",
        "doi": "varchar",
        "arxiv_id": "varchar",
        "n_authors_listed": "integer",
        "is_author_list_truncated": "boolean",
        "n_observations": "integer",
        "first_seen_at": "timestamp",
        "last_seen_at": "timestamp",
        "n_citations": "bigint",
        "n_citations_source": "varchar",
        "n_citations_observed_at": "timestamp",
    },
    "authorship": {
        "paper_id": "varchar",
        "author_id": "varchar",
        "author_position": "integer",
        "is_inferred": "boolean",
    },
    "paper_topic": {"paper_id": "varchar", "scheme": "varchar", "topic": "varchar"},
    "paper_citation": {
        "paper_id": "varchar",
        "source": "varchar",
        "observed_at": "timestamp",
        "n_citations": "bigint",
        "sha256": "varchar",
    },
    "author_source_id": {"author_id": "varchar", "scheme": "varchar", "source_id": "varchar"},
    "profile_snapshot": {
        "snapshot_id": "varchar",
        "author_id": "varchar",
        "captured_at": "timestamp",
        "source": "varchar",
        "display_name": "varchar",
        "h_index": "integer",
        "i10_index": "integer",
        "n_papers": "integer",
        "n_citations": "bigint",
        "novelty_pct": "integer",
        "ai_score": "integer",
        "n_papers_listed": "integer",
        "n_papers_read": "integer",
        "primary_category": "varchar",
        "source_author_id": "varchar",
        "sha256": "varchar",
        "path": "varchar",
        "line": "integer",
    },
    "profile_paper": {
        "snapshot_id": "varchar",
        "author_id": "varchar",
        "paper_id": "varchar",
        "line": "integer",
    },
    "paper_observation": {
        "paper_id": "varchar",
        "sha256": "varchar",
        "path": "varchar",
        "line": "integer",
        "source": "varchar",
        "source_paper_id": "varchar",
        "title": "varchar",
        "published_on": "date",
        "published_year": "integer",
        "date_text": "varchar",
        "category_raw": "varchar",
        "has_code": "boolean",
        "n_citations": "bigint",
        "n_authors_listed": "integer",
        "authors_truncated": "boolean",
        "affiliation": "varchar",
        "captured_at": "timestamp",
        "flags": "varchar[]",
    },
    "ingest_file": {
        "path": "varchar",
        "sha256": "varchar",
        "status": "varchar",
        "reason": "varchar",
        "format": "varchar",
        "n_papers": "integer",
        "n_failures": "integer",
        "size_bytes": "bigint",
        "modified_at": "timestamp",
        "captured_at": "timestamp",
    },
    "ingest_failure": {
        "sha256": "varchar",
        "path": "varchar",
        "line": "integer",
        "reason": "varchar",
        "text": "varchar",
    },
    "warehouse_info": {
        "built_at": "timestamp",
        "code_fingerprint": "varchar",
        "input_fingerprint": "varchar",
        "n_files": "integer",
    },
}


def create_core_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every core table, empty, with the documented types."""
    for table, columns in CORE_TABLES.items():
        body = ", ".join(f"{name} {type_}" for name, type_ in columns.items())
        con.execute(f"create table {table} ({body})")


class Warehouse:
    """An in-memory warehouse: core tables to fill, models to build, rows to read back."""

    def __init__(self, models: Mapping[str, Model]) -> None:
        self.con = duckdb.connect()
        self.models = models
        create_core_tables(self.con)

    def insert(self, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Insert rows given as dicts; columns left out are null."""
        columns = CORE_TABLES.get(table)
        rows = list(rows)
        if not rows:
            return
        names = list(dict.fromkeys(name for row in rows for name in row))
        if columns is not None:
            unknown = set(names) - set(columns)
            assert not unknown, f"{table} has no column(s) {sorted(unknown)}"
        frame = pl.DataFrame(
            {name: [row.get(name) for row in rows] for name in names},
            strict=False,
        )
        self.con.register("inserted_rows", frame)
        self.con.execute(f"insert into {table} by name select * from inserted_rows")
        self.con.unregister("inserted_rows")

    def build(self, *names: str) -> None:
        """Build the named models and everything they depend on, in dependency order."""
        needed: set[str] = set()
        pending = list(names)
        while pending:
            name = pending.pop()
            if name not in needed:
                needed.add(name)
                pending.extend(self.models[name].depends_on)
        run_models(self.con, [m for m in self.models.values() if m.name in needed])

    def rows(self, query: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(query, parameters or []).fetchall()

    def dicts(self, query: str) -> list[dict[str, Any]]:
        cursor = self.con.execute(query)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    def close(self) -> None:
        self.con.close()


@pytest.fixture(scope="session")
def models() -> dict[str, Model]:
    """The repository's models, in dependency order."""
    return {model.name: model for model in discover_models(SQL_DIR)}


@pytest.fixture(scope="session")
def checks() -> dict[str, Check]:
    """The repository's checks, by name."""
    return {check.name: check for check in discover_checks(SQL_DIR)}


@pytest.fixture(scope="session")
def new_warehouse(models: dict[str, Model]) -> Callable[[], Warehouse]:
    """A factory for fresh warehouses (usable inside hypothesis tests)."""
    return lambda: Warehouse(models)


@pytest.fixture
def warehouse(new_warehouse: Callable[[], Warehouse]) -> Iterable[Warehouse]:
    """A fresh, empty in-memory warehouse."""
    wh = new_warehouse()
    yield wh
    wh.close()
