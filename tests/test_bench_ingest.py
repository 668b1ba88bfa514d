"""bench/bench_ingest.py runs end to end on a small landing zone and measures what it says:
the +1% run adds to the last normalisation and loads by changes, the re-run changes nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROWS = (
    "naive floor",
    "full ingest",
    "no-change re-run",
    "the same, as a Prefect flow run",
    "+1% new files",
)
STAGES = ("discover", "read", "normalise", "load", "models", "checks", "publish")


def test_the_ingest_benchmark_times_every_run_and_the_addition_is_incremental(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "bench_ingest.py"),
            "--profiles",
            "30",
            "--workdir",
            str(tmp_path),
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for row in ROWS:
        assert re.search(rf"^\s*{re.escape(row)}.*\d+\.\d\d", out, re.MULTILINE), row
    for label in ("full ingest", "+1% new files"):
        (stages,) = re.findall(rf"^stages of the {re.escape(label)}: (.*)$", out, re.MULTILINE)
        assert [part.split()[0] for part in stages.split(", ")] == list(STAGES)
    # the +1% run is measured on the incremental path, not on a rebuild
    assert "new contents added to the last normalisation" in out
    assert "built by incremental load" in out
    assert re.search(r"peak memory: full \d+\.\d\d GB, \+1% \d+\.\d\d GB", out)
    # the generated files are removed unless --keep
    assert not any(tmp_path.iterdir())
