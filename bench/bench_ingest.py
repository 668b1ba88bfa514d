"""Ingest benchmark: synthetic landing zones of N profiles against the naive read floor.

    python bench/bench_ingest.py --profiles 10000 100000 [--workdir DIR] [--repeat N] [--keep]

For each size it prints the naive floor (one plain Python process that only reads and
regex-splits the same files), a full ingest and its ratio to the floor, seconds per stage, a
no-change re-run (as `scholarhouse ingest` does it, and as a Prefect flow run), a run after 1%
new files, the warehouse and cache sizes, and peak memory beside the targets. Each ingest runs
in a fresh process, as `scholarhouse ingest` does, reporting to one Prefect API started here
(its start-up is not timed); its peak memory is of that process, its workers and the API
server, not of this one (which generates the files and keeps what earlier runs left). On a shared machine wall time varies: each run also shows its CPU seconds,
and `--repeat` runs the sequence again on the same files and shows medians. The generated
files are deleted at the end unless `--keep`. Figures, not assertions: a benchmark, not a
timed test.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import psutil

from flows.synth import naive_floor, write_synthetic_profiles


@dataclass
class Usage:
    """Peak resident memory and CPU seconds of this process's descendants (not itself).

    Sampled every 50 ms per process: pool workers are children of the forkserver, not of the
    run's process, so `RUSAGE_CHILDREN` would miss them; each process counts with its last
    sample. CPU counts from `begin()` (once the run's process has imported what it needs).
    """

    bytes: int = 0
    cpu_seconds: float = 0.0
    begin: Callable[[], None] = lambda: None


@contextmanager
def usage() -> Iterator[Usage]:
    measured = Usage()
    done = threading.Event()
    me = psutil.Process()
    start: dict[int, float] = {}
    last: dict[int, float] = {}

    def sample(first: bool = False) -> None:
        total = 0
        for process in me.children(recursive=True):
            try:
                with process.oneshot():
                    total += process.memory_info().rss
                    times = process.cpu_times()
            except psutil.Error:
                continue
            cpu = times.user + times.system
            if first:
                start[process.pid] = cpu
            last[process.pid] = cpu
        measured.bytes = max(measured.bytes, total)

    def loop() -> None:
        while not done.wait(0.05):
            sample()

    sample(first=True)
    measured.begin = lambda: sample(first=True)
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield measured
    finally:
        done.set()
        thread.join()
        sample()
        measured.cpu_seconds = sum(cpu - start.get(pid, 0.0) for pid, cpu in last.items())


@dataclass
class Run:
    """One timed ingest: wall seconds, its stages, CPU seconds and peak memory."""

    seconds: float
    stages: dict[str, float]
    usage: Usage
    normalised: str
    load: str
    models: str


def _timed_ingest(raw: Path, warehouse: Path, workers: int, always_flow_run: bool = False) -> Run:
    """One ingest in a fresh process; its wall seconds are timed there, around the run."""
    spawn = multiprocessing.get_context("spawn")
    receive, send = spawn.Pipe(duplex=False)
    child = spawn.Process(
        target=_ingest_in_child, args=(raw, warehouse, workers, always_flow_run, send)
    )
    with usage() as used:
        child.start()
        receive.recv()  # imports done: the run starts
        used.begin()
        seconds, stages, normalised, load, models = receive.recv()
        child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"the ingest process failed (exit code {child.exitcode})")
    return Run(seconds, stages, used, normalised, load, models)


def _ingest_in_child(
    raw: Path, warehouse: Path, workers: int, always_flow_run: bool, send: Connection
) -> None:
    from flows.runner import run_ingest

    send.send(None)
    try:
        started = time.perf_counter()
        summary = run_ingest(raw, warehouse, workers=workers, always_flow_run=always_flow_run)
        elapsed = time.perf_counter() - started
        send.send((elapsed, summary.seconds, summary.normalised, summary.load, summary.models))
    except BaseException:
        send.send((float("nan"), {}, "", "", ""))
        raise


def _model_build(run: Run) -> float:
    """The run's seconds in the SQL models and their checks."""
    return run.stages.get("models", 0.0) + run.stages.get("checks", 0.0)


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _series(values: list[float]) -> str:
    return " ".join(f"{value:.1f}" for value in values)


def bench(profiles: int, workdir: Path, workers: int, repeat: int, keep: bool) -> None:
    root = workdir / f"p{profiles}"
    shutil.rmtree(root, ignore_errors=True)
    raw, extra = root / "raw", root / "extra"
    made = write_synthetic_profiles(profiles, raw, seed=1)
    added = write_synthetic_profiles(max(1, profiles // 100), extra, seed=2)
    print(f"\n== {profiles:,} profiles: {made.n_files:,} files, {made.n_bytes / 1e6:,.0f} MB ==")
    os.sync()
    floors: list[float] = []
    fulls: list[Run] = []
    agains: list[Run] = []
    again_flows: list[Run] = []
    mores: list[Run] = []
    for _ in range(repeat):
        shutil.rmtree(raw / "new", ignore_errors=True)
        shutil.rmtree(root / "warehouse", ignore_errors=True)
        floors.append(naive_floor(raw).seconds)
        warehouse = root / "warehouse" / "scholar.duckdb"
        fulls.append(_timed_ingest(raw, warehouse, workers))
        agains.append(_timed_ingest(raw, warehouse, workers))
        again_flows.append(_timed_ingest(raw, warehouse, workers, always_flow_run=True))
        shutil.copytree(extra, raw / "new", dirs_exist_ok=True)
        mores.append(_timed_ingest(raw, warehouse, workers))
    floor = _median(floors)
    full = _median([run.seconds for run in fulls])
    again = _median([run.seconds for run in agains])
    again_flow = _median([run.seconds for run in again_flows])
    more = _median([run.seconds for run in mores])
    model_build = _median([_model_build(run) for run in mores])
    rows = [
        ("naive floor (read + regex split)", floor, "", "", floors),
        ("full ingest", full, f"{full / floor:.2f}x floor", "<= 3x floor", fulls),
        ("no-change re-run", again, f"{again / floor:.2f}x floor", "<= 0.2x floor", agains),
        (
            "  the same, as a Prefect flow run",
            again_flow,
            f"{again_flow / floor:.2f}x floor",
            "",
            again_flows,
        ),
        (
            f"+1% new files ({added.n_files:,})",
            more,
            f"{(more - model_build) / full:.3f}x full + models {model_build:.1f}s",
            "<= 0.1x full + model build",
            mores,
        ),
    ]
    print(f"median of {repeat} run(s); cpu = CPU seconds of the run's processes")
    print(f"{'run':36} {'seconds':>8} {'cpu':>7}  {'measured':32} {'target':28} all runs (s)")
    for name, seconds, measured, target, runs in rows:
        walls = [run if isinstance(run, float) else run.seconds for run in runs]
        cpus = [run.usage.cpu_seconds for run in runs if isinstance(run, Run)]
        cpu = f"{_median(cpus):7.1f}" if cpus else " " * 7
        print(f"{name:36} {seconds:8.2f} {cpu}  {measured:32} {target:28} {_series(walls)}")
    for label, runs in (("full ingest", fulls), ("+1% new files", mores)):
        for run in runs:
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in run.stages.items())
            # Outside every stage: the flow run's start and end, between stages.
            other = run.seconds - sum(run.stages.values())
            print(f"stages of the {label}: {stages}; outside them {other:.1f}s")
    for run in mores:
        models = f"; models: {run.models}" if run.models else ""
        print(f"+1% new files: normalised: {run.normalised}; built by {run.load}{models}")
    # Each repeat's full ingest against the floor measured just before it, and its +1% run
    # against that full ingest: the ratios in the table divide medians, and on a shared
    # machine one slow run moves them.
    print(
        "full ingest by repeat: "
        + ", ".join(
            f"{run.seconds:.2f}s = {run.seconds / floor_seconds:.2f}x its floor"
            for run, floor_seconds in zip(fulls, floors, strict=True)
        )
    )
    outside = [run.seconds - _model_build(run) for run in mores]
    print(
        "+1% new files by repeat, outside models and checks: "
        + ", ".join(
            f"{seconds:.2f}s = {seconds / full.seconds:.3f}x its full ingest"
            for seconds, full in zip(outside, fulls, strict=True)
        )
    )
    state = warehouse.parent / f".{warehouse.name}.state"
    cached, digests, memo = (
        sum(path.stat().st_size for path in (state / folder).rglob("*.parquet"))
        for folder in ("parsed", "loaded", "normalised")
    )
    print(
        f"warehouse file {warehouse.stat().st_size / 1e6:,.0f} MB, "
        f"parse cache {cached / 1e6:,.0f} MB, row digests {digests / 1e6:,.0f} MB, "
        f"normalisation memo {memo / 1e6:,.0f} MB (raw {made.n_bytes / 1e6:,.0f} MB)"
    )
    peak = max(run.usage.bytes for run in fulls)
    more_peak = max(run.usage.bytes for run in mores)
    print(
        f"peak memory: full {peak / 1e9:.2f} GB, +1% {more_peak / 1e9:.2f} GB "
        "(target <= 2 GB at 100k)"
    )
    if not keep:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, nargs="+", default=[10_000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/scholarhouse-bench"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; medians shown")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    for key, value in {
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "ERROR",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }.items():
        os.environ.setdefault(key, value)
    # One Prefect API for every run, started before timing anything: each run's process would
    # otherwise start its own (seconds each, and not what a run of the flow costs).
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        for profiles in args.profiles:
            bench(profiles, args.workdir, args.workers, args.repeat, args.keep)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
