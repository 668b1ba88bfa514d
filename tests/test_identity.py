"""Tests for the identity rules of flows.normalise: one paper per real paper, one author per
person, and ids that depend on the raw files only (not their order, not how runs batched them).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import networkx as nx
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.formats.frames import to_frames
from flows.normalise import connected_labels, normalise
from tests.normalise_helpers import (
    Page,
    Paper,
    Tables,
    assert_same_tables,
    author_id_of,
    authors_of,
    loaded_files,
    normalise_pages,
    page_text,
    read_texts,
)

JAN: date = date(2026, 1, 1)
JUN: date = date(2026, 6, 1)


def shuffled_frames(frames: dict[str, pl.DataFrame], seed: int) -> dict[str, pl.DataFrame]:
    return {
        name: frame.sample(fraction=1.0, shuffle=True, seed=seed) for name, frame in frames.items()
    }


def normalise_in_batches(
    texts: Sequence[tuple[str, date]], batches: Sequence[Sequence[int]], seed: int = 0
) -> Tables:
    """Read the files batch by batch, as separate runs would (a content read in an earlier
    batch is not read again), then normalise them all with the frames' rows shuffled."""
    parsed, files = read_texts(texts)
    by_sha = dict(parsed)
    seen: set[str] = set()
    frames = []
    for batch in batches:
        new = [files["sha256"][i] for i in batch if files["sha256"][i] not in seen]
        seen.update(new)
        frames.append(to_frames([(sha, by_sha[sha]) for sha in dict.fromkeys(new)]))
    merged = {name: pl.concat([f[name] for f in frames]) for name in frames[0]}
    return normalise(shuffled_frames(merged, seed), loaded_files(parsed, files))


def texts_of(pages: Sequence[tuple[Page, date]]) -> list[tuple[str, date]]:
    return [(page_text(page), captured) for page, captured in pages]


def paper(title: str, *authors: str, et_al: bool = False) -> Paper:
    return Paper(title=title, authors=authors, et_al=et_al)


def test_paper_on_two_owners_pages_is_one_paper_with_both_owners_as_authors() -> None:
    joint = paper("Joint Work", "Ann Lee", "Cy Diaz", "Di Fox", et_al=True)
    tables = normalise_pages([(Page("Ann Lee", (joint,)), JAN), (Page("Bo Chen", (joint,)), JUN)])
    assert tables["paper"].height == 1
    rows = authors_of(tables, "Joint Work")
    assert rows.select("display_name", "kind", "author_position", "is_inferred").rows() == [
        ("Ann Lee", "profile_owner", 1, False),
        ("Bo Chen", "profile_owner", None, True),
        ("Cy Diaz", "name_only", 2, False),
        ("Di Fox", "name_only", 3, False),
    ]
    assert single_paper_observations(tables) == 2


def single_paper_observations(tables: Tables) -> int:
    return tables["paper"]["n_observations"].item()


def test_later_capture_of_a_profile_is_a_new_snapshot_of_the_same_author() -> None:
    a, b, c = (paper(t, "Ann Lee", "Bo Chen") for t in ("Alpha", "Beta", "Gamma"))
    tables = normalise_pages(
        [
            (Page("Ann Lee", (a, b), h_index=2), JAN),
            (Page("Ann  LEE", (a, b, c), h_index=3), JUN),
        ]
    )
    snapshots = tables["profile_snapshot"].sort("captured_at")
    assert snapshots.height == 2
    assert snapshots["author_id"].n_unique() == 1
    assert snapshots["h_index"].to_list() == [2, 3]
    owner = tables["author"].filter(pl.col("kind") == "profile_owner")
    assert owner.select("display_name", "n_profiles").rows() == [("Ann  LEE", 2)]
    assert tables["paper"].height == 3


def test_capture_that_shares_too_few_papers_with_a_namesake_is_another_person() -> None:
    shared = paper("Shared", "Wei Wang", "Bo Chen")
    own = [paper(f"Own {i}", "Wei Wang") for i in range(6)]
    tables = normalise_pages(
        [
            (Page("Wei Wang", (shared, *own[:3])), JAN),
            (Page("Wei Wang", (shared, *own[3:])), JUN),
        ]
    )
    assert len(author_id_of(tables, "Wei Wang", kind="profile_owner")) == 2
    # Both are authors of the paper they share; neither is merged into the other.
    assert authors_of(tables, "Shared").height == 3


def test_capture_sharing_half_the_smaller_list_with_a_namesake_is_the_same_person() -> None:
    papers = [paper(f"Work {i}", "Wei Wang", "Bo Chen") for i in range(4)]
    tables = normalise_pages(
        [
            (Page("Wei Wang", tuple(papers[:2])), JAN),
            (Page("Wei Wang", (papers[1], papers[3])), JUN),
        ]
    )
    assert len(author_id_of(tables, "Wei Wang")) == 1


def test_coauthor_name_resolves_to_owner_of_a_page_sharing_papers() -> None:
    p1 = paper("Shared", "Ann Lee", "Bo Chen")
    p2 = paper("Only On Ann's Page", "Ann Lee", "bo chen")
    tables = normalise_pages([(Page("Ann Lee", (p1, p2)), JAN), (Page("Bo Chen", (p1,)), JAN)])
    bo = author_id_of(tables, "Bo Chen")
    assert len(bo) == 1
    rows = authors_of(tables, "Only On Ann's Page")
    assert rows.filter(pl.col("author_id") == bo[0])["author_position"].to_list() == [2]
    assert tables["author"]["kind"].to_list() == ["profile_owner", "profile_owner"]


def test_namesakes_whose_pages_share_nothing_are_two_authors_and_a_third_mention_is_a_third() -> (
    None
):
    tables = normalise_pages(
        [
            (Page("Wei Wang", (paper("Rocks", "Wei Wang", "Ann Lee"),)), JAN),
            (Page("Wei Wang", (paper("Stars", "Wei Wang", "Bo Chen"),)), JAN),
            (Page("Cy Diaz", (paper("Seas", "Cy Diaz", "Wei Wang"),)), JAN),
        ]
    )
    owners = author_id_of(tables, "Wei Wang", kind="profile_owner")
    name_only = author_id_of(tables, "Wei Wang", kind="name_only")
    assert len(owners) == 2
    assert len(name_only) == 1
    assert authors_of(tables, "Rocks")["author_id"].is_in(owners).sum() == 1
    assert authors_of(tables, "Stars")["author_id"].is_in(owners).sum() == 1
    assert set(authors_of(tables, "Seas")["author_id"]) & set(owners) == set()


def _wei_wang_on(tables: Tables, title: str, owners: list[str]) -> str:
    """The Wei Wang owner listed on the paper `title`."""
    (listed,) = set(authors_of(tables, title)["author_id"]) & set(owners)
    return listed


def _namesake_pages(first: Sequence[Paper], second: Sequence[Paper], cy: Sequence[Paper]) -> Tables:
    """Two pages of owners named Wei Wang that share no paper, and Cy Diaz's page."""
    return normalise_pages(
        [
            (Page("Wei Wang", tuple(first)), JAN),
            (Page("Wei Wang", tuple(second)), JAN),
            (Page("Cy Diaz", tuple(cy)), JAN),
        ]
    )


def test_a_name_resolves_to_the_namesake_owner_sharing_the_most_papers_with_its_page() -> None:
    a, b, c = (paper(title, "Wei Wang", "Cy Diaz") for title in ("A", "B", "C"))
    joint = paper("Joint", "Cy Diaz", "Wei Wang")
    tables = _namesake_pages([a, b], [c], [a, b, c, joint])
    owners = author_id_of(tables, "Wei Wang", kind="profile_owner")
    assert len(owners) == 2
    # Cy's page shares A and B with the first Wei Wang, C alone with the second.
    assert _wei_wang_on(tables, "Joint", owners) == _wei_wang_on(tables, "A", owners)


def test_a_name_resolves_to_the_namesake_owner_holding_the_paper_before_the_most_shared() -> None:
    a, b = (paper(title, "Wei Wang", "Cy Diaz") for title in ("A", "B"))
    joint = paper("Joint", "Cy Diaz", "Wei Wang")
    tables = _namesake_pages([a, b], [joint], [a, b, joint])
    owners = author_id_of(tables, "Wei Wang", kind="profile_owner")
    assert len(owners) == 2
    # The second Wei Wang holds Joint (one paper shared with Cy's page), the first shares two.
    holder = _wei_wang_on(tables, "Joint", owners)
    assert holder != _wei_wang_on(tables, "A", owners)
    assert len(authors_of(tables, "Joint")) == 2


def test_a_name_resolves_to_the_smallest_id_among_namesakes_sharing_as_many_papers() -> None:
    a, c = (paper(title, "Wei Wang", "Cy Diaz") for title in ("A", "C"))
    joint = paper("Joint", "Cy Diaz", "Wei Wang")
    tables = _namesake_pages([a], [c], [a, c, joint])
    owners = author_id_of(tables, "Wei Wang", kind="profile_owner")
    assert len(owners) == 2
    assert _wei_wang_on(tables, "Joint", owners) == min(owners)


def test_coauthor_of_one_paper_resolves_the_same_on_every_page_showing_it() -> None:
    # Ann's page shares "Bridge" with Bo's page; Cy's page shares nothing with Bo's. Both show
    # "Joint", which names Bo Chen: one paper, so one Bo Chen on it.
    bridge = paper("Bridge", "Ann Lee", "Bo Chen")
    joint = paper("Joint", "Ann Lee", "Cy Diaz", "Bo Chen")
    tables = normalise_pages(
        [
            (Page("Ann Lee", (bridge, joint)), JAN),
            (Page("Bo Chen", (bridge,)), JAN),
            (Page("Cy Diaz", (joint,)), JAN),
        ]
    )
    rows = authors_of(tables, "Joint")
    assert rows["display_name"].to_list() == ["Ann Lee", "Bo Chen", "Cy Diaz"]
    assert rows["kind"].to_list() == ["profile_owner"] * 3
    assert len(author_id_of(tables, "Bo Chen")) == 1


def test_owner_listed_on_own_page_is_the_owner_not_a_namesake_coauthor() -> None:
    # Two Wei Wangs wrote "Both" together; each page's own name is its owner.
    both = paper("Both", "Wei Wang", "Wei Wang")
    tables = normalise_pages(
        [
            (Page("Wei Wang", (both, paper("First", "Wei Wang"), paper("Third", "Wei Wang"))), JAN),
            (
                Page("Wei Wang", (both, paper("Second", "Wei Wang"), paper("Fourth", "Wei Wang"))),
                JAN,
            ),
        ]
    )
    owners = author_id_of(tables, "Wei Wang", kind="profile_owner")
    assert len(owners) == 2
    assert sorted(authors_of(tables, "Both")["author_id"]) == owners


def test_author_named_twice_in_one_list_takes_the_first_position_in_any_row_order() -> None:
    texts = texts_of([(Page("Ann Lee", (paper("Twice", "Wei Wang", "Ann Lee", "Wei Wang"),)), JAN)])
    for seed in range(6):
        tables = normalise_in_batches(texts, [[0]], seed=seed)
        rows = authors_of(tables, "Twice").select("display_name", "author_position")
        assert rows.rows() == [("Ann Lee", 2), ("Wei Wang", 1)]


def test_same_content_at_two_paths_is_one_snapshot_captured_at_its_first_path() -> None:
    text = page_text(Page("Ann Lee", (paper("Alpha", "Ann Lee"),)))
    for texts in ([(text, JUN), (text, JAN)], [(text, JAN), (text, JUN)]):
        snapshot = normalise_in_batches(texts, [[0, 1]])["profile_snapshot"]
        assert snapshot.select("captured_at", "path").rows() == [
            (datetime(2026, 1, 1), "2026-01-01/" + snapshot["sha256"][0][:16] + ".txt")
        ]


def test_ids_are_the_same_for_files_and_rows_in_any_order() -> None:
    pages = example_pages()
    texts = texts_of(pages)
    baseline = normalise_in_batches(texts, [range(len(texts))])
    for seed in range(4):
        order = list(range(len(texts)))
        random.Random(seed).shuffle(order)
        shuffled = [texts[i] for i in order]
        again = normalise_in_batches(shuffled, [range(len(texts))], seed=seed)
        assert_same_tables(baseline, again)


def test_ids_are_the_same_when_files_are_read_in_separate_batches() -> None:
    texts = texts_of(example_pages())
    baseline = normalise_in_batches(texts, [range(len(texts))])
    for batches in ([[0], [1, 2], [3, 4, 5]], [[5, 3], [1], [0, 2, 4]], [[i] for i in range(6)]):
        assert_same_tables(baseline, normalise_in_batches(texts, batches, seed=len(batches)))


def test_ids_are_prefixed_short_hashes() -> None:
    tables = normalise_pages(example_pages())
    for table, column, prefix in (
        ("author", "author_id", "A"),
        ("paper", "paper_id", "P"),
        ("profile_snapshot", "snapshot_id", "S"),
    ):
        assert tables[table][column].str.contains(f"^{prefix}[0-9a-f]{{16}}$").all()
        assert tables[table][column].is_unique().all()


def example_pages() -> list[tuple[Page, date]]:
    bridge = paper("Bridge", "Ann Lee", "Bo Chen")
    joint = paper("Joint", "Ann Lee", "Cy Diaz", "Bo Chen", et_al=True)
    solo = paper("Solo", "Wei Wang")
    return [
        (Page("Ann Lee", (bridge, joint)), JAN),
        (Page("Ann Lee", (bridge, joint, paper("New", "Ann Lee"))), JUN),
        (Page("Bo Chen", (bridge,)), JAN),
        (Page("Cy Diaz", (joint,)), JUN),
        (Page("Wei Wang", (solo,)), JAN),
        (Page("Wei Wang", (paper("Other", "Wei Wang", "Cy Diaz"),)), JUN),
    ]


NAMES = ("Ann Lee", "Bo Chen", "Wei Wang", "José Müller", "李雅欣", "Yi-Ping Hsu")
WORDS = ("graph", "neural", "robust", "sparse", "learning", "vision", "spiking", "fair")


@st.composite
def worlds(draw: st.DrawFn) -> list[tuple[Page, date]]:
    """2-6 pages drawn from a world of people (names may collide) and their papers.

    Every paper has true authors; each page shows the same author line (first three names,
    then et al.) and the same date, yearless when the paper's year is the capture year.
    """
    people = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=5))
    n_papers = draw(st.integers(1, 7))
    truth = []
    for index in range(n_papers):
        authors = draw(
            st.lists(st.integers(0, len(people) - 1), min_size=1, max_size=5, unique=True)
        )
        words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
        day = date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 540)))
        truth.append((f"{' '.join(words).capitalize()} study {index}", authors, day))
    n_pages = draw(st.integers(2, 6))
    pages = []
    for _ in range(n_pages):
        owner = draw(st.integers(0, len(people) - 1))
        captured = date(2026, 7, 1) + timedelta(days=draw(st.integers(0, 360)))
        mine = [t for t in truth if owner in t[1]]
        chosen = draw(st.lists(st.sampled_from(mine), unique_by=lambda t: t[0])) if mine else []
        blocks = []
        for title, authors, day in chosen:
            stated = f"{day:%b} {day.day}" + ("" if day.year == captured.year else f", {day.year}")
            names = tuple(people[i] for i in authors)
            blocks.append(Paper(title, names[:3], date=stated, et_al=len(names) > 3))
        pages.append((Page(people[owner], tuple(blocks)), captured))
    return pages


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), data=st.data())
def test_random_worlds_give_the_same_tables_in_any_order_and_keep_the_invariants(
    world: list[tuple[Page, date]], data: st.DataObject
) -> None:
    texts = texts_of(world)
    tables = normalise_in_batches(texts, [range(len(texts))])
    order = data.draw(st.permutations(range(len(texts))))
    cut = data.draw(st.integers(0, len(texts)))
    seed = data.draw(st.integers(0, 2**16))
    again = normalise_in_batches(
        [texts[i] for i in order], [range(cut), range(cut, len(texts))], seed=seed
    )
    assert_same_tables(tables, again)

    authorship = tables["authorship"]
    assert authorship.join(tables["paper"], on="paper_id", how="anti").is_empty()
    assert authorship.join(tables["author"], on="author_id", how="anti").is_empty()
    assert authorship.select("paper_id", "author_id").is_unique().all()
    owners_on_pages = tables["profile_paper"].select("paper_id", "author_id")
    assert owners_on_pages.join(authorship, on=["paper_id", "author_id"], how="anti").is_empty()
    assert tables["profile_snapshot"].height == len({text for text, _ in texts})
    # One paper per real paper shown: titles are distinct per real paper.
    shown = {block.title for page, _ in world for block in page.papers}
    assert sorted(tables["paper"]["title"]) == sorted(shown)


@settings(max_examples=80, deadline=None)
@given(
    nodes=st.lists(st.text("abcdefgh", min_size=1, max_size=3), min_size=1, max_size=40),
    data=st.data(),
)
def test_connected_labels_are_the_smallest_node_of_each_component(
    nodes: list[str], data: st.DataObject
) -> None:
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(nodes), st.sampled_from(nodes))))
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(pairs)
    expected = {node: min(part) for part in nx.connected_components(graph) for node in part}
    edges = pl.DataFrame(pairs, schema={"a": pl.String, "b": pl.String}, orient="row")
    labels = connected_labels(edges, pl.Series(nodes, dtype=pl.String))
    assert dict(labels.rows()) == expected


def test_connected_labels_converge_on_a_long_chain_numbered_at_random() -> None:
    # Plain min-label propagation needs one round per link here (more than the round limit).
    names = [f"n{i:05d}" for i in range(5_000)]
    random.Random(7).shuffle(names)
    edges = pl.DataFrame({"a": names[:-1], "b": names[1:]})
    labels = connected_labels(edges, pl.Series(names))
    assert labels["label"].unique().to_list() == ["n00000"]
