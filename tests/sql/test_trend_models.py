"""topic_year, title_term and term_year: what the papers are about, year by year."""

from __future__ import annotations

import pytest


def add_papers(warehouse, rows):
    """rows: (paper_id, year, title, [(scheme, topic), ...])."""
    warehouse.insert(
        "paper",
        [{"paper_id": p, "published_year": y, "title": t} for p, y, t, _ in rows],
    )
    warehouse.insert(
        "paper_topic",
        [{"paper_id": p, "scheme": s, "topic": t} for p, _, _, topics in rows for s, t in topics],
    )


def topic_years(warehouse, columns):
    warehouse.build("topic_year")
    return warehouse.rows(f"select {columns} from topic_year order by scheme, topic, year")


def test_topic_share_is_of_the_schemes_distinct_papers_that_year(warehouse):
    add_papers(
        warehouse,
        [
            ("p1", 2020, None, [("arxiv", "cs.LG"), ("arxiv", "cs.AI")]),
            ("p2", 2020, None, [("arxiv", "cs.LG")]),
            ("p3", 2020, None, [("arxiv", "cs.LG"), ("s2_field", "CS")]),
            ("p4", 2020, None, [("arxiv", "stat.ML")]),
        ],
    )
    assert topic_years(warehouse, "scheme, topic, n_papers, n_scheme_papers, share") == [
        ("arxiv", "cs.AI", 1, 4, 0.25),
        ("arxiv", "cs.LG", 3, 4, 0.75),
        ("arxiv", "stat.ML", 1, 4, 0.25),
        ("s2_field", "CS", 1, 1, 1.0),
    ]


def test_papers_without_a_year_are_left_out_of_topic_year(warehouse):
    add_papers(
        warehouse,
        [("p1", None, None, [("arxiv", "cs.LG")]), ("p2", 2021, None, [("arxiv", "cs.LG")])],
    )
    assert topic_years(warehouse, "topic, year, n_papers") == [("cs.LG", 2021, 1)]


def test_previous_year_is_zero_for_a_new_topic_and_null_when_the_scheme_had_no_papers(
    warehouse,
):
    add_papers(
        warehouse,
        [
            ("p1", 2019, None, [("arxiv", "cs.LG")]),
            ("p2", 2020, None, [("arxiv", "cs.LG")]),
            ("p3", 2020, None, [("arxiv", "cs.LG"), ("arxiv", "cs.CV")]),
            ("p4", 2022, None, [("arxiv", "cs.LG")]),
        ],
    )
    assert topic_years(
        warehouse, "topic, year, n_papers, n_papers_prev_year, change_from_prev_year"
    ) == [
        ("cs.CV", 2020, 1, 0, 1),
        ("cs.LG", 2019, 1, None, None),
        ("cs.LG", 2020, 2, 1, 1),
        ("cs.LG", 2022, 1, None, None),
    ]


def test_title_terms_are_lower_cased_split_on_non_letters_and_drop_short_and_stop_words(
    warehouse,
):
    add_papers(
        warehouse,
        [("p1", 2020, "The GPU-Based Training of Large Models: a 2020 Review of réseaux", [])],
    )
    warehouse.build("title_term")
    assert [r[0] for r in warehouse.rows("select term from title_term order by term")] == [
        "based",
        "gpu",
        "large",
        "models",
        "review",
        "réseaux",
        "training",
    ]


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("Graph graph GRAPH networks", id="short title"),
        # past 64 tokens a title's list is hashed instead of searched
        pytest.param("Graph graph GRAPH networks, " * 20, id="80 tokens"),
    ],
)
def test_a_term_repeated_in_one_title_counts_the_paper_once(warehouse, title):
    add_papers(warehouse, [("p1", 2020, title, [])])
    warehouse.build("term_year")
    assert warehouse.rows("select term, n_papers from term_year order by term") == [
        ("graph", 1),
        ("networks", 1),
    ]


def test_term_growth_compares_with_the_average_per_year_since_the_term_first_appeared(
    warehouse,
):
    titles = [
        ("p1", 2018),
        ("p2", 2018),
        ("p3", 2020),
        ("p4", 2021),
        ("p5", 2021),
        ("p6", 2021),
        ("p7", 2021),
        ("p8", 2021),
        ("p9", 2021),
    ]
    add_papers(warehouse, [(p, y, "Diffusion", []) for p, y in titles])
    add_papers(warehouse, [("q1", None, "Diffusion", [])])
    warehouse.build("term_year")
    rows = warehouse.rows(
        "select year, n_papers, first_year, n_papers_before, growth from term_year "
        "where term = 'diffusion' order by year"
    )
    assert rows == [
        (2018, 2, 2018, 0, None),
        (2020, 1, 2018, 2, 1.0),  # 2 papers over 2018..2019 = 1 a year
        (2021, 6, 2018, 3, pytest.approx(6.0)),  # 3 papers over 2018..2020 = 1 a year
    ]
