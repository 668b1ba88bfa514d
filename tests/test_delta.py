"""Incremental loads (`flows.delta`): the changed keys, applying them to a real DuckDB table,
and when a build must load in full."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import flows.layers
from flows import delta

_KEYS = st.sampled_from(["a", "b", "c", "d", None])
_ROWS = st.lists(
    st.tuples(_KEYS, st.integers(0, 3), st.sampled_from(["x", "y", None])), max_size=25
)
_SCHEMA = {"k": pl.String(), "v": pl.Int64(), "w": pl.String()}


def _frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=_SCHEMA, orient="row")


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def _applied(old: pl.DataFrame, new: pl.DataFrame, key: str | None) -> pl.DataFrame:
    """A DuckDB table holding `old`, after applying the changes towards `new`."""
    keys = delta.changed_keys(delta.row_digests(old, key), delta.row_digests(new, key))
    with duckdb.connect() as con:
        con.from_arrow(old.to_arrow()).create("t")
        delta.apply_changes(con, "t", new, keys, key)
        return con.sql("select * from t").pl()


@settings(max_examples=150, deadline=None)
@given(old=_ROWS, new=_ROWS, keyed=st.booleans())
def test_applying_the_changed_keys_gives_exactly_the_new_rows(
    old: list[tuple], new: list[tuple], keyed: bool
):
    # Repeated rows, null keys and null values included: the multiset of rows must match.
    result = _applied(_frame(old), _frame(new), "k" if keyed else None)
    assert_frame_equal(_sorted(result), _sorted(_frame(new)))


def test_only_the_keys_whose_rows_changed_are_changed():
    old = _frame([("a", 1, "x"), ("a", 2, "x"), ("b", 1, "y"), ("c", 1, None), (None, 1, "x")])
    new = _frame([("a", 2, "x"), ("a", 1, "x"), ("b", 1, "z"), ("c", 1, None), ("d", 1, "x")])
    keys = delta.changed_keys(delta.row_digests(old, "k"), delta.row_digests(new, "k"))
    # a: the same rows in another order; c: unchanged; b changed, d is new, null is gone.
    assert keys.height == 3 and set(keys["key"].to_list()) == {"b", "d", None}


def test_a_repeated_row_counts_as_often_as_it_occurs():
    old = _frame([("a", 1, "x"), ("a", 1, "x"), ("b", 1, "y")])
    new = _frame([("a", 1, "x"), ("b", 1, "y")])
    keys = delta.changed_keys(delta.row_digests(old, "k"), delta.row_digests(new, "k"))
    assert keys["key"].to_list() == ["a"]
    assert_frame_equal(_sorted(_applied(old, new, "k")), _sorted(new))


def _digests(folder: Path, tables: dict[str, pl.DataFrame], code: str = "code") -> delta.Digests:
    digests = delta.Digests(folder)
    digests.write(tables, code)
    return digests


def _published(tmp_path: Path, tables: dict[str, pl.DataFrame]) -> tuple[Path, delta.Digests]:
    """A published file (any bytes: the plan reads only its size and time) and its digests."""
    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(b"x" * 1000)
    previous = _digests(tmp_path / "previous", tables)
    previous.mark_published(warehouse, None)
    return warehouse, previous


def _tables(n: int) -> dict[str, pl.DataFrame]:
    return {"paper": pl.DataFrame({"paper_id": [f"P{i}" for i in range(n)], "x": range(n)})}


def test_a_small_change_is_loaded_incrementally(tmp_path: Path):
    warehouse, previous = _published(tmp_path, _tables(100))
    changed = _tables(100)
    changed["paper"] = changed["paper"].with_columns(
        x=pl.when(pl.col("paper_id") == "P7").then(-1).otherwise("x")
    )
    plan = delta.plan_load(previous, _digests(tmp_path / "new", changed), warehouse)
    assert plan.incremental and plan.full_size == 1000
    assert plan.changed is not None and plan.changed["paper"]["key"].to_list() == ["P7"]
    assert plan.reason.startswith("incremental load: 2 rows deleted or inserted in 1 tables")


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (lambda w, p, n: (p.folder / "about.json").unlink(), "no digests of the published build"),
        (lambda w, p, n: _edit(p, code="other"), "the code, the polars or the DuckDB version"),
        (lambda w, p, n: _edit(p, polars="0.0"), "the code, the polars or the DuckDB version"),
        (lambda w, p, n: _edit(p, duckdb="0.0"), "the code, the polars or the DuckDB version"),
        (lambda w, p, n: w.write_bytes(b"y" * 1000), "the published file changed"),
        (lambda w, p, n: _edit(p, full_size=600), "the file grew past 1.5x"),
        (
            lambda w, p, n: _digests(n.folder, {"paper": _tables(100)["paper"].rename({"x": "y"})}),
            "the tables or their columns changed",
        ),
        (
            lambda w, p, n: _digests(n.folder, {"paper": _tables(100)["paper"].tail(70)}),
            "full load: 43% of the rows changed",  # 30 rows gone, against the 70 left
        ),
    ],
)
def test_a_build_loads_in_full_when_the_digests_cannot_be_trusted_or_much_changed(
    tmp_path: Path, spoil, reason: str
):
    warehouse, previous = _published(tmp_path, _tables(100))
    new = _digests(tmp_path / "new", _tables(100))
    spoil(warehouse, previous, new)
    plan = delta.plan_load(previous, new, warehouse)
    assert not plan.incremental
    assert reason in plan.reason


def _edit(digests: delta.Digests, **changes: object) -> None:
    path = digests.folder / "about.json"
    about = json.loads(path.read_text())
    about.update(changes)
    path.write_text(json.dumps(about))


def test_the_copy_is_dropped_when_the_published_file_changes_meanwhile(tmp_path: Path):
    warehouse, previous = _published(tmp_path, _tables(10))
    build = tmp_path / "build" / "b.duckdb"
    assert delta.copy_published(warehouse, build, previous)
    assert build.read_bytes() == warehouse.read_bytes()
    build.unlink()
    warehouse.write_bytes(b"z" * 1000)
    assert not delta.copy_published(warehouse, build, previous)
    assert not build.exists()


def test_the_copy_made_in_the_background_is_the_published_file_or_nothing(tmp_path: Path):
    warehouse, previous = _published(tmp_path, _tables(10))
    build = tmp_path / "build" / "b.duckdb"
    copy = delta.PublishedCopy(warehouse, build, previous)
    assert copy.wait()
    assert build.read_bytes() == warehouse.read_bytes()
    copy.discard()
    assert not build.exists()

    warehouse.write_bytes(b"z" * 1000)
    assert not delta.PublishedCopy(warehouse, build, previous).wait()
    assert not build.exists()


def test_partial_digests_grow_by_layers_and_read_back_as_the_whole_tables_digests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(flows.layers, "MAX_LAYERS", 3)
    papers = pl.DataFrame({"paper_id": [f"P{i}" for i in range(6)], "v": range(6)})
    previous = delta.Digests(tmp_path / "d0")
    previous.write({"paper": papers}, "code")
    for step in range(1, 5):
        # Each step changes one paper, removes another and adds a new one.
        changed = [f"P{step}", f"P{step + 5}", f"P{step - 1}"]
        papers = pl.concat(
            [
                papers.filter(~pl.col("paper_id").is_in(changed)),
                pl.DataFrame({"paper_id": [f"P{step}", f"P{step + 5}"], "v": [10 * step] * 2}),
            ]
        )
        rows = papers.filter(pl.col("paper_id").is_in(changed))
        current = delta.Digests(tmp_path / f"d{step}")
        compared = current.write({"paper": rows}, "code", {"paper": pl.Series(changed)}, previous)
        whole = delta.row_digests(papers, "paper_id")
        assert_frame_equal(_sorted(current.table("paper")), _sorted(whole))
        assert current.about()["rows"]["paper"] == papers.height
        # Layers 2, 3, then written whole (1), then 2 again.
        assert len(current.layers("paper")) == [2, 3, 1, 2][step - 1], step
        # Only the changed keys are compared, and they differ.
        old, new = compared["paper"]
        assert set(delta.changed_keys(old, new)["key"].to_list()) == set(changed)
        previous = current


def test_digests_without_their_row_counts_are_counted(tmp_path: Path):
    papers = pl.DataFrame({"paper_id": [f"P{i}" for i in range(6)], "v": range(6)})
    previous = delta.Digests(tmp_path / "d0")
    previous.write({"paper": papers}, "code")
    about = previous.about()
    del about["rows"]
    (previous.folder / "about.json").write_text(json.dumps(about))
    assert previous.rows("paper") == 6
    rows = pl.DataFrame({"paper_id": ["P9"], "v": [9]})
    current = delta.Digests(tmp_path / "d1")
    current.write({"paper": rows}, "code", {"paper": pl.Series(["P0", "P9"])}, previous)
    assert current.rows("paper") == current.about()["rows"]["paper"] == 6
    assert current.table("paper").height == 6


def test_the_copy_for_a_load_by_changes_is_made_without_the_models_tables(tmp_path: Path):
    from flows.ingest import without_models

    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table paper as select 'P1' as paper_id")
        con.execute("create table author_metrics as select 'A1' as author_id, 3 as h_index")
    previous = _digests(tmp_path / "previous", _tables(1))
    previous.mark_published(warehouse, None)
    build = tmp_path / "build" / "b.duckdb"
    assert delta.PublishedCopy(warehouse, build, previous, prepare=without_models).wait()

    def tables(path: Path) -> list[str]:
        with duckdb.connect(str(path), read_only=True) as con:
            return [row[0] for row in con.sql("select table_name from duckdb_tables()").fetchall()]

    assert tables(build) == ["paper"]
    assert sorted(tables(warehouse)) == ["author_metrics", "paper"]  # the published one as it was
