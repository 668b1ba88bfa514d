"""The models against independent pure-Python and networkx references on random data."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import datetime
from fractions import Fraction

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

citation_counts = st.one_of(st.none(), st.integers(0, 4), st.integers(0, 40))
years = st.one_of(st.none(), st.integers(2000, 2012))
author_papers = st.lists(st.tuples(citation_counts, years), max_size=12)


def reference_indices(counts: list[int | None]) -> tuple[int | None, ...]:
    """(n_citations, h, g, i10) straight from the definitions; all null without a count."""
    known = sorted((c for c in counts if c is not None), reverse=True)
    if not known:
        return (None, None, None, None)
    h = max((k for k in range(1, len(known) + 1) if known[k - 1] >= k), default=0)
    g = max((k for k in range(1, len(known) + 1) if sum(known[:k]) >= k * k), default=0)
    i10 = sum(1 for c in known if c >= 10)
    return (sum(known), h, g, i10)


@SETTINGS
@given(
    authors=st.lists(author_papers, min_size=1, max_size=6),
    capture_year=st.one_of(st.none(), st.integers(2008, 2016)),
)
def test_citation_indices_and_m_quotient_match_a_reference(new_warehouse, authors, capture_year):
    warehouse = new_warehouse()
    warehouse.insert("author", [{"author_id": f"a{i}"} for i in range(len(authors))])
    papers, authorships = [], []
    for i, author in enumerate(authors):
        for j, (count, year) in enumerate(author):
            papers.append({"paper_id": f"a{i}p{j}", "n_citations": count, "published_year": year})
            authorships.append({"paper_id": f"a{i}p{j}", "author_id": f"a{i}"})
    warehouse.insert("paper", papers)
    warehouse.insert("authorship", authorships)
    if capture_year is not None:
        warehouse.insert(
            "profile_snapshot",
            [{"snapshot_id": "s", "author_id": "a0", "captured_at": datetime(capture_year, 5, 1)}],
        )
    warehouse.build("author_metrics")
    actual = warehouse.rows(
        "select n_papers, n_citations, h_index, g_index, i10_index, m_quotient "
        "from author_metrics order by author_id"
    )

    all_years = [year for author in authors for _, year in author if year is not None]
    reference_year = capture_year if capture_year is not None else max(all_years, default=None)
    expected = []
    for author in authors:
        n_citations, h, g, i10 = reference_indices([count for count, _ in author])
        first_year = min((y for _, y in author if y is not None), default=None)
        m = None
        if h is not None and first_year is not None and reference_year >= first_year:
            m = h / (reference_year - first_year + 1)
        expected.append((len(author), n_citations, h, g, i10, m))
    assert len(actual) == len(expected)
    for row, want in zip(actual, expected, strict=True):
        assert row[:5] == want[:5]
        assert row[5] == (None if want[5] is None else pytest.approx(want[5]))
    warehouse.close()


author_lists = st.lists(st.lists(st.integers(0, 11), min_size=1, max_size=4), max_size=14)


@SETTINGS
@given(n_authors=st.integers(1, 12), papers=author_lists)
def test_degree_weights_and_components_match_networkx(new_warehouse, n_authors, papers):
    names = [f"a{i:02d}" for i in range(n_authors)]
    # one authorship row per (paper, author), as the warehouse holds them (names repeat here)
    papers = [list(dict.fromkeys(names[i % n_authors] for i in paper)) for paper in papers]
    warehouse = new_warehouse()
    warehouse.insert("author", [{"author_id": a} for a in names])
    warehouse.insert("paper", [{"paper_id": f"p{k}"} for k in range(len(papers))])
    warehouse.insert(
        "authorship",
        [{"paper_id": f"p{k}", "author_id": a} for k, paper in enumerate(papers) for a in paper],
    )
    warehouse.build("author_network")
    actual = warehouse.rows(
        "select author_id, degree, weighted_degree, component_id, component_size "
        "from author_network order by author_id"
    )

    graph = nx.Graph()
    graph.add_nodes_from(names)
    weights: dict[str, Fraction] = defaultdict(Fraction)
    for paper in papers:
        distinct = sorted(set(paper))
        for a, b in itertools.combinations(distinct, 2):
            graph.add_edge(a, b)
            weights[a] += Fraction(1, len(distinct) - 1)
            weights[b] += Fraction(1, len(distinct) - 1)
    component_of = {
        node: (min(component), len(component))
        for component in nx.connected_components(graph)
        for node in component
    }
    # exactly: each joint paper adds 1 in all to an author's weighted degree
    expected = [(a, graph.degree(a), float(weights[a]), *component_of[a]) for a in names]
    assert actual == expected
    warehouse.close()


@SETTINGS
@given(
    papers=st.lists(
        st.tuples(st.sets(st.sampled_from("vwxyz"), max_size=3), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_profile_clusters_match_networkx(new_warehouse, papers):
    """papers: (coauthors besides the owner, whether the paper is on the owner's page)."""
    warehouse = new_warehouse()
    paper_ids = [f"p{k:02d}" for k in range(len(papers))]
    warehouse.insert("paper", [{"paper_id": p} for p in paper_ids])
    warehouse.insert(
        "authorship",
        [
            {"paper_id": p, "author_id": a}
            for p, (coauthors, _) in zip(paper_ids, papers, strict=True)
            for a in [*coauthors, "me"]
        ],
    )
    listed = [p for p, (_, on_page) in zip(paper_ids, papers, strict=True) if on_page]
    warehouse.insert(
        "profile_snapshot",
        [{"snapshot_id": "s", "author_id": "me", "captured_at": datetime(2025, 1, 1)}],
    )
    warehouse.insert(
        "profile_paper", [{"snapshot_id": "s", "author_id": "me", "paper_id": p} for p in listed]
    )
    warehouse.build("profile_cluster")
    actual = warehouse.rows(
        "select cluster_id, n_papers, paper_ids from profile_cluster order by cluster_id"
    )

    graph = nx.Graph()
    graph.add_nodes_from(listed)
    coauthors = dict(zip(paper_ids, (c for c, _ in papers), strict=True))
    for p, q in itertools.combinations(listed, 2):
        if coauthors[p] & coauthors[q]:
            graph.add_edge(p, q)
    components = sorted(
        (sorted(c) for c in nx.connected_components(graph)), key=lambda c: (-len(c), c[0])
    )
    assert actual == [(k + 1, len(c), c) for k, c in enumerate(components)]
    warehouse.close()
