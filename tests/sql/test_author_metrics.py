"""author_metrics: one row per author; h, g, i10 and m from per-paper citation counts."""

from __future__ import annotations

from datetime import datetime

COLUMNS = (
    "n_papers, n_papers_cited, n_citations, h_index, g_index, i10_index, "
    "first_year, last_year, m_quotient"
)


def add_papers(warehouse, author_id, citations, years=None, prefix=None):
    """One paper per citation count, each authored by `author_id` alone."""
    prefix = prefix or author_id
    years = years or [2020] * len(citations)
    papers = [
        {"paper_id": f"{prefix}-{i}", "n_citations": n, "published_year": year}
        for i, (n, year) in enumerate(zip(citations, years, strict=True))
    ]
    warehouse.insert("paper", papers)
    warehouse.insert(
        "authorship", [{"paper_id": p["paper_id"], "author_id": author_id} for p in papers]
    )


def metrics(warehouse, author_id, columns=COLUMNS):
    warehouse.build("author_metrics")
    rows = warehouse.rows(f"select {columns} from author_metrics where author_id = ?", [author_id])
    assert len(rows) == 1
    return rows[0]


def test_every_author_has_a_row_even_without_papers(warehouse):
    warehouse.insert("author", [{"author_id": "a1"}, {"author_id": "a2"}])
    add_papers(warehouse, "a1", [5])
    warehouse.build("author_metrics")
    assert warehouse.rows(
        "select author_id, n_papers, n_citations, h_index, g_index, i10_index, n_coauthors "
        "from author_metrics order by author_id"
    ) == [("a1", 1, 5, 1, 1, 0, 0), ("a2", 0, None, None, None, None, 0)]


def test_h_g_and_i10_follow_their_definitions(warehouse):
    warehouse.insert("author", [{"author_id": "a"}])
    # sorted: 25 12 8 5 4 3 0; cumulative 25 37 45 50 54 57 57 against g*g 1 4 9 16 25 36 49
    add_papers(warehouse, "a", [3, 25, 0, 8, 5, 12, 4])
    assert metrics(warehouse, "a", "h_index, g_index, i10_index, n_citations") == (4, 7, 2, 57)


def test_tied_counts_all_count_towards_h(warehouse):
    warehouse.insert("author", [{"author_id": "a"}])
    add_papers(warehouse, "a", [3, 3, 3, 3])
    assert metrics(warehouse, "a", "h_index, g_index, i10_index") == (3, 3, 0)


def test_h_index_is_zero_when_all_known_counts_are_zero(warehouse):
    warehouse.insert("author", [{"author_id": "a"}])
    add_papers(warehouse, "a", [0, 0, None])
    assert metrics(
        warehouse, "a", "n_papers, n_papers_cited, n_citations, h_index, g_index, i10_index"
    ) == (3, 2, 0, 0, 0, 0)


def test_h_index_is_null_when_no_citation_count_is_known(warehouse):
    warehouse.insert("author", [{"author_id": "a"}])
    add_papers(warehouse, "a", [None, None], years=[2018, 2019])
    assert metrics(warehouse, "a") == (2, 0, None, None, None, None, 2018, 2019, None)


def test_papers_without_a_count_count_in_n_papers_but_not_in_h(warehouse):
    warehouse.insert("author", [{"author_id": "a"}])
    add_papers(warehouse, "a", [2, 2, None, None, None])
    assert metrics(warehouse, "a", "n_papers, n_papers_cited, h_index") == (5, 2, 2)


def test_g_index_is_capped_at_the_number_of_papers_with_a_count(warehouse):
    warehouse.insert("author", [{"author_id": "a"}])
    add_papers(warehouse, "a", [1000, None])
    assert metrics(warehouse, "a", "h_index, g_index") == (1, 1)


def test_m_quotient_reference_year_is_latest_capture_not_clock(warehouse):
    warehouse.insert("author", [{"author_id": "a"}, {"author_id": "b"}])
    add_papers(warehouse, "a", [9, 9, 9, 9], years=[2011, 2012, 2013, None])
    warehouse.insert(
        "profile_snapshot",
        [
            {"snapshot_id": "s1", "author_id": "b", "captured_at": datetime(2015, 6, 1)},
            {"snapshot_id": "s2", "author_id": "b", "captured_at": datetime(2012, 6, 1)},
        ],
    )
    # h = 4 over 2011..2015 inclusive = 5 years, whoever's capture that was
    assert metrics(warehouse, "a", "reference_year, first_year, m_quotient") == (2015, 2011, 0.8)


def test_m_quotient_uses_latest_published_year_when_there_is_no_capture(warehouse):
    warehouse.insert("author", [{"author_id": "a"}, {"author_id": "b"}])
    add_papers(warehouse, "a", [5, 5], years=[2016, 2017])
    add_papers(warehouse, "b", [None], years=[2019])
    assert metrics(warehouse, "a", "reference_year, m_quotient") == (2019, 0.5)


def test_first_year_comes_from_all_papers_and_ignores_null_years(warehouse):
    warehouse.insert("author", [{"author_id": "a"}])
    add_papers(warehouse, "a", [4, None, 4], years=[2014, 2010, None])
    warehouse.insert(
        "profile_snapshot",
        [{"snapshot_id": "s", "author_id": "a", "captured_at": datetime(2019, 1, 1)}],
    )
    assert metrics(warehouse, "a", "first_year, last_year, h_index, m_quotient") == (
        2010,
        2014,
        2,
        0.2,
    )


def test_h_index_reported_is_the_latest_capture_and_diff_is_reported_minus_computed(
    warehouse,
):
    warehouse.insert("author", [{"author_id": "a"}])
    add_papers(warehouse, "a", [10, 10, 1])
    warehouse.insert(
        "profile_snapshot",
        [
            {
                "snapshot_id": "s1",
                "author_id": "a",
                "captured_at": datetime(2024, 1, 1),
                "h_index": 9,
            },
            {
                "snapshot_id": "s2",
                "author_id": "a",
                "captured_at": datetime(2025, 1, 1),
                "h_index": 5,
            },
            {
                "snapshot_id": "s3",
                "author_id": "a",
                "captured_at": datetime(2025, 2, 1),
                "h_index": None,
            },
        ],
    )
    assert metrics(
        warehouse, "a", "h_index, h_index_reported, h_index_reported_at, h_index_diff"
    ) == (2, 5, datetime(2025, 1, 1), 3)


def test_n_coauthors_counts_distinct_other_authors(warehouse):
    warehouse.insert("author", [{"author_id": x} for x in "abcd"])
    warehouse.insert("paper", [{"paper_id": "p1"}, {"paper_id": "p2"}])
    warehouse.insert(
        "authorship",
        [{"paper_id": "p1", "author_id": x} for x in "abc"]
        + [{"paper_id": "p2", "author_id": x} for x in "ab"],
    )
    warehouse.build("author_metrics")
    assert warehouse.rows("select author_id, n_coauthors from author_metrics order by 1") == [
        ("a", 2),
        ("b", 2),
        ("c", 2),
        ("d", 0),
    ]
