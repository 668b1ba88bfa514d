"""A BI tool holding the published warehouse open in another process, while a run publishes.

The reader is a real separate process: Python with DuckDB, the file opened read-only as the
README tells BI tools to, querying several tables one statement at a time in a loop. The run
must neither fail nor wait for it; the reader must see the old build, whole, until it
reconnects; a new connection must see the new build.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

import duckdb
import pytest

from tests.conftest import SAMPLE
from tests.flow_helpers import ingest
from tests.reliability.pages import page

pytestmark = pytest.mark.usefixtures("prefect_harness")

# Several tables, one statement each: a reader that saw a mix of builds would show it here.
# What a dashboard reads, one statement at a time: rows of the core tables and which build.
SNAPSHOT: Final = (
    "select count(*) from paper",
    "select count(*) from author",
    "select count(*) from authorship",
    "select count(*) from ingest_file",
    "select count(*) from author_metrics",
    "select input_fingerprint from warehouse_info",
)
READER: Final = r"""
import json, sys, threading, time
import duckdb

path = sys.argv[1]
statements = json.loads(sys.argv[2])

def snapshot(con):
    return [con.execute(statement).fetchall()[0][0] for statement in statements]

con = duckdb.connect(path, read_only=True)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
print(json.dumps({"ready": snapshot(con)}), flush=True)
seen, queries, slowest = set(), 0, 0.0
while not stop.is_set():
    started = time.perf_counter()
    seen.add(tuple(snapshot(con)))
    slowest = max(slowest, time.perf_counter() - started)
    queries += 1
    time.sleep(0.005)
report = {"seen": sorted(list(s) for s in seen), "queries": queries, "slowest": slowest}
# A second connection while the first is still open (a pool growing), then a reconnect.
second = duckdb.connect(path, read_only=True)
report["second_while_open"] = snapshot(second)
second.close()
con.close()
con = duckdb.connect(path, read_only=True)
report["after_reconnect"] = snapshot(con)
con.close()
print(json.dumps(report), flush=True)
"""


def _snapshot(warehouse: Path) -> list[object]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [con.execute(statement).fetchall()[0][0] for statement in SNAPSHOT]


def test_a_reader_in_another_process_never_holds_up_a_run_and_keeps_its_whole_build(
    published: Path, tmp_path: Path
):
    raw = tmp_path / "raw"
    (raw / SAMPLE.parent.name).mkdir(parents=True)
    (raw / SAMPLE.parent.name / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    for folder, index in (("2026-11-25", 1), ("2026-11-26", 2), ("2026-11-26", 3)):
        (raw / folder).mkdir(parents=True, exist_ok=True)
        (raw / folder / f"page{index}.txt").write_text(page(index), encoding="utf-8")
    old = _snapshot(published)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published), json.dumps(SNAPSHOT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        ready = json.loads(reader.stdout.readline())
        assert ready == {"ready": old}

        started = time.perf_counter()
        summary = ingest(raw, published)
        seconds = time.perf_counter() - started
        assert summary.published and reader.poll() is None, "the reader must still hold the file"
        assert summary.seconds["publish"] < 5.0, summary.seconds
        new = _snapshot(published)  # a new connection, from another process than the reader
        assert new[0] > old[0] and new[5] != old[5]

        time.sleep(0.2)  # the reader keeps querying the build it opened
        reader.stdin.write("stop\n")
        reader.stdin.flush()
        report = json.loads(reader.stdout.readline())
        assert reader.wait(timeout=60) == 0, reader.stderr.read() if reader.stderr else ""
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()

    assert report["seen"] == [old], "the reader saw another build than the one it opened"
    assert report["queries"] >= 10, report
    assert report["after_reconnect"] == new
    # A second connection opened while the first is still open joins the same open database
    # (DuckDB shares one instance per file in a process): old or new, but never a mix.
    assert report["second_while_open"] in (old, new)
    second = "the old build" if report["second_while_open"] == old else "the new build"
    print(
        f"run took {seconds:.1f}s while the reader ran {report['queries']} snapshots "
        f"(slowest {report['slowest']:.3f}s); a second pooled connection saw {second}"
    )
