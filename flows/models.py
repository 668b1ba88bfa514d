"""Runs the SQL models in `sql/` in dependency order and runs the data checks in `sql/checks/`.

A model is one `.sql` file holding one query; its file stem is the table it builds in the main
schema and its folder is its layer (`intermediate`, `marts`, ...). Dependencies are read from
the SQL itself: every table a query reads that is another model's stem. Documentation lives at
the top of each file, and a model cannot be built without it:

    -- author_metrics: one row per author.
    -- author_id: the author's stable key.
    -- h_index: largest h such that h of the author's papers have >= h citations;
    --     null when no citation count is known.

The first line names the table and states its grain (the table comment); each following line
`-- <column>: <text>` documents one output column; a line indented further after `--`
continues the previous text. The header ends at the first line that is not a `--` comment.

A check is one `.sql` file in `checks/` whose query returns the violating rows; an empty
result is a pass. Its first line `-- <check name>: <rule>` says what it checks.

A model may also have a file of the same name in `changes/`: how its table is brought up to
date after a load by changes without being built again whole (`run_model_changes`).

    -- title_term: the papers whose terms may differ: every paper whose row the load rewrote.
    -- key: paper_id
    -- scope: paper.paper_id
    select paper_id from changed_paper

Its query returns the values of the model's column `key` whose rows may differ. It reads
the tables as loaded, the model's table as last built, and `changed_<table>`: the keys of
`<table>` whose rows the load rewrote, under the key column's name (`flows.delta.ROW_KEYS`),
or the keys a model before it was brought up to date for. The model's rows of those values
are deleted, and its own query makes them again with the table `scope` reads cut to the rows
whose column holds one of them. This gives the rows a whole build gives when the rows of a
value of `key` depend only on the rows of `scope` with that value (and on whole tables), and
the query returns every value whose rows may differ.

No Prefect here: the flow wraps these calls in tasks.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from contextvars import copy_context
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, TypeVar

import duckdb
import polars as pl
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.scope import traverse_scope

from flows.cache import read_json_object, write_json_atomic

CHECKS_DIR: Final = "checks"
CHANGES_DIR: Final = "changes"
# The keys a load by changes rewrote, per table, as the changes queries read them.
CHANGED_PREFIX: Final = "changed_"
# The values a model is brought up to date for, as its scope is cut to them.
_REBUILT_KEYS: Final = "_rebuilt_keys"
IDENTIFIER: Final = re.compile(r"[a-z_][a-z0-9_]*")
HEADER_ENTRY: Final = re.compile(r"^--\s?([a-z_][a-z0-9_]*)\s*:\s*(.*?)\s*$")
HEADER_CONTINUATION: Final = re.compile(r"^--\s{2,}(\S.*?)\s*$")
MAIN_SCHEMAS: Final = frozenset({"", "main"})
# DuckDB's partial aggregate pushdown pre-aggregates the far side of a join under an
# aggregate. In the models' label propagation (recursive CTEs) that side is the graph's arcs,
# aggregated again every round: 12 million rows at 10^5 profiles, a third of
# profile_paper_component's time. No model is slower without it (each measured at 10^5).
_DISABLED_OPTIMIZERS: Final = ("partial_aggregate_pushdown",)
# Which code read the texts whose tables `model_tables.json` keeps: this module's own text
# (`_referenced_tables` and its rules live here), with sqlglot's version.
_READER: Final = (
    f"{sqlglot.__version__}/{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]}"
)
# A recursive query (`with recursive`), outside comments and quoted text.
_RECURSIVE: Final = re.compile(r"\bwith\s+recursive\b", re.IGNORECASE)
_COMMENTS_AND_TEXTS: Final = re.compile(
    r"--[^\n]*|/\*[\s\S]*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\""
)
T = TypeVar("T")


class ModelDefinitionError(ValueError):
    """The files under `sql/` do not form a valid set of models or checks."""


class ModelError(RuntimeError):
    """A model failed to build; carries the model's name and the database's message."""

    def __init__(self, model_name: str, message: str) -> None:
        super().__init__(f"model {model_name!r} failed: {message}")
        self.model_name = model_name
        self.message = message

    def __reduce__(self) -> tuple[type[ModelError], tuple[str, str]]:
        # raised in a worker process, it crosses back by pickle with its own arguments
        return (type(self), (self.model_name, self.message))


class CheckError(RuntimeError):
    """A check's query itself failed (not the same as a check that finds violations)."""

    def __init__(self, check_name: str, message: str) -> None:
        super().__init__(f"check {check_name!r} could not run: {message}")
        self.check_name = check_name
        self.message = message

    def __reduce__(self) -> tuple[type[CheckError], tuple[str, str]]:
        return (type(self), (self.check_name, self.message))


@dataclass(frozen=True)
class Model:
    """One SQL model: the table `name` built from the query `sql`."""

    name: str
    path: Path
    sql: str
    depends_on: tuple[str, ...]
    layer: str
    table_comment: str
    column_comments: dict[str, str] = field(hash=False)
    changes: Changes | None = None

    @property
    def is_recursive(self) -> bool:
        """Whether the query is recursive: it runs round after round until nothing changes."""
        return bool(_RECURSIVE.search(_COMMENTS_AND_TEXTS.sub(" ", self.sql)))


@dataclass(frozen=True)
class Changes:
    """How a model's table is brought up to date after a load by changes (`changes/`): the
    query `sql` returns the values of its column `key` whose rows may differ; the model's
    own query makes those rows, with the table `scope_table` cut to the rows whose column
    `scope_column` holds one of them. `reads` are the tables the query reads."""

    path: Path
    sql: str
    key: str
    scope_table: str
    scope_column: str
    reads: frozenset[str]

    @property
    def needs(self) -> frozenset[str]:
        """The tables (or models) whose changed keys the query reads."""
        return frozenset(
            name.removeprefix(CHANGED_PREFIX)
            for name in self.reads
            if name.startswith(CHANGED_PREFIX)
        )


@dataclass(frozen=True)
class ModelResult:
    """What building one model produced."""

    name: str
    n_rows: int
    seconds: float


@dataclass(frozen=True)
class Check:
    """One data check: a query returning the rows that break the rule in `description`."""

    name: str
    path: Path
    sql: str
    description: str


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: how many rows break it and the first few of them."""

    name: str
    n_violations: int
    sample: list[dict[str, Any]]
    seconds: float

    @property
    def passed(self) -> bool:
        return self.n_violations == 0

    def describe(self) -> str:
        """One readable paragraph: the check's name, its count and its sample rows."""
        if self.passed:
            return f"check {self.name}: pass"
        lines = [f"check {self.name}: {self.n_violations} violating row(s), for example:"]
        lines += [f"  {row}" for row in self.sample]
        return "\n".join(lines)


def discover_models(sql_dir: Path, known_tables: Path | None = None) -> list[Model]:
    """Every model under `sql_dir` (checks excluded), in dependency order, ties by name.

    `known_tables` is a JSON file keeping the tables each model's text reads, by the text's
    hash: parsing them took 0.14-0.17 s of each run in a fresh process (sqlglot and its
    DuckDB dialect; 0.002 s from the file), and their texts change only with the code. Read
    first; written back when a text was not in it."""
    _require_directory(sql_dir)
    files = [
        path
        for path in sorted(sql_dir.rglob("*.sql"))
        if path.relative_to(sql_dir).parts[0] not in (CHECKS_DIR, CHANGES_DIR)
    ]
    by_name: dict[str, Path] = {}
    for path in files:
        name = _validated_name(path)
        if name in by_name:
            raise ModelDefinitionError(f"duplicate model name {name!r}: {by_name[name]} and {path}")
        by_name[name] = path

    models: dict[str, Model] = {}
    known = _KnownTables(known_tables)
    for name, path in by_name.items():
        sql = path.read_text(encoding="utf-8")
        table_comment, column_comments = _parse_header(sql, name, path)
        referenced = known.tables(sql, path)
        models[name] = Model(
            name=name,
            path=path,
            sql=sql,
            depends_on=tuple(sorted(referenced & by_name.keys())),
            layer=path.parent.relative_to(sql_dir).as_posix().removeprefix("."),
            table_comment=table_comment,
            column_comments=column_comments,
        )
    for path in sorted((sql_dir / CHANGES_DIR).glob("*.sql")):
        name = _validated_name(path)
        if name not in models:
            raise ModelDefinitionError(f"{path}: no model {name!r} for these changes")
        models[name] = replace(models[name], changes=_read_changes(path, models[name], known))
    known.save()
    return [models[name] for name in _topological_order(models)]


def _read_changes(path: Path, model: Model, known: _KnownTables) -> Changes:
    """A model's `changes/` file: its header names the model, then `key` and `scope`."""
    sql = path.read_text(encoding="utf-8")
    _, entries = _parse_header(sql, model.name, path)
    if set(entries) != {"key", "scope"}:
        raise ModelDefinitionError(
            f"{path}: after its first line the header holds exactly '-- key: <column>' and "
            "'-- scope: <table>.<column>'"
        )
    key = entries["key"]
    if key not in model.column_comments:
        raise ModelDefinitionError(f"{path}: key {key!r} is not a column of {model.name!r}")
    scope_table, _, scope_column = entries["scope"].partition(".")
    if not (IDENTIFIER.fullmatch(scope_table) and IDENTIFIER.fullmatch(scope_column)):
        raise ModelDefinitionError(f"{path}: scope {entries['scope']!r} is not <table>.<column>")
    if scope_table not in known.tables(model.sql, model.path):
        raise ModelDefinitionError(
            f"{path}: the scope {scope_table!r} is not a table {model.name!r} reads"
        )
    return Changes(
        path=path,
        sql=sql,
        key=key,
        scope_table=scope_table,
        scope_column=scope_column,
        reads=frozenset(known.tables(sql, path)),
    )


class _KnownTables:
    """`_referenced_tables` of model texts, kept in a JSON file by each text's hash (see
    `discover_models`). A file written with another sqlglot version or another version of
    this module (`_READER`), or unreadable, is ignored; the file written keeps only the
    texts asked for this time."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        kept = read_json_object(path) if path is not None else None
        tables = kept.get("tables") if kept and kept.get("reader") == _READER else None
        self.known: dict[str, list[str]] = tables if isinstance(tables, dict) else {}
        self.asked: dict[str, list[str]] = {}

    def tables(self, sql: str, path: Path) -> set[str]:
        key = hashlib.sha256(sql.encode()).hexdigest()
        names = self.known.get(key)
        if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            names = sorted(_referenced_tables(sql, path))
        self.asked[key] = names
        return set(names)

    def save(self) -> None:
        if self.path is not None and self.asked != self.known:
            write_json_atomic({"reader": _READER, "tables": self.asked}, self.path)


def run_model(con: duckdb.DuckDBPyConnection, model: Model) -> ModelResult:
    """Build one model as a table in the main schema and attach its comments."""
    name = _checked_identifier(model.name)
    query = _strip_statement(model.sql)
    started = time.perf_counter()
    try:
        columns = con.sql(query).columns
    except duckdb.Error as error:
        raise ModelError(model.name, str(error)) from error
    _require_documented(model, columns)
    try:
        con.execute(f"create or replace table {name} as\n{query}\n")
        con.execute(f"comment on table {name} is {quote_literal(model.table_comment)}")
        for column in columns:
            comment = quote_literal(model.column_comments[column])
            con.execute(f"comment on column {name}.{_checked_identifier(column)} is {comment}")
        # fetchall, not fetchone: DuckDB 2 keeps a half-read result open on the connection
        ((n_rows,),) = con.table(name).count("*").fetchall()
    except duckdb.Error as error:
        raise ModelError(model.name, str(error)) from error
    return ModelResult(name=model.name, n_rows=int(n_rows), seconds=time.perf_counter() - started)


def run_model_changes(
    con: duckdb.DuckDBPyConnection, model: Model, changed: Mapping[str, pl.DataFrame]
) -> tuple[ModelResult, pl.DataFrame] | None:
    """Bring a model's table up to date for the changed keys only (its `Changes`); returns
    what it did and the values of its key it made again, or None when it cannot, and the
    model is to be built whole: it has no changes file, its table is missing or has other
    columns, its changes query reads the changed keys of a table not in `changed`, or a
    model it reads was not brought up to date (its keys are not in `changed` either).

    `changed` holds the keys of each table the load rewrote, under the key column's name
    (an empty frame: none of its rows changed). Runs in the caller's transaction."""
    changes = model.changes
    if changes is None or not (changes.needs | set(model.depends_on)) <= changed.keys():
        return None
    name = _checked_identifier(model.name)
    query = _strip_statement(model.sql)
    started = time.perf_counter()
    ((database,),) = con.execute("select current_database()").fetchall()
    table = f"{quote_identifier(database)}.main.{name}"
    scope = _checked_identifier(changes.scope_table)
    source = f"{quote_identifier(database)}.main.{scope}"
    rebuilt = _checked_identifier(_REBUILT_KEYS)
    registered = []
    try:
        built = con.execute(
            "select column_name from duckdb_columns() where database_name = current_database()"
            " and schema_name = 'main' and table_name = ? order by column_index",
            [name],
        ).fetchall()
        if [column for (column,) in built] != con.sql(query).columns:
            return None
        for needed in sorted(changes.needs):
            registered.append(f"{CHANGED_PREFIX}{needed}")
            con.register(registered[-1], changed[needed].to_arrow())
        keys = con.sql(_strip_statement(changes.sql)).pl()
        if keys.columns != [changes.key]:
            raise ModelDefinitionError(
                f"{changes.path}: the query returns {keys.columns}, not the one column "
                f"{changes.key!r}"
            )
        keys = keys.unique()
        registered.append(rebuilt)
        con.register(rebuilt, keys.to_arrow())
        key = _checked_identifier(changes.key)
        column = _checked_identifier(changes.scope_column)
        # fetchall: DuckDB 2 keeps the statement's result (the count) open otherwise.
        con.execute(
            f"delete from {table} where {key} in (select {key} from {rebuilt})"  # noqa: S608
        ).fetchall()
        # The scope cut to the keys, under its own name, for this connection only (a name
        # in a temporary view is looked up among the temporary objects first: the table is
        # named with its database).
        con.execute(
            f"create temp view {scope} as select * from {source} "  # noqa: S608
            f"where {column} in (select {key} from {rebuilt})"
        )
        try:
            con.execute(f"insert into {table}\n{query}\n").fetchall()
        finally:
            con.execute(f"drop view temp.main.{scope}")
        ((n_rows,),) = con.table(name).count("*").fetchall()
    except duckdb.Error as error:
        raise ModelError(model.name, str(error)) from error
    finally:
        for relation in registered:
            con.unregister(relation)
    result = ModelResult(name=model.name, n_rows=int(n_rows), seconds=time.perf_counter() - started)
    return result, keys


def quote_identifier(name: str) -> str:
    """Any name as a quoted SQL identifier (a database's name: the file's stem, any text)."""
    return '"' + name.replace('"', '""') + '"'


def run_models(con: duckdb.DuckDBPyConnection, models: Iterable[Model]) -> list[ModelResult]:
    """Build the given models in the order given (use `discover_models`'s order)."""
    with model_settings(con):
        return [run_model(con, model) for model in models]


@contextmanager
def model_settings(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB's settings for building models (`_DISABLED_OPTIMIZERS`), around all of them:
    the settings are the database's, shared by every connection to it. An optimizer this
    DuckDB does not have is left out."""
    known = {name for (name,) in con.execute("select name from duckdb_optimizers()").fetchall()}
    disabled = [name for name in _DISABLED_OPTIMIZERS if name in known]
    con.execute("set disabled_optimizers = ?", [",".join(disabled)])
    try:
        yield
    finally:
        con.execute("reset disabled_optimizers")


def run_in_dependency_order(
    models: Sequence[Model],
    run: Callable[[Model], T],
    lanes: int,
    costs: Mapping[str, float] | None = None,
) -> dict[str, T]:
    """Call `run` on every model once the models it reads have run, `lanes` at a time.

    Each call runs on a thread of its own, in a copy of the caller's context (so a Prefect
    task called there belongs to the caller's flow run). Of the models ready, the one whose
    chain of models still to run costs most starts first, so the longest chain does not run
    alone at the end: `costs` holds each model's expected seconds (its last build's); a
    model without one counts as the mean of the others. With no costs at all (a first
    build), a recursive model counts as 1 and any other as 0: it runs round after round, and
    at 10^5 profiles the two recursive models were the costliest (2.6 and 3.9 s, against
    1.9 s at most). Then the one that more models wait on, directly or not; ties go by
    name. After a failure no model starts; those running finish, and the first error is
    raised. Returns each model's result by name.
    """
    by_name = {model.name: model for model in models}
    waiting, dependents = _dependency_graph(by_name)

    def downstream(name: str) -> set[str]:
        found = set(dependents[name])
        for dependent in dependents[name]:
            found |= downstream(dependent)
        return found

    if not costs:
        costs = {name: float(model.is_recursive) for name, model in by_name.items()}
    known = [costs[name] for name in by_name if name in costs]
    unknown = sum(known) / len(known) if known else 0.0
    chain_costs: dict[str, float] = {}

    def chain_cost(name: str) -> float:
        if name not in chain_costs:
            own = costs.get(name, unknown)
            chain_costs[name] = own + max(map(chain_cost, dependents[name]), default=0.0)
        return chain_costs[name]

    priority = {name: (-chain_cost(name), -len(downstream(name)), name) for name in by_name}
    ready = [priority[name] for name, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    results: dict[str, T] = {}
    running: dict[Future[T], str] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(max(1, lanes)) as pool:
        while running or (ready and failure is None):
            while ready and failure is None and len(running) < max(1, lanes):
                name = heapq.heappop(ready)[-1]
                running[pool.submit(copy_context().run, run, by_name[name])] = name
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                if (error := future.exception()) is not None:
                    failure = failure or error
                    continue
                results[name] = future.result()
                for dependent in dependents[name]:
                    waiting[dependent].discard(name)
                    if not waiting[dependent]:
                        heapq.heappush(ready, priority[dependent])
    if failure is not None:
        raise failure
    return results


def read_model_seconds(path: Path) -> dict[str, float]:
    """The seconds each model took in the last build, kept in `path` (`write_model_seconds`);
    empty when the file is missing or unreadable, and without any value that is not a
    number of seconds."""
    kept = read_json_object(path)
    seconds = kept.get("seconds") if kept else None
    if not isinstance(seconds, dict):
        return {}
    return {
        name: float(value)
        for name, value in seconds.items()
        if isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    }


def write_model_seconds(path: Path, seconds: Mapping[str, float]) -> None:
    """Keep the seconds each model of a build took, for the next build's order
    (`run_in_dependency_order`)."""
    write_json_atomic({"seconds": dict(seconds)}, path)


def discover_checks(sql_dir: Path) -> list[Check]:
    """Every check in `sql_dir/checks/`, by name."""
    _require_directory(sql_dir)
    checks = []
    for path in sorted((sql_dir / CHECKS_DIR).glob("*.sql")):
        name = _validated_name(path)
        sql = path.read_text(encoding="utf-8")
        description, _ = _parse_header(sql, name, path)
        checks.append(Check(name=name, path=path, sql=sql, description=description))
    return checks


def run_check(con: duckdb.DuckDBPyConnection, check: Check, limit: int = 5) -> CheckResult:
    """Run one check: count its violating rows and keep the first `limit` of them."""
    query = _strip_statement(check.sql)
    started = time.perf_counter()
    try:
        violations = con.sql(query)
        ((n_violations,),) = violations.count("*").fetchall()
        sample: list[dict[str, Any]] = []
        if n_violations:
            sample = [
                dict(zip(violations.columns, values, strict=True))
                for values in violations.limit(limit).fetchall()
            ]
    except duckdb.Error as error:
        raise CheckError(check.name, str(error)) from error
    return CheckResult(
        name=check.name,
        n_violations=n_violations,
        sample=sample,
        seconds=time.perf_counter() - started,
    )


def run_checks(con: duckdb.DuckDBPyConnection, checks: Iterable[Check]) -> list[CheckResult]:
    """Run every check; violations are in the results (a check that cannot run raises)."""
    return [run_check(con, check) for check in checks]


def quote_literal(text: str) -> str:
    """A SQL string literal for our own documentation texts (COMMENT ON takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _validated_name(path: Path) -> str:
    name = path.stem
    if not IDENTIFIER.fullmatch(name):
        raise ModelDefinitionError(
            f"{path}: file stem {name!r} is not a table name (lower-case letters, digits, _)"
        )
    return name


def _require_directory(sql_dir: Path) -> None:
    if not sql_dir.is_dir():
        raise ModelDefinitionError(f"{sql_dir} is not a directory of SQL models")


def _checked_identifier(name: str) -> str:
    if not IDENTIFIER.fullmatch(name):
        raise ModelDefinitionError(f"{name!r} is not a plain lower-case identifier")
    return name


def _strip_statement(sql: str) -> str:
    query = sql.strip()
    while query.endswith(";"):
        query = query[:-1].rstrip()
    return query


def _parse_header(sql: str, name: str, path: Path) -> tuple[str, dict[str, str]]:
    """The leading `--` lines: the table line, then one entry per column."""
    entries: list[list[str]] = []
    for line_no, raw in enumerate(sql.splitlines(), start=1):
        line = raw.rstrip()
        if not line.startswith("--"):
            break
        if entries and (continued := HEADER_CONTINUATION.match(line)):
            entries[-1][1] = f"{entries[-1][1]} {continued.group(1)}".strip()
        elif entry := HEADER_ENTRY.match(line):
            entries.append([entry.group(1), entry.group(2)])
        elif line.strip("- "):
            raise ModelDefinitionError(
                f"{path}:{line_no}: expected '-- <name>: <text>' in the header, got {line!r}"
            )
    if not entries or entries[0][0] != name:
        raise ModelDefinitionError(
            f"{path}:1: the file must start with '-- {name}: <what one row is>'"
        )
    title, *columns = entries
    if not title[1]:
        raise ModelDefinitionError(f"{path}:1: the header line for {name!r} has no text")
    comments: dict[str, str] = {}
    for column, text in columns:
        if column in comments:
            raise ModelDefinitionError(f"{path}: column {column!r} is documented twice")
        if not text:
            raise ModelDefinitionError(f"{path}: column {column!r} has an empty description")
        comments[column] = text
    return title[1], comments


def _referenced_tables(sql: str, path: Path) -> set[str]:
    """Main-schema tables the query reads, CTE references excluded (scope-aware), in lower
    case: DuckDB matches names whatever their case, quoted or not (`FROM Coauthor_Edge`
    reads the model `coauthor_edge`)."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except SqlglotError as error:
        raise ModelDefinitionError(f"{path}: cannot parse the SQL: {error}") from error
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ModelDefinitionError(f"{path}: a model must be exactly one query (select/with)")
    names: set[str] = set()
    for scope in traverse_scope(normalize_identifiers(statements[0], dialect="duckdb")):
        for table in scope.tables:
            if not isinstance(table.this, exp.Identifier) or table.db not in MAIN_SCHEMAS:
                continue
            if isinstance(scope.sources.get(table.alias_or_name), exp.Table):
                names.add(table.name)
    return names


def _topological_order(models: Mapping[str, Model]) -> list[str]:
    """Kahn's algorithm with a heap, so ties always resolve by name."""
    waiting, dependents = _dependency_graph(models)
    ready = [name for name, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for dependent in dependents[name]:
            waiting[dependent].discard(name)
            if not waiting[dependent]:
                heapq.heappush(ready, dependent)
    if len(order) < len(models):
        cycle = _find_cycle({name: sorted(deps) for name, deps in waiting.items() if deps})
        raise ModelDefinitionError(
            "dependency cycle between models (each reads the next): " + " -> ".join(cycle)
        )
    return order


def _dependency_graph(
    models: Mapping[str, Model],
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """For each model (by name): the models it reads, and the models that read it."""
    waiting = {name: {d for d in model.depends_on if d in models} for name, model in models.items()}
    dependents: dict[str, set[str]] = {name: set() for name in models}
    for name, dependencies in waiting.items():
        for dependency in dependencies:
            dependents[dependency].add(name)
    return waiting, dependents


def _find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """One cycle among the models left unordered, as a closed path (first == last)."""
    start = min(graph)
    path = [start]
    seen = {start: 0}
    while True:
        following = next(dep for dep in graph[path[-1]] if dep in graph)
        if following in seen:
            return [*path[seen[following] :], following]
        seen[following] = len(path)
        path.append(following)


def _require_documented(model: Model, columns: Sequence[str]) -> None:
    undocumented = [column for column in columns if column not in model.column_comments]
    stale = sorted(set(model.column_comments) - set(columns))
    problems = []
    if undocumented:
        problems.append("undocumented column(s): " + ", ".join(undocumented))
    if stale:
        problems.append("documented column(s) the query does not return: " + ", ".join(stale))
    if problems:
        raise ModelDefinitionError(
            f"model {model.name!r} ({model.path}): "
            + "; ".join(problems)
            + " (document each as '-- <column>: <text>' at the top of the file)"
        )
