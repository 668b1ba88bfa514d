"""Ingest benchmark: synthetic landing zones of N profiles against the naive read floor.

    python bench/bench_ingest.py --profiles 10000 100000 [--workdir /tmp/scholarhouse-bench]

For each size it prints the naive floor (one plain Python process that only reads and
regex-splits the same files), a full ingest and its ratio to the floor, seconds per stage, a
no-change re-run, a run after 1% new files, and peak memory (this process and its children),
beside the targets. Figures, not assertions: a benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from flows.synth import naive_floor, write_synthetic_profiles


@dataclass
class Peak:
    """Peak resident memory of this process plus its children, sampled every 50 ms."""

    bytes: int = 0


@contextmanager
def peak_memory() -> Iterator[Peak]:
    peak = Peak()
    done = threading.Event()
    me = psutil.Process()

    def sample() -> None:
        while not done.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            peak.bytes = max(peak.bytes, total)
            done.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def _timed_ingest(raw: Path, warehouse: Path, workers: int) -> tuple[float, dict, Peak]:
    from flows.runner import run_ingest

    with peak_memory() as peak:
        started = time.perf_counter()
        summary = run_ingest(raw, warehouse, workers=workers, batch_files=500)
        seconds = time.perf_counter() - started
    return seconds, summary.seconds, peak


def bench(profiles: int, workdir: Path, workers: int) -> None:
    root = workdir / f"p{profiles}"
    shutil.rmtree(root, ignore_errors=True)
    raw, extra = root / "raw", root / "extra"
    made = write_synthetic_profiles(profiles, raw, seed=1)
    added = write_synthetic_profiles(max(1, profiles // 100), extra, seed=2)
    print(f"\n== {profiles:,} profiles: {made.n_files:,} files, {made.n_bytes / 1e6:,.0f} MB ==")
    os.sync()
    floor = naive_floor(raw)
    warehouse = root / "warehouse" / "scholar.duckdb"
    full, stages, peak = _timed_ingest(raw, warehouse, workers)
    again, _, _ = _timed_ingest(raw, warehouse, workers)
    shutil.copytree(extra, raw / "new", dirs_exist_ok=True)
    more, more_stages, more_peak = _timed_ingest(raw, warehouse, workers)
    model_build = more_stages.get("models", 0.0) + more_stages.get("checks", 0.0)
    rows = [
        ("naive floor (read + regex split)", floor.seconds, "", ""),
        ("full ingest", full, f"{full / floor.seconds:.2f}x floor", "<= 3x floor"),
        ("no-change re-run", again, f"{again / floor.seconds:.2f}x floor", "<= 0.2x floor"),
        (
            f"+1% new files ({added.n_files:,})",
            more,
            f"{(more - model_build) / full:.3f}x full + models {model_build:.1f}s",
            "<= 0.1x full + model build",
        ),
    ]
    print(f"{'run':40} {'seconds':>9}  {'measured':32} target")
    for name, seconds, measured, target in rows:
        print(f"{name:40} {seconds:9.1f}  {measured:32} {target}")
    print("stages of the full ingest: " + ", ".join(f"{k} {v:.1f}s" for k, v in stages.items()))
    print(
        f"peak memory: full {peak.bytes / 2**30:.2f} GiB, +1% {more_peak.bytes / 2**30:.2f} GiB "
        "(target <= 2 GiB at 100k)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, nargs="+", default=[10_000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/scholarhouse-bench"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    for key, value in {
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "ERROR",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }.items():
        os.environ.setdefault(key, value)
    # Start Prefect's temporary API before timing anything: it is paid once per process.
    from prefect import get_client

    with get_client(sync_client=True) as client:
        client.api_healthcheck()
    for profiles in args.profiles:
        bench(profiles, args.workdir, args.workers)


if __name__ == "__main__":
    main()
