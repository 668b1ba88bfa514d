"""Expected failures of `scholarhouse` end in one line on stderr and a documented exit code.

Exit codes (README): 0 the run completed, 1 a data check failed, 3 the run broke; 2 for a
command line argparse rejects. A failed fetch, a missing folder, a held lock, a failing check
or a bad query each print one `scholarhouse <command>: ...` line and nothing else on stderr
(no traceback), and leave the published warehouse as it was.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from flows import cli, fetch
from flows.cache import State
from tests.flow_helpers import use_sql_with

pytestmark = pytest.mark.usefixtures("prefect_harness")


class _NotFound(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = (
            b"<html>\n<head><title>404</title></head>\n<body>\nNo such author\n</body>\n</html>\n"
        )
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def api_answering_404(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local HTTP server standing in for OpenAlex, answering every request with a 404 page."""
    server = HTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(fetch, "OPENALEX_BASE_URL", url)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def _console_handlers() -> list[Any]:
    """Prefect's console handlers: what they print goes to the real command's stderr."""
    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [logging.getLogger()]
    loggers += [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    found = {
        id(h): h for lg in loggers for h in lg.handlers if isinstance(h, PrefectConsoleHandler)
    }
    return list(found.values())


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command in-process; stderr is what it prints plus what Prefect's console
    handlers print (they keep the stream they were made with, out of capsys' reach)."""
    capsys.readouterr()
    console = io.StringIO()
    handlers = _console_handlers()
    assert handlers, "no Prefect console handler: the check below would prove nothing"
    previous = [handler.console.file for handler in handlers]
    for handler in handlers:
        handler.console.file = console
    try:
        code = cli.main(list(argv))
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.console.file = stream
    captured = capsys.readouterr()
    return code, captured.out, console.getvalue() + captured.err


def _one_line(err: str, command: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith(f"scholarhouse {command}: "), lines[0]
    return lines[0]


def _digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_ino


def test_a_failed_fetch_prints_one_line_exits_3_and_writes_nothing(
    api_answering_404: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    raw = tmp_path / "raw"
    code, _, err = _run(capsys, "fetch", "openalex", "--author", "A123", "--raw", str(raw))
    assert code == cli.EXIT_ERROR
    line = _one_line(err, "fetch")
    assert "HTTP 404" in line and "No such author" in line
    assert not raw.exists() or not any(p.is_file() for p in raw.rglob("*"))


def test_a_malformed_author_id_is_refused_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code, _, err = _run(
        capsys, "fetch", "openalex", "--author", "not an id", "--raw", str(tmp_path / "raw")
    )
    assert code == cli.EXIT_ERROR
    _one_line(err, "fetch")


def test_a_missing_raw_folder_prints_one_line_and_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    warehouse = tmp_path / "w" / "scholar.duckdb"
    code, _, err = _run(
        capsys, "ingest", "--raw", str(tmp_path / "nowhere"), "--warehouse", str(warehouse)
    )
    assert code == cli.EXIT_ERROR
    assert "does not exist" in _one_line(err, "ingest")
    assert not warehouse.exists()


def test_a_second_ingest_while_one_holds_the_lock_prints_one_line_and_exits_3(
    raw_dir: Path, published: Path, capsys: pytest.CaptureFixture[str]
):
    before = _digest(published)
    state = State.for_warehouse(published)
    state.root.mkdir(parents=True)
    with (state.root / "lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, _, err = _run(
            capsys, "ingest", "--raw", str(raw_dir), "--warehouse", str(published), "--workers", "1"
        )
    assert code == cli.EXIT_ERROR
    assert "another ingest is running" in _one_line(err, "ingest")
    assert _digest(published) == before


def test_a_failing_data_check_prints_one_line_exits_1_and_keeps_the_warehouse(
    raw_dir: Path,
    published: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    before = _digest(published)
    use_sql_with(
        tmp_path,
        monkeypatch,
        "checks/no_paper_mentions_spiking.sql",
        "-- no_paper_mentions_spiking: a paper whose title mentions spiking networks\n"
        "select paper_id, title from paper where title ilike '%spiking%'\n",
    )
    code, _, err = _run(
        capsys, "ingest", "--raw", str(raw_dir), "--warehouse", str(published), "--workers", "1"
    )
    assert code == cli.EXIT_CHECK_FAILED
    assert "no_paper_mentions_spiking" in _one_line(err, "ingest")
    assert _digest(published) == before


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("selec 1", "syntax error"),
        ("select * from no_such_table", "does not exist"),
        ("select 1/0::int, 'x'::int", "Conversion Error"),
    ],
)
def test_a_bad_query_prints_one_line_and_exits_3(
    published: Path, capsys: pytest.CaptureFixture[str], query: str, fragment: str
):
    code, _, err = _run(capsys, "sql", query, "--warehouse", str(published))
    assert code == cli.EXIT_ERROR
    assert fragment in _one_line(err, "sql")


def test_a_query_on_a_missing_warehouse_prints_one_line_and_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    missing = tmp_path / "none.duckdb"
    code, _, err = _run(capsys, "sql", "select 1", "--warehouse", str(missing))
    assert code == cli.EXIT_ERROR
    assert "run `scholarhouse ingest` first" in _one_line(err, "sql")
    assert not missing.exists()


def test_a_command_line_argparse_rejects_exits_2(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["ingest", "--workers", "many"])
    assert exit_.value.code == 2
    assert cli.main([]) == 2


def test_an_empty_landing_zone_is_a_completed_run_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "raw").mkdir()
    warehouse = tmp_path / "w" / "scholar.duckdb"
    argv = ["ingest", "--raw", str(tmp_path / "raw"), "--warehouse", str(warehouse)]
    code, out, err = _run(capsys, *argv, "--workers", "1")
    assert (code, err) == (0, ""), err
    assert "| paper | 0 |" in out
    code, out, err = _run(capsys, *argv, "--workers", "1")
    assert (code, err) == (0, "") and "nothing to do" in out
