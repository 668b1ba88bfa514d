"""The test warehouse's core tables stay in step with what flows.warehouse loads."""

from __future__ import annotations

from flows.warehouse import CORE_DOCS


def test_core_tables_match_the_warehouse_docs(warehouse):
    created = {
        table: [
            name
            for name, _ in warehouse.rows(
                "select column_name, column_index from duckdb_columns() "
                "where table_name = ? order by column_index",
                [table],
            )
        ]
        for table in CORE_DOCS
    }
    assert {table: sorted(columns) for table, columns in created.items()} == {
        table: sorted(columns) for table, (_, columns) in CORE_DOCS.items()
    }
