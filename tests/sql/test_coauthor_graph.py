"""coauthor_edge and author_network: the coauthor graph and its connected components."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from fractions import Fraction


def add_paper(warehouse, paper_id, authors, year=None, truncated=None, inferred=()):
    warehouse.insert(
        "paper",
        [{"paper_id": paper_id, "published_year": year, "is_author_list_truncated": truncated}],
    )
    warehouse.insert(
        "authorship",
        [
            {
                "paper_id": paper_id,
                "author_id": a,
                "author_position": i + 1,
                "is_inferred": a in inferred,
            }
            for i, a in enumerate(authors)
        ],
    )


def edges(warehouse, columns="author_id_a, author_id_b, n_papers"):
    warehouse.build("coauthor_edge")
    return warehouse.rows(f"select {columns} from coauthor_edge order by 1, 2")


def test_one_row_per_unordered_pair_with_the_smaller_id_first(warehouse):
    add_paper(warehouse, "p1", ["c", "a", "b"])
    add_paper(warehouse, "p2", ["b", "a"])
    add_paper(warehouse, "p3", ["d"])
    assert edges(warehouse) == [("a", "b", 2), ("a", "c", 1), ("b", "c", 1)]


def test_first_and_last_year_ignore_papers_without_a_year(warehouse):
    add_paper(warehouse, "p1", ["a", "b"], year=2019)
    add_paper(warehouse, "p2", ["a", "b"], year=2012)
    add_paper(warehouse, "p3", ["a", "b"], year=None)
    assert edges(warehouse, "author_id_a, author_id_b, n_papers, first_year, last_year") == [
        ("a", "b", 3, 2012, 2019)
    ]


def test_weight_sums_one_over_known_author_count_minus_one_inferred_included(warehouse):
    add_paper(warehouse, "p1", ["a", "b"])  # 1
    add_paper(warehouse, "p2", ["a", "b", "c"], inferred=("a",))  # 1/2
    add_paper(warehouse, "p3", ["a", "b", "c", "d", "e"])  # 1/4
    rows = edges(warehouse, "author_id_a, author_id_b, weight")
    assert rows[0] == ("a", "b", 1.75)
    assert dict(((a, b), w) for a, b, w in rows)[("c", "d")] == 0.25


def test_weights_are_the_same_in_every_build_whatever_order_rows_come_in(new_warehouse):
    # Many pairs, each on papers of several sizes: as doubles summed in parallel, a sum's last
    # digit followed the order its terms came in, and that changed from one build to the next.
    rng = random.Random(7)
    names = [f"a{i:03d}" for i in range(300)]
    papers = [(f"p{k:05d}", rng.sample(names, rng.choice([2, 3, 4, 7, 11]))) for k in range(6000)]
    built = []
    for order in (papers, papers[::-1]):
        warehouse = new_warehouse()
        warehouse.insert("author", [{"author_id": a} for a in names])
        warehouse.insert("paper", [{"paper_id": paper_id} for paper_id, _ in order])
        warehouse.insert(
            "authorship",
            [
                {"paper_id": paper_id, "author_id": a}
                for paper_id, authors in order
                for a in authors
            ],
        )
        built.append((edges(warehouse, "author_id_a, author_id_b, weight"), network(warehouse)))
        warehouse.close()
    assert built[0] == built[1]
    exact: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
    for _, authors in papers:
        for a, b in itertools.combinations(sorted(authors), 2):
            exact[(a, b)] += Fraction(1, len(authors) - 1)
    weights = {(a, b): weight for a, b, weight in built[0][0]}
    assert weights.keys() == exact.keys()
    assert all(abs(weights[pair] - value) <= 1e-15 * value for pair, value in exact.items())


def test_weight_is_flagged_as_upper_bound_when_a_joint_paper_list_is_truncated(warehouse):
    add_paper(warehouse, "p1", ["a", "b"], truncated=False)
    add_paper(warehouse, "p2", ["a", "b", "c"], truncated=True)
    add_paper(warehouse, "p3", ["a", "d"], truncated=None)
    assert edges(warehouse, "author_id_a, author_id_b, is_weight_upper_bound") == [
        ("a", "b", True),
        ("a", "c", True),
        ("a", "d", False),
        ("b", "c", True),
    ]


def network(warehouse):
    warehouse.build("author_network")
    return warehouse.rows(
        "select author_id, degree, weighted_degree, component_id, component_size "
        "from author_network order by author_id"
    )


def test_isolated_author_is_a_component_of_size_one(warehouse):
    warehouse.insert("author", [{"author_id": "solo"}, {"author_id": "alone_on_paper"}])
    add_paper(warehouse, "p1", ["alone_on_paper"])
    assert network(warehouse) == [
        ("alone_on_paper", 0, 0.0, "alone_on_paper", 1),
        ("solo", 0, 0.0, "solo", 1),
    ]


def test_component_id_is_the_smallest_author_id_of_the_component(warehouse):
    # a chain e - d - c - b plus a separate pair z - y; the chain's smallest id is b
    warehouse.insert("author", [{"author_id": x} for x in "bcdeyz"])
    add_paper(warehouse, "p1", ["e", "d"])
    add_paper(warehouse, "p2", ["d", "c"])
    add_paper(warehouse, "p3", ["c", "b"])
    add_paper(warehouse, "p4", ["z", "y"])
    assert [(r[0], r[3], r[4]) for r in network(warehouse)] == [
        ("b", "b", 4),
        ("c", "b", 4),
        ("d", "b", 4),
        ("e", "b", 4),
        ("y", "y", 2),
        ("z", "y", 2),
    ]


def test_components_are_right_when_the_best_connected_author_is_in_the_smaller_one(warehouse):
    # the star around h (its best connected author, found breadth first) holds 5 authors;
    # the chain m1 - ... - m6 holds 6, each with at most 2 coauthors, and its labels take
    # rounds to reach its ends; each component's id is its smallest author_id
    warehouse.insert("author", [{"author_id": x} for x in ["h", *"abcd"]])
    warehouse.insert("author", [{"author_id": f"m{i}"} for i in range(1, 7)])
    for x in "abcd":
        add_paper(warehouse, f"p_{x}", ["h", x])
    for i in range(1, 6):
        add_paper(warehouse, f"q{i}", [f"m{i}", f"m{i + 1}"])
    rows = {r[0]: (r[1], r[3], r[4]) for r in network(warehouse)}
    assert rows["h"] == (4, "a", 5)
    assert {rows[x] for x in "abcd"} == {(1, "a", 5)}
    assert [rows[f"m{i}"] for i in range(1, 7)] == [
        (1, "m1", 6), (2, "m1", 6), (2, "m1", 6), (2, "m1", 6), (2, "m1", 6), (1, "m1", 6),
    ]  # fmt: skip


def test_weighted_degree_is_the_whole_number_of_papers_with_a_coauthor(warehouse):
    # six edges of 1/6 and ten of 1/10 each sum to 0.9999999999999999 as doubles
    warehouse.insert("author", [{"author_id": x} for x in "abcdefghijklmnopq"])
    add_paper(warehouse, "p1", [*"abcdefg"])
    add_paper(warehouse, "p2", ["a", *"hijklmnopq"])
    add_paper(warehouse, "p3", ["a", "b"])
    add_paper(warehouse, "p4", ["a"])
    degrees = {r[0]: r[2] for r in network(warehouse)}
    assert degrees["a"] == 3.0
    assert degrees["b"] == 2.0
    assert {degrees[x] for x in "cdefghijklmnopq"} == {1.0}


def test_degree_counts_coauthors_and_weighted_degree_sums_edge_weights(warehouse):
    warehouse.insert("author", [{"author_id": x} for x in "abc"])
    add_paper(warehouse, "p1", ["a", "b", "c"])
    add_paper(warehouse, "p2", ["a", "b"])
    assert [(r[0], r[1], r[2]) for r in network(warehouse)] == [
        ("a", 2, 2.0),  # a-b: 1/2 + 1, a-c: 1/2
        ("b", 2, 2.0),
        ("c", 2, 1.0),
    ]
