"""Models brought up to date after a load by changes (`sql/changes/`, `run_model_changes`):
on random profiles and a random edit of them, the same rows as a whole build."""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.delta import ROW_KEYS, keys_by_table
from flows.models import run_model_changes, run_models

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The models with a changes file, in dependency order, and every table they read.
BY_CHANGES = ("profile_paper_component", "profile_cluster", "title_term")
READ = ("paper", "authorship", "profile_snapshot", "profile_paper")
WORDS = ("graph", "neural", "learning", "the", "of", "graphs", "data")

paper_ids = st.sampled_from([f"p{i}" for i in range(8)])
author_ids = st.sampled_from([f"a{i}" for i in range(6)])
papers = st.dictionaries(
    paper_ids,
    st.tuples(
        st.lists(author_ids, max_size=4, unique=True),  # authors
        st.one_of(st.none(), st.integers(2018, 2021)),  # year
        st.one_of(st.none(), st.sampled_from(["cs.LG", "cs.CV"])),  # category
        st.lists(st.sampled_from(WORDS), max_size=5),  # title words
    ),
    max_size=8,
)
# snapshot -> (owner, listed papers)
profiles = st.dictionaries(
    st.sampled_from([f"s{i}" for i in range(5)]),
    st.tuples(author_ids, st.lists(paper_ids, max_size=6)),
    max_size=5,
)


def load(warehouse, paper_rows, profile_rows) -> None:
    for table in READ:
        warehouse.con.execute(f"delete from {table}")
    warehouse.insert(
        "paper",
        [
            {
                "paper_id": paper_id,
                "published_year": year,
                "category": category,
                "title": " ".join(words) or None,
            }
            for paper_id, (_, year, category, words) in paper_rows.items()
        ],
    )
    warehouse.insert(
        "authorship",
        [
            {"paper_id": paper_id, "author_id": author}
            for paper_id, (authors, *_) in paper_rows.items()
            for author in authors
        ],
    )
    warehouse.insert(
        "profile_snapshot",
        [{"snapshot_id": s, "author_id": owner} for s, (owner, _) in profile_rows.items()],
    )
    warehouse.insert(
        "profile_paper",
        [
            {"snapshot_id": s, "author_id": owner, "paper_id": paper_id, "line": line}
            for s, (owner, listed) in profile_rows.items()
            for line, paper_id in enumerate(dict.fromkeys(listed))
        ],
    )


def rows(warehouse, table: str) -> pl.DataFrame:
    frame = warehouse.con.sql(f"select * from {table}").pl()
    keys = [name for name, dtype in frame.schema.items() if not dtype.is_nested()]
    return frame.sort(keys, nulls_last=True)


def changed_keys(before: dict[str, pl.DataFrame], after: dict[str, pl.DataFrame]) -> dict:
    """The keys of each table whose rows differ, as `flows.delta.plan_load` finds them."""
    changed = {}
    for table in READ:
        old, new = before[table], after[table]
        differ = pl.concat(
            [
                old.join(new, on=old.columns, how="anti", nulls_equal=True),
                new.join(old, on=old.columns, how="anti", nulls_equal=True),
            ]
        )
        changed[table] = differ.select(pl.col(ROW_KEYS[table]).cast(pl.String).alias("key"))
    return changed


@SETTINGS
@given(before=st.tuples(papers, profiles), after=st.tuples(papers, profiles))
def test_models_brought_up_to_date_for_the_changed_keys_equal_a_whole_build(
    new_warehouse, before, after
):
    warehouse = new_warehouse()
    models = [warehouse.models[name] for name in BY_CHANGES]
    load(warehouse, *before)
    run_models(warehouse.con, models)
    read_before = {table: rows(warehouse, table) for table in READ}

    load(warehouse, *after)
    keys = keys_by_table(
        changed_keys(read_before, {table: rows(warehouse, table) for table in READ})
    )
    for model in models:
        done = run_model_changes(warehouse.con, model, keys)
        assert done is not None, model.name
        keys[model.name] = done[1]
    updated = {name: rows(warehouse, name) for name in BY_CHANGES}
    # The cut scope is gone: the connection reads every row again.
    assert rows(warehouse, "profile_snapshot").height == len(after[1])

    run_models(warehouse.con, models)
    for name in BY_CHANGES:
        assert updated[name].equals(rows(warehouse, name)), name
    warehouse.close()


def test_an_owner_who_lists_a_paper_without_being_its_author_gets_its_rows(new_warehouse):
    """A listed paper whose authorship did not change (the owner is not among its authors,
    as on a page whose owner the author line hides) still changes the owner's rows."""
    warehouse = new_warehouse()
    models = [warehouse.models[name] for name in BY_CHANGES[:2]]
    paper_rows = {"p1": (["a1", "a2"], 2020, None, []), "p2": (["a2"], 2021, None, [])}
    load(warehouse, paper_rows, {"s1": ("a0", ["p1"])})
    run_models(warehouse.con, models)
    read_before = {table: rows(warehouse, table) for table in READ}
    load(warehouse, paper_rows, {"s1": ("a0", ["p1", "p2"])})
    keys = keys_by_table(
        changed_keys(read_before, {table: rows(warehouse, table) for table in READ})
    )
    assert keys["authorship"].is_empty() and keys["paper"].is_empty()
    for model in models:
        done = run_model_changes(warehouse.con, model, keys)
        assert done is not None
        keys[model.name] = done[1]
    assert warehouse.rows(
        "select paper_id, component_paper_id from profile_paper_component order by paper_id"
    ) == [("p1", "p1"), ("p2", "p1")]
    assert warehouse.rows("select n_papers from profile_cluster") == [(2,)]
    warehouse.close()


def test_a_model_is_built_whole_without_the_changed_keys_it_reads_or_its_table(new_warehouse):
    warehouse = new_warehouse()
    component, cluster = (warehouse.models[name] for name in BY_CHANGES[:2])
    load(warehouse, {"p1": (["a1"], None, None, ["graph"])}, {"s1": ("a1", ["p1"])})
    keys = keys_by_table({})
    # The table was never built: no rows to bring up to date.
    assert run_model_changes(warehouse.con, component, keys) is None
    run_models(warehouse.con, [component, cluster])
    # profile_cluster reads the keys profile_paper_component was brought up to date for:
    # built whole after it, they are not known.
    assert "profile_paper_component" not in keys
    assert run_model_changes(warehouse.con, cluster, keys) is None
    nothing_changed = run_model_changes(warehouse.con, component, keys)
    assert nothing_changed is not None and nothing_changed[1].is_empty()
    warehouse.close()
