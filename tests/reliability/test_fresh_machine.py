"""The Quickstart's first run on a fresh machine: no Prefect API, no Prefect home yet."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, SAMPLE


def test_ingest_on_a_fresh_machine_makes_its_own_prefect_home(tmp_path: Path):
    """No Prefect API configured and no ~/.scholarhouse yet: the command starts Prefect's
    temporary server in a home folder it creates, as the Quickstart's first run does."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREFECT_") or k == "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
    }
    env.update({"HOME": str(home), "PYTHONPATH": str(REPO)})
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE.parent, raw / SAMPLE.parent.name)
    warehouse = tmp_path / "wh" / "scholar.duckdb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "ingest",
            "--raw",
            str(raw),
            "--warehouse",
            str(warehouse),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| loaded | 1 |" in done.stdout
    # The objects a run freezes for the collector are unfrozen: at exit nothing is reported
    # as leaked by DuckDB's bindings. Nor does the temporary server, stopped at exit, print
    # the tracebacks of the task events it was still recording.
    assert "leaked" not in done.stderr, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert (home / ".scholarhouse" / "prefect").is_dir()
