"""SQL safety: no value reaches SQL text by string formatting, and `scholarhouse sql` is locked.

The first half reads the source of `flows/` (ast): every call that runs SQL must get either a
plain string or one whose interpolated parts are calls of the vetted helpers. The second half
runs `scholarhouse sql` in-process against a real published warehouse and tries to read other
files, write files, attach databases, load extensions, lift the lock or write to the warehouse.
"""

from __future__ import annotations

import ast
import hashlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

from flows import cli
from tests.conftest import REPO

FLOWS: Final = REPO / "flows"
SQL_CALLS: Final = frozenset(
    {"execute", "executemany", "sql", "query", "query_df", "from_query", "query_frame"}
)
VETTED: Final = frozenset(
    {"identifier", "_checked_identifier", "sql_literal", "quote_literal", "quote_identifier"}
)
# (file, function, interpolated expression) → why it is not a value.
EXEMPT: Final = {
    ("flows/models.py", "run_model", "query"): (
        "the body of a model: SQL text of the repository's sql/ folder (code, not data), "
        "wrapped as `create or replace table <checked name> as <query>`"
    ),
    ("flows/models.py", "run_model_changes", "query"): (
        "the body of a model, as in run_model, wrapped as `insert into <quoted database>."
        "main.<checked name> <query>`"
    ),
    ("flows/warehouse.py", "_create_with_zstd", "definitions"): (
        "the columns of a table just made from a frame: each name checked by `identifier`, "
        "each type as DuckDB itself names it and matched against `_PLAIN_TYPE`"
    ),
}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    function: str
    interpolated: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}(): interpolates {self.interpolated}"


class _Scope:
    """Assignments to plain names inside one function (or a module's top level)."""

    def __init__(self, node: ast.AST) -> None:
        self.assigned: dict[str, list[ast.expr]] = {}
        for child in _walk_own(node):
            if isinstance(child, ast.Assign):
                for target in child.targets:
                    if isinstance(target, ast.Name):
                        self.assigned.setdefault(target.id, []).append(child.value)
            elif (
                isinstance(child, ast.AnnAssign | ast.AugAssign)
                and child.value is not None
                and isinstance(child.target, ast.Name)
            ):
                value = child.value
                if isinstance(child, ast.AugAssign):
                    value = ast.BinOp(left=child.target, op=child.op, right=child.value)
                self.assigned.setdefault(child.target.id, []).append(value)


def _walk_own(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function body, not of the functions defined inside it."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        yield child
        yield from _walk_own(child)


def _is_vetted_call(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    return name in VETTED


def _is_formatting(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.JoinedStr)
        or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod))
        or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
        )
    )


def _interpolated_ok(node: ast.expr, scope: _Scope, seen: frozenset[str]) -> bool:
    """An interpolated part is safe: a vetted call, a literal, or a local bound only to those."""
    if isinstance(node, ast.Constant) or _is_vetted_call(node):
        return True
    if isinstance(node, ast.Name) and node.id not in seen and node.id in scope.assigned:
        return all(
            _interpolated_ok(value, scope, seen | {node.id}) and not _bad_parts(value, scope, seen)
            for value in scope.assigned[node.id]
        )
    if _is_formatting(node):
        return not _bad_parts(node, scope, seen)
    return False


def _bad_parts(node: ast.expr, scope: _Scope, seen: frozenset[str] = frozenset()) -> list[ast.expr]:
    """The interpolated parts of a formatted SQL string that are not known to be safe."""
    if isinstance(node, ast.JoinedStr):
        parts = [value.value for value in node.values if isinstance(value, ast.FormattedValue)]
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        parts = [node.left, node.right]
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        right = node.right
        parts = list(right.elts) if isinstance(right, ast.Tuple) else [right]
        if not isinstance(node.left, ast.Constant):
            parts.append(node.left)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        parts = [*node.args, *(keyword.value for keyword in node.keywords)]
        if not isinstance(node.func.value, ast.Constant):
            parts.append(node.func.value)
    else:
        return []
    return [part for part in parts if not _interpolated_ok(part, scope, seen)]


def _sql_arguments(call: ast.Call) -> list[ast.expr]:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    if name not in SQL_CALLS:
        return []
    arguments = list(call.args)
    if name == "query_frame":
        arguments = arguments[1:2]
    return arguments + [k.value for k in call.keywords if k.arg in ("query", "sql")]


def scan(source: str, path: str) -> list[Finding]:
    """Every SQL call in the source that gets a formatted string with an unvetted part."""
    tree = ast.parse(source)
    findings: list[Finding] = []
    units: list[tuple[str, ast.AST]] = [("<module>", tree)]
    units += [
        (node.name, node)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    for name, unit in units:
        scope = _Scope(unit)
        for call in (node for node in _walk_own(unit) if isinstance(node, ast.Call)):
            for argument in _sql_arguments(call):
                candidates = [argument]
                if isinstance(argument, ast.Name):
                    candidates = scope.assigned.get(argument.id, [])
                for candidate in candidates:
                    if not _is_formatting(candidate):
                        continue
                    for part in _bad_parts(candidate, scope):
                        findings.append(Finding(path, call.lineno, name, ast.unparse(part)))
    return findings


def scan_flows() -> list[Finding]:
    findings = []
    for path in sorted(FLOWS.rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        findings += scan(path.read_text(encoding="utf-8"), relative)
    return findings


@pytest.mark.parametrize(
    "snippet",
    [
        'con.execute(f"select * from {table}")',
        'con.execute("select * from " + table)',
        'con.execute("select * from %s" % table)',
        'con.execute("select * from %s where x = %s" % (identifier(t), value))',
        'con.sql("select * from {}".format(table))',
        "def f(con, name):\n    query = f'select * from {name}'\n    con.execute(query)",
        "def f(con, name):\n    query = 'select * from '\n    query += name\n    con.sql(query)",
        "con.execute(f\"comment on table {identifier(t)} is '{text}'\")",
        'query_frame(con, f"select {column} from paper")',
        "def f(con, t):\n    name = t.strip()\n    con.execute(f'drop table {name}')",
    ],
)
def test_the_scanner_finds_sql_built_by_formatting_around_values(snippet: str):
    assert scan(snippet, "snippet.py"), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        'con.execute("select 1")',
        'con.execute("select * from paper where title = ?", [title])',
        'con.execute(f"select * from {identifier(name)}")',
        "def f(con, t):\n    name = _checked_identifier(t)\n    con.execute(f'drop table {name}')",
        'con.execute(f"comment on table x is {sql_literal(text)}")',
        'con.execute(f"select * from {quote_identifier(database)}.main.paper")',
        'con.execute("select " + "1")',
        "def f(con, query):\n    return con.sql(query)",
    ],
)
def test_the_scanner_lets_vetted_helpers_and_parameters_through(snippet: str):
    assert scan(snippet, "snippet.py") == []


def test_no_sql_call_in_flows_interpolates_anything_but_vetted_helpers():
    findings = scan_flows()
    unexpected = [str(f) for f in findings if (f.path, f.function, f.interpolated) not in EXEMPT]
    assert unexpected == []
    used = {(f.path, f.function, f.interpolated) for f in findings}
    assert set(EXEMPT) <= used, f"stale exemptions: {set(EXEMPT) - used}"


def test_ruff_flags_no_sql_built_from_strings_in_flows():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "S608", "--no-cache", "flows"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _fingerprint(warehouse: Path) -> tuple[str, int, int, list[str]]:
    folder = sorted(p.name for p in warehouse.parent.iterdir())
    info = warehouse.stat()
    return hashlib.sha256(warehouse.read_bytes()).hexdigest(), info.st_mtime_ns, info.st_ino, folder


def _sql(capsys: pytest.CaptureFixture[str], warehouse: Path, query: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(["sql", query, "--warehouse", str(warehouse), "--format", "csv"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_locked_sql_command_still_answers_ordinary_queries(
    published: Path, capsys: pytest.CaptureFixture[str]
):
    code, out, err = _sql(capsys, published, "select count(*) as n from paper")
    assert (code, out, err) == (0, "n\n22\n", "")


PERMISSION: Final = "Permission Error"
LOCKED: Final = "the configuration has been locked"
READ_ONLY: Final = "read-only mode"
ATTEMPTS: Final = [
    ("read_csv", "select * from read_csv('/etc/passwd')", PERMISSION),
    ("read_text", "select * from read_text('/etc/passwd')", PERMISSION),
    ("read_blob", "select * from read_blob('/etc/passwd')", PERMISSION),
    ("glob", "select * from glob('/etc/*')", PERMISSION),
    ("read_parquet", "select * from read_parquet('/etc/*.parquet')", PERMISSION),
    ("replacement_scan", "select * from '/etc/passwd'", "does not exist"),
    ("copy_to", "copy paper to '{out}/paper.csv'", PERMISSION),
    (
        "copy_query_to",
        "copy (select * from author) to '{out}/a.parquet' (format parquet)",
        PERMISSION,
    ),
    ("copy_from", "copy paper from '/etc/passwd'", PERMISSION),
    ("export_database", "export database '{out}/export'", PERMISSION),
    ("import_database", "import database '{out}'", PERMISSION),
    ("attach_file", "attach '{out}/other.duckdb' as other", PERMISSION),
    ("attach_memory", "attach ':memory:' as scratch", READ_ONLY),
    ("install_extension", "install httpfs", PERMISSION),
    ("load_extension", "load httpfs", "disabled"),
    ("load_extension_file", "load '{out}/evil.duckdb_extension'", "disabled"),
    ("create_secret", "create secret (type s3, key_id 'k', secret 's')", PERMISSION),
    ("set_external_access", "set enable_external_access = true", LOCKED),
    ("reset_external_access", "reset enable_external_access", LOCKED),
    ("unlock_configuration", "set lock_configuration = false", LOCKED),
    ("reset_lock", "reset lock_configuration", LOCKED),
    ("allow_directories", "set allowed_directories = ['/']", LOCKED),
    ("temp_directory", "set temp_directory = '{out}/spill'", LOCKED),
    ("create_table", "create table stolen as select * from paper", READ_ONLY),
    ("create_view", "create view v as select 1", READ_ONLY),
    ("insert", "insert into paper (paper_id) values ('P0')", READ_ONLY),
    ("update", "update paper set title = 'x'", READ_ONLY),
    ("delete", "delete from paper", READ_ONLY),
    ("drop", "drop table paper", READ_ONLY),
    ("alter", "alter table paper add column x int", READ_ONLY),
    ("second_statement_copy", "select 1; copy paper to '{out}/smuggled.csv'", PERMISSION),
    ("second_statement_drop", "select 1; drop table paper", READ_ONLY),
    (
        "second_statement_unlock",
        "select 1; set enable_external_access = true; select * from read_csv('/etc/passwd')",
        LOCKED,
    ),
]


@pytest.mark.parametrize(("name", "query", "expected"), ATTEMPTS, ids=[a[0] for a in ATTEMPTS])
def test_the_sql_command_refuses_to_escape_the_warehouse_or_change_it(
    published: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    query: str,
    expected: str,
):
    out = tmp_path / "out"
    out.mkdir()
    before = _fingerprint(published)
    code, stdout, stderr = _sql(capsys, published, query.format(out=out))
    assert code == cli.EXIT_ERROR
    assert stderr.startswith("scholarhouse sql: ") and stderr.count("\n") == 1, stderr
    assert expected in stderr
    assert "root:" not in stdout
    assert list(out.iterdir()) == []
    assert _fingerprint(published) == before
    code, stdout, _ = _sql(capsys, published, "select count(*) as n from paper")
    assert (code, stdout) == (0, "n\n22\n")
