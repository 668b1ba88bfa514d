"""flows.models: discovering models and checks, ordering them, building and documenting."""

from __future__ import annotations

import hashlib
import json
import pickle
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import sqlglot

import flows.models
from flows.models import (
    Check,
    CheckError,
    Model,
    ModelDefinitionError,
    ModelError,
    discover_checks,
    discover_models,
    model_settings,
    quote_literal,
    read_model_seconds,
    run_check,
    run_checks,
    run_in_dependency_order,
    run_model,
    write_model_seconds,
)


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def model_file(name: str, query: str, columns: dict[str, str] | None = None) -> str:
    header = [f"-- {name}: one row per thing."]
    header += [f"-- {column}: {text}" for column, text in (columns or {"x": "a value"}).items()]
    return "\n".join([*header, query, ""])


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("create table paper as select 'p1' as paper_id, 3 as n_citations")
    yield connection
    connection.close()


def test_models_come_in_dependency_order_with_ties_broken_by_name(tmp_path):
    write(tmp_path, "marts/b_mart.sql", model_file("b_mart", "select x from a_base"))
    write(tmp_path, "marts/a_mart.sql", model_file("a_mart", "select x from z_base"))
    write(tmp_path, "intermediate/z_base.sql", model_file("z_base", "select 1 as x"))
    write(tmp_path, "intermediate/a_base.sql", model_file("a_base", "select 2 as x"))
    models = discover_models(tmp_path)
    assert [m.name for m in models] == ["a_base", "b_mart", "z_base", "a_mart"]
    assert {m.name: m.layer for m in models} == {
        "a_base": "intermediate",
        "b_mart": "marts",
        "z_base": "intermediate",
        "a_mart": "marts",
    }


def test_dependencies_are_the_models_a_query_reads_not_ctes_or_core_tables(tmp_path):
    write(tmp_path, "intermediate/base.sql", model_file("base", "select 1 as x"))
    write(tmp_path, "intermediate/other.sql", model_file("other", "select 1 as x"))
    write(
        tmp_path,
        "marts/top.sql",
        model_file(
            "top",
            "with other as (select 1 as x), base as (select x from main.base)\n"
            "select base.x from base join paper on true join other using (x)",
        ),
    )
    by_name = {m.name: m for m in discover_models(tmp_path)}
    assert by_name["top"].depends_on == ("base",)
    assert by_name["base"].depends_on == ()


def test_a_model_read_under_any_case_is_a_dependency_as_duckdb_reads_it(tmp_path):
    write(tmp_path, "intermediate/base.sql", model_file("base", "select 1 as x"))
    write(tmp_path, "intermediate/other.sql", model_file("other", "select 1 as x"))
    queries = {
        "plain": "select x from BASE",
        "quoted": 'select x from "Base" join Paper using (x)',
        # a CTE named in another case is still the CTE, not the model
        "cte": "with OTHER as (select 1 as x) select x from other",
    }
    for name, query in queries.items():
        write(tmp_path, f"marts/{name}.sql", model_file(name, query))
    models = discover_models(tmp_path)
    by_name = {m.name: m.depends_on for m in models}
    assert by_name == {
        "base": (), "other": (), "plain": ("base",), "quoted": ("base",), "cte": ()
    }  # fmt: skip
    con = duckdb.connect()
    con.execute("create table paper as select 1 as x")
    run_in_dependency_order(models, lambda model: run_model(con, model), lanes=1)
    assert con.execute('select * from "QUOTED"').fetchall() == [(1,)]


def _graph(models: list[Model]) -> list[tuple[str, tuple[str, ...]]]:
    return [(m.name, m.depends_on) for m in models]


def test_the_tables_a_model_reads_are_kept_and_parsed_again_only_when_its_text_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    sql, known = tmp_path / "sql", tmp_path / "state" / "model_tables.json"
    known.parent.mkdir()
    write(sql, "intermediate/base.sql", model_file("base", "select 1 as x"))
    write(sql, "marts/top.sql", model_file("top", "select x from base"))
    first = discover_models(sql, known)
    assert _graph(first) == _graph(discover_models(sql)) == [("base", ()), ("top", ("base",))]
    kept = json.loads(known.read_text())
    assert kept["reader"] == flows.models._READER and len(kept["tables"]) == 2
    assert kept["reader"].startswith(f"{sqlglot.__version__}/")
    # Kept: the same models come without parsing.
    parsed: list[str] = []
    real = flows.models._referenced_tables

    def parsing(text: str, path: Path) -> set[str]:
        parsed.append(path.name)
        return real(text, path)

    monkeypatch.setattr(flows.models, "_referenced_tables", parsing)
    assert _graph(discover_models(sql, known)) == _graph(first)
    assert parsed == []
    # A changed text is parsed again, and the file keeps only the texts of this time.
    write(sql, "marts/top.sql", model_file("top", "select 2 as x"))
    assert _graph(discover_models(sql, known)) == [("base", ()), ("top", ())]
    assert parsed == ["top.sql"]
    assert len(json.loads(known.read_text())["tables"]) == 2


def _two_models(root: Path) -> tuple[Path, str]:
    """Models `base` and `top` (which reads base) under root/sql; the hash of top's text."""
    write(root / "sql", "intermediate/base.sql", model_file("base", "select 1 as x"))
    top = write(root / "sql", "marts/top.sql", model_file("top", "select x from base"))
    return root / "sql", hashlib.sha256(top.read_text().encode()).hexdigest()


def _reader(version: str | None = None, code: str | None = None) -> str:
    """`flows.models._READER` with another sqlglot version or code hash."""
    kept_version, kept_code = flows.models._READER.split("/")
    return f"{version or kept_version}/{code or kept_code}"


@pytest.mark.parametrize(
    "kept",
    [
        # Another sqlglot's answer, believed, would give top no dependency.
        lambda key: json.dumps({"reader": _reader(version="0.0.1"), "tables": {key: []}}),
        # ... or another version of the code that reads them (its rules may differ), or a
        # file that does not say which code wrote it: the same.
        lambda key: json.dumps({"reader": _reader(code="0" * 12), "tables": {key: []}}),
        lambda key: json.dumps({"sqlglot": sqlglot.__version__, "tables": {key: []}}),
        # An answer that is not a list of names ("base" read as its letters).
        lambda key: json.dumps({"reader": _reader(), "tables": {key: "base"}}),
        lambda key: json.dumps({"reader": _reader(), "tables": [key]}),
        lambda key: "not json",
    ],
)
def test_kept_tables_of_another_sqlglot_or_not_well_formed_are_parsed_again(
    tmp_path: Path, kept: Callable[[str], str]
):
    sql, key = _two_models(tmp_path)
    known = tmp_path / "model_tables.json"
    known.write_text(kept(key))
    assert _graph(discover_models(sql, known)) == [("base", ()), ("top", ("base",))]
    rewritten = json.loads(known.read_text())
    assert rewritten["reader"] == flows.models._READER
    assert rewritten["tables"][key] == ["base"]


def test_checks_folder_is_not_a_model_layer(tmp_path):
    write(tmp_path, "marts/m.sql", model_file("m", "select 1 as x"))
    write(tmp_path, "checks/m_rule.sql", "-- m_rule: no row.\nselect * from m where false\n")
    assert [m.name for m in discover_models(tmp_path)] == ["m"]
    (check,) = discover_checks(tmp_path)
    assert (check.name, check.description) == ("m_rule", "no row.")


def test_a_changes_file_is_read_beside_its_model_and_is_not_a_model(tmp_path):
    write(tmp_path, "marts/m.sql", model_file("m", "select paper_id as x from paper"))
    write(
        tmp_path,
        "changes/m.sql",
        "-- m: the values of x to make again.\n-- key: x\n-- scope: paper.paper_id\n"
        "select paper_id as x from changed_paper\n",
    )
    (model,) = discover_models(tmp_path)
    assert model.changes is not None
    assert (model.changes.key, model.changes.scope_table, model.changes.scope_column) == (
        "x",
        "paper",
        "paper_id",
    )
    assert model.changes.needs == {"paper"}


@pytest.mark.parametrize(
    ("stem", "header", "message"),
    [
        ("other", "-- other: x.\n-- key: x\n-- scope: paper.paper_id", "no model 'other'"),
        ("m", "-- m: x.\n-- key: x", "exactly '-- key: <column>'"),
        ("m", "-- m: x.\n-- key: y\n-- scope: paper.paper_id", "key 'y' is not a column"),
        ("m", "-- m: x.\n-- key: x\n-- scope: paper", "is not <table>.<column>"),
        ("m", "-- m: x.\n-- key: x\n-- scope: author.author_id", "not a table 'm' reads"),
    ],
)
def test_a_changes_file_that_does_not_fit_its_model_is_refused(tmp_path, stem, header, message):
    write(tmp_path, "marts/m.sql", model_file("m", "select paper_id as x from paper"))
    write(tmp_path, f"changes/{stem}.sql", header + "\nselect paper_id as x from changed_paper\n")
    with pytest.raises(ModelDefinitionError, match=message):
        discover_models(tmp_path)


def test_a_dependency_cycle_is_an_error_that_names_the_cycle(tmp_path):
    write(tmp_path, "marts/a.sql", model_file("a", "select x from c"))
    write(tmp_path, "marts/b.sql", model_file("b", "select x from a"))
    write(tmp_path, "marts/c.sql", model_file("c", "select x from b"))
    write(tmp_path, "marts/d.sql", model_file("d", "select 1 as x"))
    with pytest.raises(
        ModelDefinitionError,
        match=r"cycle between models \(each reads the next\): a -> c -> b -> a",
    ):
        discover_models(tmp_path)


def test_two_files_with_one_stem_are_an_error(tmp_path):
    write(tmp_path, "intermediate/same.sql", model_file("same", "select 1 as x"))
    write(tmp_path, "marts/same.sql", model_file("same", "select 1 as x"))
    with pytest.raises(ModelDefinitionError, match="duplicate model name 'same'"):
        discover_models(tmp_path)


@pytest.mark.parametrize("stem", ["Author", "2fast", "my-model", "drop table x"])
def test_a_file_stem_that_is_not_a_plain_identifier_is_refused(tmp_path, stem):
    write(tmp_path, f"marts/{stem}.sql", model_file("x", "select 1 as x"))
    with pytest.raises(ModelDefinitionError, match="is not a table name"):
        discover_models(tmp_path)


def test_a_model_without_its_header_line_is_refused(tmp_path):
    write(tmp_path, "marts/m.sql", "-- x: a value\nselect 1 as x\n")
    with pytest.raises(ModelDefinitionError, match="must start with '-- m: "):
        discover_models(tmp_path)


def test_a_model_must_be_one_query(tmp_path):
    write(tmp_path, "marts/m.sql", model_file("m", "select 1 as x; select 2 as x"))
    with pytest.raises(ModelDefinitionError, match="exactly one query"):
        discover_models(tmp_path)
    write(tmp_path, "marts/m.sql", model_file("m", "drop table paper"))
    with pytest.raises(ModelDefinitionError, match="exactly one query"):
        discover_models(tmp_path)


def test_a_missing_sql_directory_is_an_error_not_an_empty_list(tmp_path):
    with pytest.raises(ModelDefinitionError, match="not a directory"):
        discover_models(tmp_path / "sqll")
    with pytest.raises(ModelDefinitionError, match="not a directory"):
        discover_checks(tmp_path / "sqll")


def test_header_continuation_lines_extend_the_previous_text(tmp_path):
    write(
        tmp_path,
        "marts/m.sql",
        "-- m: one row per\n--   thing.\n-- x: a\n--     value\nselect 1 as x\n",
    )
    (model,) = discover_models(tmp_path)
    assert (model.table_comment, model.column_comments) == ("one row per thing.", {"x": "a value"})


def diamond_and_loners(root: Path) -> list[Model]:
    """base <- left, right <- top; two models on their own; one chain of two."""
    write(root, "i/base.sql", model_file("base", "select 1 as x"))
    write(root, "m/left.sql", model_file("left", "select x from base"))
    write(root, "m/right.sql", model_file("right", "select x from base"))
    write(root, "m/top.sql", model_file("top", "select x from left join right using (x)"))
    write(root, "m/alone_a.sql", model_file("alone_a", "select 2 as x"))
    write(root, "m/alone_b.sql", model_file("alone_b", "select 3 as x"))
    write(root, "i/chain.sql", model_file("chain", "select 4 as x"))
    write(root, "m/chain_end.sql", model_file("chain_end", "select x from chain"))
    return discover_models(root)


def test_models_run_after_every_model_they_read_and_each_runs_once(tmp_path):
    models = diamond_and_loners(tmp_path)
    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run(model: Model) -> str:
        with lock:
            events.append(("start", model.name))
        time.sleep(0.01)
        with lock:
            events.append(("end", model.name))
        return model.name.upper()

    results = run_in_dependency_order(models, run, lanes=3)
    assert results == {m.name: m.name.upper() for m in models}
    ended_before = {}
    for index, (kind, name) in enumerate(events):
        if kind == "start":
            ended_before[name] = {n for k, n in events[:index] if k == "end"}
    assert sorted(ended_before) == sorted(m.name for m in models)
    for model in models:
        assert set(model.depends_on) <= ended_before[model.name], model.name


def test_independent_models_run_at_the_same_time(tmp_path):
    write(tmp_path, "m/one.sql", model_file("one", "select 1 as x"))
    write(tmp_path, "m/two.sql", model_file("two", "select 2 as x"))
    both_running = threading.Barrier(2, timeout=10)

    def run(model: Model) -> None:
        both_running.wait()  # broken (an error) unless the two run at once

    run_in_dependency_order(discover_models(tmp_path), run, lanes=2)


def test_of_the_ready_models_the_one_more_models_wait_on_starts_first(tmp_path):
    models = diamond_and_loners(tmp_path)
    started: list[str] = []
    run_in_dependency_order(models, lambda model: started.append(model.name), lanes=1)
    # base has three models downstream, chain one, the loners none; then ties by name
    assert started[0] == "base"
    assert started.index("left") < started.index("alone_a")
    assert started.index("chain") < started.index("alone_a") < started.index("alone_b")


def test_after_a_failure_no_model_starts_and_the_error_is_raised(tmp_path):
    models = diamond_and_loners(tmp_path)
    started: list[str] = []

    def run(model: Model) -> None:
        started.append(model.name)
        if model.name == "base":
            raise ModelError("base", "boom")

    with pytest.raises(ModelError, match="boom"):
        run_in_dependency_order(models, run, lanes=1)
    assert started == ["base"]


def test_run_model_builds_the_table_and_documents_it(tmp_path, con):
    path = write(
        tmp_path,
        "marts/cited.sql",
        model_file(
            "cited",
            "select paper_id, n_citations from paper",
            {"paper_id": "the paper's key", "n_citations": "citations, 'as reported'"},
        ),
    )
    (model,) = discover_models(tmp_path)
    result = run_model(con, model)
    assert (result.name, result.n_rows) == ("cited", 1)
    assert result.seconds >= 0
    assert con.execute(
        "select comment from duckdb_tables() where table_name = 'cited'"
    ).fetchall() == [("one row per thing.",)]
    assert con.execute(
        "select column_name, comment from duckdb_columns() where table_name = 'cited' "
        "order by column_index"
    ).fetchall() == [("paper_id", "the paper's key"), ("n_citations", "citations, 'as reported'")]
    assert model.path == path


def test_run_model_replaces_the_previous_build(tmp_path, con):
    write(tmp_path, "marts/m.sql", model_file("m", "select 1 as x"))
    (model,) = discover_models(tmp_path)
    run_model(con, model)
    assert run_model(con, model).n_rows == 1


def test_an_undocumented_column_is_an_error_that_names_it(tmp_path, con):
    write(tmp_path, "marts/m.sql", model_file("m", "select 1 as x, 2 as y, 3 as z"))
    (model,) = discover_models(tmp_path)
    with pytest.raises(ModelDefinitionError, match=r"undocumented column\(s\): y, z"):
        run_model(con, model)
    assert con.execute(
        "select count(*) from duckdb_tables() where table_name = 'm'"
    ).fetchall() == [(0,)]


def test_a_documented_column_the_query_does_not_return_is_an_error(tmp_path, con):
    write(tmp_path, "marts/m.sql", model_file("m", "select 1 as x", {"x": "a", "gone": "b"}))
    (model,) = discover_models(tmp_path)
    with pytest.raises(ModelDefinitionError, match="does not return: gone"):
        run_model(con, model)


def test_a_failing_model_raises_model_error_with_its_name(tmp_path, con):
    write(tmp_path, "marts/broken.sql", model_file("broken", "select x from no_such_table"))
    (model,) = discover_models(tmp_path)
    with pytest.raises(ModelError, match="broken") as raised:
        run_model(con, model)
    assert raised.value.model_name == "broken"
    assert "no_such_table" in raised.value.message


def test_a_model_failing_at_run_time_raises_model_error(tmp_path, con):
    write(tmp_path, "marts/bad_cast.sql", model_file("bad_cast", "select 'abc'::integer as x"))
    (model,) = discover_models(tmp_path)
    with pytest.raises(ModelError) as raised:
        run_model(con, model)
    assert raised.value.model_name == "bad_cast"


def test_run_model_refuses_a_name_that_is_not_an_identifier(con):
    model = Model(
        name="x; drop table paper",
        path=Path("x.sql"),
        sql="select 1 as x",
        depends_on=(),
        layer="marts",
        table_comment="t",
        column_comments={"x": "x"},
    )
    with pytest.raises(ModelDefinitionError):
        run_model(con, model)


def test_a_failing_check_names_itself_and_shows_its_rows(con):
    check = Check(
        name="citations_are_small",
        path=Path("checks/citations_are_small.sql"),
        sql="select paper_id, n_citations from paper where n_citations > 1;",
        description="no paper has more than one citation.",
    )
    (result,) = run_checks(con, [check])
    assert (result.name, result.n_violations, result.passed) == ("citations_are_small", 1, False)
    assert result.sample == [{"paper_id": "p1", "n_citations": 3}]
    assert "citations_are_small" in result.describe() and "'p1'" in result.describe()


def test_a_passing_check_has_no_rows_and_the_sample_is_limited(con):
    con.execute("insert into paper select 'p' || range, 0 from range(2, 20)")
    passing = Check("ok", Path("ok.sql"), "select * from paper where n_citations < 0", "none")
    failing = Check("many", Path("many.sql"), "select * from paper", "none")
    assert run_check(con, passing).passed
    result = run_check(con, failing, limit=3)
    assert (result.n_violations, len(result.sample)) == (19, 3)


def test_a_check_whose_query_fails_raises_check_error(con):
    check = Check("typo", Path("typo.sql"), "select * from papr", "none")
    with pytest.raises(CheckError, match="typo"):
        run_check(con, check)


def test_quote_identifier_doubles_double_quotes_and_names_any_database(tmp_path):
    assert flows.models.quote_identifier('build-1 "x"') == '"build-1 ""x"""'
    with duckdb.connect(str(tmp_path / 'build-1 "x".duckdb')) as connection:
        connection.execute("create table t as select 1 as x")
        ((database,),) = connection.execute("select current_database()").fetchall()
        name = flows.models.quote_identifier(database)
        assert connection.sql(f"select x from {name}.main.t").fetchall() == [(1,)]


def test_quote_literal_doubles_single_quotes():
    assert quote_literal("it's 'quoted'") == "'it''s ''quoted'''"


def _disabled(con) -> str:
    return con.execute("select current_setting('disabled_optimizers')").fetchone()[0]


def test_models_build_without_partial_aggregate_pushdown_and_the_setting_is_reset(
    con, monkeypatch, tmp_path
):
    """The label propagation of the graph models re-aggregates its arcs every round under
    DuckDB's partial aggregate pushdown; the models build without it, and only they."""
    seen = []
    with model_settings(con):
        seen.append(_disabled(con))
        seen.append(_disabled(con.cursor()))
    assert seen == ["partial_aggregate_pushdown"] * 2
    # the setting is the database's: the flow builds each model on a connection of its own
    # to the build file, and those see the setting made around all of them
    build = tmp_path / "build.duckdb"
    with (
        duckdb.connect(build) as around,
        model_settings(around),
        duckdb.connect(build) as model_connection,
    ):
        assert _disabled(model_connection) == "partial_aggregate_pushdown"
    with duckdb.connect(build) as later:
        assert _disabled(later) == ""
    assert _disabled(con) == ""
    with pytest.raises(RuntimeError), model_settings(con):
        raise RuntimeError("a model failed")
    assert _disabled(con) == ""
    # an optimizer this DuckDB does not know is left out, not an error
    monkeypatch.setattr("flows.models._DISABLED_OPTIMIZERS", ("no_such_optimizer",))
    with model_settings(con):
        assert _disabled(con) == ""


@pytest.mark.parametrize(
    "error",
    [ModelError("author_metrics", "Catalog Error: no table"), CheckError("ids_unique", "boom")],
)
def test_model_and_check_errors_cross_processes_intact(error):
    """A model built in a worker process (the models benchmark) fails with its own error in
    the parent, not with a broken process pool."""
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error) and copy.message == error.message
    assert getattr(copy, "model_name", None) == getattr(error, "model_name", None)
    assert getattr(copy, "check_name", None) == getattr(error, "check_name", None)


def test_of_the_ready_models_the_one_heading_the_costliest_chain_starts_first(tmp_path):
    models = diamond_and_loners(tmp_path)
    started: list[str] = []
    costs = {"alone_b": 9.0, "base": 1.0, "left": 1.0, "right": 3.0, "top": 1.0, "chain": 2.0}
    run_in_dependency_order(models, lambda model: started.append(model.name), 1, costs)
    # Chains: alone_b 9 s; base 1 + right's 3 + top's 1 = 5; chain 2 + chain_end's, not
    # known: the mean of the known costs (17 / 6 = 2.83); right 4; alone_a and chain_end
    # 2.83, tied (by name then); left 2; top 1.
    assert started == [
        "alone_b", "base", "chain", "right", "alone_a", "chain_end", "left", "top"
    ]  # fmt: skip
    # without costs: the one more models wait on (the test above), whatever the order of
    # the costs' names
    unordered: list[str] = []
    run_in_dependency_order(models, lambda model: unordered.append(model.name), 1, {})
    assert unordered[0] == "base"


def test_a_first_build_starts_the_chains_of_recursive_models_first(tmp_path):
    models = diamond_and_loners(tmp_path)
    recursive = (
        "with recursive r(x) as (select x from chain union all select x + 1 from r where x < 3)"
        " select max(x) as x from r"
    )
    write(tmp_path, "m/chain_end.sql", model_file("chain_end", recursive.upper()))
    # Named in a comment or in quoted text, a query is not recursive.
    write(tmp_path, "m/alone_a.sql", model_file("alone_a", "select 1 as x -- with recursive"))
    write(
        tmp_path,
        "m/top.sql",
        model_file("top", "select /* with\nrecursive */ x from left join right using (x)"),
    )
    write(tmp_path, "m/alone_b.sql", model_file("alone_b", "select 'with recursive' as x"))
    models = discover_models(tmp_path)
    assert [m.name for m in models if m.is_recursive] == ["chain_end"]

    def start_order(costs: dict[str, float] | None) -> list[str]:
        started: list[str] = []
        run_in_dependency_order(models, lambda model: started.append(model.name), 1, costs)
        return started

    # chain heads the recursive model's chain; then as without a recursive model
    first_build = ["chain", "chain_end", "base", "left", "right", "alone_a", "alone_b", "top"]
    assert start_order(None) == start_order({}) == first_build
    # Once a build's seconds are known, they decide.
    costs = {name: 1.0 for name in ("base", "left", "right", "top", "chain", "chain_end")}
    assert start_order(costs | {"alone_a": 1.0, "alone_b": 4.0})[0] == "alone_b"


def test_the_seconds_of_a_build_are_kept_and_only_numbers_of_seconds_come_back(tmp_path):
    path = tmp_path / "model_seconds.json"
    assert read_model_seconds(path) == {}
    write_model_seconds(path, {"a": 1.5, "b": 0})
    assert read_model_seconds(path) == {"a": 1.5, "b": 0.0}
    path.write_text(
        json.dumps({"seconds": {"a": 2, "b": -1, "c": "3", "d": True, "e": None, "f": [1]}})
    )
    assert read_model_seconds(path) == {"a": 2.0}
    path.write_text('{"seconds": {"a": NaN, "b": Infinity, "c": 0.25}}')
    assert read_model_seconds(path) == {"c": 0.25}
    for text in ("not json", "[1, 2]", '{"seconds": [1]}', '{"other": {}}'):
        path.write_text(text)
        assert read_model_seconds(path) == {}, text
