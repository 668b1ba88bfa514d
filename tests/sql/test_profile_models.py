"""profile_cluster, profile_purity and profile_history: what the captured profiles show."""

from __future__ import annotations

from datetime import datetime


def add_profile(warehouse, owner, snapshot_id, paper_ids, captured_at=None, **reported):
    warehouse.insert(
        "profile_snapshot",
        [
            {
                "snapshot_id": snapshot_id,
                "author_id": owner,
                "captured_at": captured_at or datetime(2025, 1, 1),
                "source": "profile_page",
                **reported,
            }
        ],
    )
    warehouse.insert(
        "profile_paper",
        [
            {"snapshot_id": snapshot_id, "author_id": owner, "paper_id": p, "line": i + 1}
            for i, p in enumerate(paper_ids)
        ],
    )


def add_paper(warehouse, paper_id, authors, year=None, category=None):
    warehouse.insert(
        "paper", [{"paper_id": paper_id, "published_year": year, "category": category}]
    )
    warehouse.insert("authorship", [{"paper_id": paper_id, "author_id": a} for a in authors])


def clusters(warehouse):
    warehouse.build("profile_cluster")
    return warehouse.rows(
        "select author_id, cluster_id, n_papers, paper_ids from profile_cluster "
        "order by author_id, cluster_id"
    )


def test_papers_sharing_a_coauthor_other_than_the_owner_form_one_cluster(warehouse):
    # p1 and p2 share x, p2 and p3 share y: one cluster by transitivity
    add_paper(warehouse, "p1", ["me", "x"])
    add_paper(warehouse, "p2", ["me", "x", "y"])
    add_paper(warehouse, "p3", ["y", "me"])
    add_profile(warehouse, "me", "s1", ["p1", "p2", "p3"])
    assert clusters(warehouse) == [("me", 1, 3, ["p1", "p2", "p3"])]


def test_the_owner_alone_does_not_link_papers(warehouse):
    add_paper(warehouse, "p1", ["me", "x"])
    add_paper(warehouse, "p2", ["me", "y"])
    add_paper(warehouse, "p3", ["me"])
    add_profile(warehouse, "me", "s1", ["p1", "p2", "p3"])
    assert clusters(warehouse) == [
        ("me", 1, 1, ["p1"]),
        ("me", 2, 1, ["p2"]),
        ("me", 3, 1, ["p3"]),
    ]


def test_a_coauthor_on_a_paper_not_on_the_page_does_not_link(warehouse):
    add_paper(warehouse, "p1", ["me", "x"])
    add_paper(warehouse, "p2", ["me", "y"])
    add_paper(warehouse, "elsewhere", ["x", "y"])
    add_profile(warehouse, "me", "s1", ["p1", "p2"])
    assert [r[2] for r in clusters(warehouse)] == [1, 1]


def test_cluster_ids_go_by_size_then_smallest_paper_id(warehouse):
    add_paper(warehouse, "p9", ["me", "big"])
    add_paper(warehouse, "p8", ["me", "big"])
    add_paper(warehouse, "p5", ["me", "small"])
    add_paper(warehouse, "p2", ["me"])
    add_profile(warehouse, "me", "s1", ["p9", "p8", "p5", "p2"])
    assert clusters(warehouse) == [
        ("me", 1, 2, ["p8", "p9"]),
        ("me", 2, 1, ["p2"]),
        ("me", 3, 1, ["p5"]),
    ]


def test_a_paper_on_several_captures_counts_once(warehouse):
    add_paper(warehouse, "p1", ["me", "x"])
    add_paper(warehouse, "p2", ["me", "x"])
    add_profile(warehouse, "me", "s1", ["p1", "p2"])
    add_profile(warehouse, "me", "s2", ["p2", "p1"], captured_at=datetime(2025, 2, 1))
    assert clusters(warehouse) == [("me", 1, 2, ["p1", "p2"])]


def test_owners_are_clustered_separately(warehouse):
    # x links p1 and p2 on my page; on x's page p1 and p3 share nobody but x
    add_paper(warehouse, "p1", ["me", "x"])
    add_paper(warehouse, "p2", ["me", "x"])
    add_paper(warehouse, "p3", ["x", "y"])
    add_profile(warehouse, "me", "s1", ["p1", "p2"])
    add_profile(warehouse, "x", "s2", ["p1", "p3"])
    assert clusters(warehouse) == [
        ("me", 1, 2, ["p1", "p2"]),
        ("x", 1, 1, ["p1"]),
        ("x", 2, 1, ["p3"]),
    ]


def test_cluster_years_and_dominant_category_ties_go_alphabetically(warehouse):
    add_paper(warehouse, "p1", ["me", "x"], year=2019, category="cs.LG")
    add_paper(warehouse, "p2", ["me", "x"], year=None, category="cs.AI")
    add_paper(warehouse, "p3", ["me", "x"], year=2016, category=None)
    add_paper(warehouse, "p4", ["me"], year=None, category=None)
    add_profile(warehouse, "me", "s1", ["p1", "p2", "p3", "p4"])
    warehouse.build("profile_cluster")
    assert warehouse.rows(
        "select cluster_id, dominant_category, first_year, last_year from profile_cluster "
        "order by cluster_id"
    ) == [(1, "cs.AI", 2016, 2019), (2, None, None, None)]


def test_profile_purity_is_the_largest_cluster_share_and_covers_owners_without_papers(
    warehouse,
):
    add_paper(warehouse, "p1", ["me", "x"])
    add_paper(warehouse, "p2", ["me", "x"])
    add_paper(warehouse, "p3", ["me", "x"])
    add_paper(warehouse, "p4", ["me"])
    add_profile(warehouse, "me", "s1", ["p1", "p2", "p3", "p4"])
    add_profile(warehouse, "empty", "s2", [])
    warehouse.build("profile_purity")
    assert warehouse.rows(
        "select author_id, n_papers, n_clusters, largest_cluster_papers, purity "
        "from profile_purity order by author_id"
    ) == [("empty", 0, 0, 0, None), ("me", 4, 2, 3, 0.75)]


def test_profile_history_shows_the_change_since_the_same_sources_previous_capture(warehouse):
    captures = [
        ("s1", "profile_page", datetime(2025, 1, 1), 10, 100),
        ("s2", "openalex", datetime(2025, 2, 1), 30, 900),
        ("s3", "profile_page", datetime(2025, 3, 1), 12, None),
        ("s4", "profile_page", datetime(2025, 4, 1), 11, 150),
    ]
    warehouse.insert(
        "profile_snapshot",
        [
            {
                "snapshot_id": s,
                "author_id": "me",
                "source": src,
                "captured_at": at,
                "h_index": h,
                "n_citations": c,
            }
            for s, src, at, h, c in captures
        ],
    )
    warehouse.build("profile_history")
    assert warehouse.rows(
        "select snapshot_id, previous_captured_at, h_index_change, n_citations_change "
        "from profile_history order by captured_at"
    ) == [
        ("s1", None, None, None),
        ("s2", None, None, None),
        ("s3", datetime(2025, 1, 1), 2, None),
        ("s4", datetime(2025, 3, 1), -1, None),
    ]
