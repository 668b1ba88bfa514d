"""SIGKILL of real `scholarhouse ingest` runs at random moments of every stage.

The runs are real processes: `flows.cli.main` in a process of its own, forked from a launcher
that imported Prefect once (`launcher.py`), talking to this session's Prefect API. Each kill
waits until the run has reached the stage it aims at (the run's own task log says so), then a
random time more, then SIGKILLs the run's whole process group. After every kill the published
warehouse must open and answer, the lock must be free, and a run killed before publishing must
have left the published warehouse exactly as it was. At the end one uninterrupted
`python -m flows.cli ingest` must converge to what a clean build of the same raw files gives.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import duckdb
import pytest
from polars.testing import assert_frame_equal

from flows import models
from flows.cache import State
from flows.ingest import sql_dir
from tests.conftest import REPO, SAMPLE
from tests.flow_helpers import CORE_TABLES, ingest, ingest_ledger, read_tables
from tests.reliability.conftest import child_env
from tests.reliability.pages import page, write_pages

pytestmark = pytest.mark.usefixtures("prefect_harness")

N_PAGES: Final = 150
MIN_KILLS: Final = 10
MAX_CYCLES: Final = 16
RUN_TIMEOUT_S: Final = 240.0
_FINISHED: Final = re.compile(r"Task run '(?P<name>[^']+)' - Finished in state Completed")
# Stages in run order; a kill is labelled by the last task the run reported finished.
STAGES: Final = (
    "starting", "reading", "normalising", "loading", "building models", "checking",
    "publishing", "after publish",
)  # fmt: skip
BEFORE_PUBLISH: Final = frozenset(STAGES[:6])


@dataclass(frozen=True)
class Target:
    """A stage to kill in: wait for task `after` to finish, then up to `window` seconds more."""

    stage: str
    after: str
    window: str | float  # a stage of the run summary's timings, or seconds
    rebuild: bool = False


def targets(last_model: str) -> tuple[Target, ...]:
    """One target per stage; models run one after the other, checks after the last one."""
    return (
        Target("reading", "plan_reads", "read", rebuild=True),
        Target("normalising", "build_ledger", "normalise"),
        Target("loading", "normalise_tables", "load"),
        Target("building models", "load_tables", "models"),
        Target("checking", f"model-{last_model}", "checks"),
        Target("publishing", "run_checks", 0.35),
    )


def stage_of(log: str, n_models: int) -> str:
    """The stage a run was in, from the tasks its log reports finished."""
    done = [match["name"] for match in _FINISHED.finditer(log)]
    names = {name.rsplit("-", 1)[0] if not name.startswith("model-") else "model" for name in done}
    if "publish_build" in names:
        return "after publish"
    if "run_checks" in names:
        return "publishing"
    n_built = sum(name.startswith("model-") for name in done)
    if n_built >= n_models:
        return "checking"
    if "load_tables" in names:
        return "building models"
    if "normalise_tables" in names:
        return "loading"
    if "build_ledger" in names:
        return "normalising"
    if "discover_files" in names:
        return "reading"
    return "starting"


class Launcher:
    """The launcher process (see launcher.py): forks one `scholarhouse` run per request."""

    def __init__(self, env: dict[str, str]) -> None:
        self.running: set[int] = set()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.launcher"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _ask(self, request: dict[str, Any] | None = None) -> dict[str, Any]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        if request is not None:
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
        line = stdout.readline()
        assert line, "the launcher died"
        return json.loads(line)

    def ready(self) -> None:
        assert "ready" in self._ask()

    def run(self, argv: list[str], out: Path, err: Path) -> int:
        out.touch()
        err.touch()
        request = {"op": "run", "argv": argv, "stdout": str(out), "stderr": str(err)}
        pid = int(self._ask(request)["pid"])
        self.running.add(pid)
        return pid

    def poll(self, pid: int) -> int | None:
        return self._ask({"op": "poll", "pid": pid})["returncode"]

    def wait(self, pid: int) -> int:
        code = self._ask({"op": "wait", "pid": pid})["returncode"]
        self.running.discard(pid)
        return code

    def close(self) -> None:
        for pid in self.running:  # runs of a failed test: their process groups, by id
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        stdin: IO[str] | None = self.process.stdin
        if stdin is not None:
            stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(frozen=True)
class Published:
    """What the published warehouse holds: its inode and the inputs of its build."""

    inode: int
    input_fingerprint: str
    rows: dict[str, int]


def published_state(warehouse: Path) -> Published | None:
    """Open the published warehouse read-only and make every core table answer."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = {
            table: con.execute(f"select count(*) from {table}").fetchall()[0][0]
            for table in (*CORE_TABLES, "ingest_file")
        }
        ((fingerprint,),) = con.execute("select input_fingerprint from warehouse_info").fetchall()
    return Published(warehouse.stat().st_ino, fingerprint, rows)


def lock_is_free(state: State) -> bool:
    lock = state.root / "lock"
    if not lock.exists():
        return True
    with lock.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def stage_seconds(summary: str) -> dict[str, float]:
    """The `| stage | seconds |` table of a run summary."""
    seconds = {}
    for line in summary.splitlines():
        match = re.fullmatch(r"\| ([a-z]+) \| ([0-9.]+) \|", line.strip())
        if match:
            seconds[match[1]] = float(match[2])
    return seconds


def change_landing_zone(raw: Path, cycle: int, rng: random.Random) -> str:
    """New pages every cycle; now and then a file rewritten in place or removed."""
    first = N_PAGES + 4 * cycle
    write_pages(raw, range(first, first + 4), folder="2026-11-26")
    done = f"added pages {first}..{first + 3}"
    existing = sorted((raw / "2026-11-25").glob("*.txt"))
    if cycle % 3 == 1:
        victim = rng.choice(existing)
        index = int(victim.name.split("_", 1)[0])
        victim.write_text(page(index, version=1 + cycle), encoding="utf-8")
        done += f", rewrote {victim.name}"
    if cycle % 4 == 2:
        victim = rng.choice(existing)
        victim.unlink()
        done += f", removed {victim.name}"
    return done


def _wait_for(pid: int, launcher: Launcher, err: Path, after: str) -> bool:
    """Wait until the run's log shows task `after` finished; False if the run ended first."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(match["name"].startswith(after) for match in _FINISHED.finditer(err.read_text())):
            return True
        if launcher.poll(pid) is not None:
            return False
        time.sleep(0.02)
    raise AssertionError(f"run {pid} did not reach {after!r} in {RUN_TIMEOUT_S:.0f}s")


def test_sigkill_at_random_moments_never_breaks_the_warehouse_and_runs_converge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    rng = random.Random(20261126)
    raw, warehouse, logs = tmp_path / "raw", tmp_path / "wh" / "scholar.duckdb", tmp_path / "logs"
    logs.mkdir()
    env = child_env(tmp_path / "prefect-home", PREFECT_LOGGING_LEVEL="INFO")
    launcher = Launcher(env)
    try:
        write_pages(raw, range(N_PAGES))
        (raw / SAMPLE.parent.name / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
        state = State.for_warehouse(warehouse)
        in_order = models.discover_models(sql_dir())
        n_models, aims = len(in_order), targets(in_order[-1].name)
        argv = ["ingest", "--raw", str(raw), "--warehouse", str(warehouse), "--workers", "1"]
        argv += ["--batch-files", "40"]
        launcher.ready()

        # A first run killed while reading, before anything was ever published.
        pid = launcher.run(argv, logs / "0.out", logs / "0.err")
        assert _wait_for(pid, launcher, logs / "0.err", "plan_reads")
        time.sleep(rng.uniform(0.0, 0.5))
        os.killpg(pid, signal.SIGKILL)
        assert launcher.wait(pid) == -signal.SIGKILL
        first_stage = stage_of((logs / "0.err").read_text(), n_models)
        assert first_stage in BEFORE_PUBLISH and not warehouse.exists()
        kills: list[tuple[int, str, str]] = [(0, first_stage, "nothing published yet")]

        # One whole run: the stage timings that aim the kills.
        pid = launcher.run(argv, logs / "1.out", logs / "1.err")
        assert launcher.wait(pid) == 0, (logs / "1.err").read_text()[-3000:]
        timings = stage_seconds((logs / "1.out").read_text())
        assert {"read", "normalise", "load", "models", "publish"} <= timings.keys(), timings

        completed, cycle = 1, 0
        while len(kills) < MIN_KILLS + 1 and cycle < MAX_CYCLES:
            cycle += 1
            target = aims[(cycle - 1) % len(aims)]
            changed = change_landing_zone(raw, cycle, rng)
            before = published_state(warehouse)
            out, err = logs / f"{cycle + 1}.out", logs / f"{cycle + 1}.err"
            # Rebuilds read everything, across two processes (the local process pool).
            extra = ["--rebuild", "--workers", "2"] if target.rebuild else []
            pid = launcher.run([*argv, *extra], out, err)
            reached = _wait_for(pid, launcher, err, target.after)
            window = (
                target.window
                if isinstance(target.window, float)
                else timings.get(target.window, 1.0)
            )
            if reached:
                time.sleep(rng.uniform(0.0, window))
                os.killpg(pid, signal.SIGKILL)
            code = launcher.wait(pid)
            stage = stage_of(err.read_text(), n_models)
            if code != -signal.SIGKILL:
                assert code == 0, f"run {cycle} failed ({changed}):\n{err.read_text()[-3000:]}"
                completed += 1
                continue
            kills.append((cycle, stage, changed))
            after = published_state(warehouse)  # opens and answers, or raises
            assert after is not None
            if stage in BEFORE_PUBLISH:
                assert before is not None
                assert after == before, f"killed while {stage}, the published warehouse changed"
            assert lock_is_free(state), f"the lock is still held after a kill while {stage}"

        stages = Counter(stage for _, stage, _ in kills)
        with capsys.disabled():
            report_kills(kills, completed, stages, tmp_path)
        assert len(kills) >= MIN_KILLS
        assert len({s for s in stages if s in BEFORE_PUBLISH and s != "starting"}) >= 4, stages
        assert stages["publishing"] + stages["after publish"] >= 1, stages
    finally:
        launcher.close()

    # One uninterrupted run of the real command converges.
    final = subprocess.run(
        [sys.executable, "-m", "flows.cli", *argv],
        cwd=REPO,
        env=child_env(tmp_path / "prefect-home"),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    assert final.returncode == 0, final.stderr[-3000:]
    assert not list(state.root.rglob("*.tmp-*")), "temporary files left behind"
    assert not list(state.build_dir.glob("*")), "builds left behind"
    assert not Path(f"{warehouse}.wal").exists()

    reference = tmp_path / "reference" / "scholar.duckdb"
    ingest(raw, reference)
    converged, clean = read_tables(warehouse), read_tables(reference)
    for table in CORE_TABLES:
        assert_frame_equal(converged[table], clean[table], check_row_order=True)
    assert_frame_equal(ingest_ledger(warehouse), ingest_ledger(reference))
    assert ingest_ledger(warehouse).height == sum(1 for p in raw.rglob("*") if p.is_file())

    again = ingest(raw, warehouse)
    assert not again.changed and again.n_files_read == 0


def report_kills(
    kills: list[tuple[int, str, str]], completed: int, stages: Counter[str], tmp_path: Path
) -> None:
    lines = [
        f"kills survived: {len(kills)}; uninterrupted runs (the timing run included): {completed}",
        "kills by stage: " + ", ".join(f"{s}={stages[s]}" for s in STAGES if stages[s]),
        *(f"  run {cycle}: killed while {stage} ({what})" for cycle, stage, what in kills),
    ]
    text = "\n".join(lines)
    (tmp_path / "kills.txt").write_text(text + "\n", encoding="utf-8")
    print("\n" + text, flush=True)


def test_a_rebuild_killed_after_forgetting_the_cache_costs_one_rehash_not_every_run(
    raw_dir: Path, warehouse: Path
):
    # `--rebuild` forgets the cache first; killed right then, the next run finds the landing
    # zone unchanged (nothing to build) but has to hash every file again, once.
    ingest(raw_dir, warehouse)
    State.for_warehouse(warehouse).reset()
    first = ingest(raw_dir, warehouse)
    assert not first.changed and first.n_files_read == 1
    second = ingest(raw_dir, warehouse)
    assert not second.changed and second.n_files_read == 0


def test_a_cache_half_deleted_by_a_killed_rebuild_is_parsed_again_not_loaded_empty(
    raw_dir: Path, warehouse: Path
):
    # `--rebuild` removes the cache folder by folder; a kill in between leaves batches listed
    # in `parsed_file` whose papers are gone. They must be read again, not built as empty.
    ingest(raw_dir, warehouse)
    state = State.for_warehouse(warehouse)
    for table in ("paper", "mention"):
        for batch in (state.parsed / table).glob("*.parquet"):
            batch.unlink()
    (raw_dir / "2026-11-25" / "more.txt").write_text(page(7), encoding="utf-8")
    summary = ingest(raw_dir, warehouse)
    assert summary.published
    with duckdb.connect(str(warehouse), read_only=True) as con:
        sample_papers = con.execute(
            "select count(*) from profile_paper join profile_snapshot using (snapshot_id) "
            "where path = ?",
            [f"{SAMPLE.parent.name}/{SAMPLE.name}"],
        ).fetchall()
        mentions = con.execute("select count(*) from authorship where not is_inferred").fetchall()
    assert sample_papers == [(22,)]
    assert mentions[0][0] > 0
