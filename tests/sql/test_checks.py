"""sql/checks: every check passes on a consistent warehouse and catches its own violation."""

from __future__ import annotations

from datetime import datetime

import pytest

from flows.models import run_check, run_checks


def consistent(warehouse, models=None):
    """A small warehouse where every rule holds, with the given models (default all) built."""
    warehouse.insert("author", [{"author_id": a} for a in ("a", "b", "c")])
    warehouse.insert(
        "paper",
        [
            {"paper_id": "p1", "published_year": 2020, "n_citations": 3, "title": "Graphs"},
            {"paper_id": "p2", "published_year": 2021, "n_citations": None, "title": "Trees"},
        ],
    )
    warehouse.insert(
        "authorship",
        [
            {"paper_id": "p1", "author_id": "a"},
            {"paper_id": "p1", "author_id": "b"},
            {"paper_id": "p2", "author_id": "a"},
        ],
    )
    warehouse.insert("paper_topic", [{"paper_id": "p1", "scheme": "arxiv", "topic": "cs.LG"}])
    warehouse.insert(
        "profile_snapshot",
        [{"snapshot_id": "s1", "author_id": "a", "captured_at": datetime(2025, 1, 1)}],
    )
    warehouse.insert(
        "profile_paper",
        [
            {"snapshot_id": "s1", "author_id": "a", "paper_id": "p1"},
            {"snapshot_id": "s1", "author_id": "a", "paper_id": "p2"},
        ],
    )
    warehouse.insert(
        "ingest_file",
        [
            {"path": "raw/1.txt", "status": "loaded"},
            {"path": "raw/2.txt", "status": "duplicate"},
            {"path": "raw/3.txt", "status": "quarantined", "reason": "not a profile page"},
        ],
    )
    warehouse.build(*(warehouse.models if models is None else models))


def test_every_check_passes_on_a_consistent_warehouse(warehouse, checks):
    consistent(warehouse)
    results = run_checks(warehouse.con, checks.values())
    assert [r.describe() for r in results if not r.passed] == []
    assert len(results) == len(checks)


VIOLATIONS = {
    "author_id_is_unique_and_not_null": [("author", {"author_id": "a"})],
    "paper_id_is_unique_and_not_null": [("paper", {"paper_id": None})],
    "authorship_key_is_unique_and_not_null": [
        ("authorship", {"paper_id": "p1", "author_id": "a", "author_position": 3})
    ],
    "profile_snapshot_id_is_unique_and_not_null": [
        ("profile_snapshot", {"snapshot_id": "s1", "author_id": "b"})
    ],
    "ingest_file_path_is_unique_and_not_null": [
        ("ingest_file", {"path": "raw/1.txt", "status": "duplicate"})
    ],
    "author_metrics_author_id_is_unique_and_not_null": [("author_metrics", {"author_id": "c"})],
    "coauthor_edge_key_is_unique_ordered_and_not_null": [
        ("coauthor_edge", {"author_id_a": "b", "author_id_b": "a", "n_papers": 1})
    ],
    "topic_year_key_is_unique_and_not_null": [
        ("topic_year", {"scheme": "arxiv", "topic": "cs.LG", "year": 2020, "n_papers": 1})
    ],
    "profile_cluster_key_is_unique_and_not_null": [
        ("profile_cluster", {"author_id": "a", "cluster_id": 1, "n_papers": 1})
    ],
    "authorship_paper_exists": [("authorship", {"paper_id": "p9", "author_id": "a"})],
    "authorship_author_exists": [("authorship", {"paper_id": "p2", "author_id": "z"})],
    "profile_snapshot_author_exists": [
        ("profile_snapshot", {"snapshot_id": "s2", "author_id": "z"})
    ],
    "profile_paper_paper_exists": [
        ("profile_paper", {"snapshot_id": "s1", "author_id": "a", "paper_id": "p9"})
    ],
    "profile_paper_author_exists": [
        ("profile_snapshot", {"snapshot_id": "s2", "author_id": "z"}),
        ("profile_paper", {"snapshot_id": "s2", "author_id": "z", "paper_id": "p1"}),
    ],
    "profile_paper_snapshot_exists": [
        ("profile_paper", {"snapshot_id": "s9", "author_id": "a", "paper_id": "p1"})
    ],
    "author_metrics_h_index_at_most_n_papers": [
        ("author_metrics", {"author_id": "z", "n_papers": 1, "h_index": 2, "g_index": 2})
    ],
    "author_metrics_g_index_at_least_h_index": [
        ("author_metrics", {"author_id": "z", "n_papers": 3, "h_index": 2, "g_index": 1})
    ],
    "author_metrics_has_one_row_per_author": [("author", {"author_id": "new"})],
    "ingest_file_status_is_allowed": [("ingest_file", {"path": "raw/4.txt", "status": "done"})],
    "ingest_file_quarantine_has_reason": [
        ("ingest_file", {"path": "raw/4.txt", "status": "quarantined", "reason": " "})
    ],
}


def test_every_check_has_a_violation_case(checks):
    assert set(VIOLATIONS) == set(checks)


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_each_check_reports_its_violating_rows(warehouse, checks, name):
    consistent(warehouse, [model for model in warehouse.models if model in checks[name].sql])
    for table, row in VIOLATIONS[name]:
        warehouse.insert(table, [row])
    result = run_check(warehouse.con, checks[name])
    assert result.name == name
    assert result.n_violations >= 1
    assert not result.passed
    assert result.sample and all(isinstance(row, dict) for row in result.sample)
    assert name in result.describe()
