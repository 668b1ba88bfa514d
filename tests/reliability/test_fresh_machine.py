"""The Quickstart's first run on a fresh machine: no Prefect API, no Prefect home yet."""

from __future__ import annotations

import json
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


_LOGGING_PROBE = """
import json, logging
from prefect.logging.configuration import (
    DEFAULT_LOGGING_SETTINGS_PATH, load_logging_config, setup_logging,
)
from prefect.settings import PREFECT_LOGGING_SETTINGS_PATH

setup_logging()  # as the temporary server's app factory does

logging.getLogger("sqlalchemy.pool.impl.AsyncAdaptedQueuePool").error("pool reset cancelled")
logging.getLogger("sqlalchemy.engine.Engine").error("engine error")
logging.getLogger("flows.landing").warning("landing warning")
logging.getLogger("prefect.flow_runs").warning("flow run warning")
print(json.dumps([
    str(PREFECT_LOGGING_SETTINGS_PATH.value()),
    load_logging_config(PREFECT_LOGGING_SETTINGS_PATH.value()),
    load_logging_config(DEFAULT_LOGGING_SETTINGS_PATH),
]))
"""


def test_only_the_database_pools_messages_are_quieted_for_the_temporary_server(
    tmp_path: Path, monkeypatch
):
    """The config the command points Prefect at is Prefect's own plus one logger: in a new
    process (as the temporary server is) the pool's error is not shown and the others are."""
    from flows.cli import QUIET_POOL, _quiet_database_pool

    monkeypatch.delenv("PREFECT_LOGGING_SETTINGS_PATH", raising=False)
    home = tmp_path / "prefect"
    home.mkdir()
    _quiet_database_pool(home)
    chosen = os.environ["PREFECT_LOGGING_SETTINGS_PATH"]
    assert Path(chosen).parent == home

    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update({"PREFECT_HOME": str(home), "PREFECT_LOGGING_LEVEL": "WARNING"})
    done = subprocess.run(
        [sys.executable, "-c", _LOGGING_PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    used, config, default = json.loads(done.stdout)
    assert used == chosen
    assert config["loggers"].pop(QUIET_POOL) == {"level": "CRITICAL"}
    assert config == default
    assert "pool reset cancelled" not in done.stderr
    for shown in ("engine error", "landing warning", "flow run warning"):
        assert shown in done.stderr, done.stderr


def test_the_derived_logging_config_is_written_once_and_a_users_own_is_kept(
    tmp_path: Path, monkeypatch
):
    from flows.cli import _quiet_database_pool

    monkeypatch.delenv("PREFECT_LOGGING_SETTINGS_PATH", raising=False)
    home = tmp_path / "prefect"
    home.mkdir()
    _quiet_database_pool(home)
    derived = Path(os.environ["PREFECT_LOGGING_SETTINGS_PATH"])
    first = derived.stat()
    _quiet_database_pool(home)
    assert derived.stat().st_ino == first.st_ino  # up to date: not written again

    # A file left by another Prefect version (another first line) is derived again.
    derived.write_text("# an older Prefect's config\nversion: 1\n")
    _quiet_database_pool(home)
    assert "sqlalchemy.pool" in derived.read_text()
    assert [p.name for p in home.iterdir()] == [derived.name]  # no temporary file left

    # The user's own config, named by the setting or in the Prefect home, wins.
    monkeypatch.setenv("PREFECT_LOGGING_SETTINGS_PATH", str(tmp_path / "mine.yml"))
    _quiet_database_pool(home)
    assert os.environ["PREFECT_LOGGING_SETTINGS_PATH"] == str(tmp_path / "mine.yml")
    monkeypatch.delenv("PREFECT_LOGGING_SETTINGS_PATH")
    (home / "logging.yml").write_text("version: 1\n")
    _quiet_database_pool(home)
    assert "PREFECT_LOGGING_SETTINGS_PATH" not in os.environ
