"""The benchmarks in bench/ run end to end at small sizes and measure what they say they do.

bench_ingest.py: every run and stage is printed, and the +1% run takes the incremental path
(added to the last normalisation, loaded by changes). bench_models.py: every model builds on
the generated core tables, every check passes, and the models agree with pandas + networkx.
"""

from __future__ import annotations

import json
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


def run_benchmark(script: str, *args: str) -> str:
    """Run bench/<script> with these arguments; its printed output (it must succeed)."""
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_ingest_benchmark_times_every_run_and_the_addition_is_incremental(tmp_path):
    out = run_benchmark(
        "bench_ingest.py", "--profiles", "30", "--workdir", str(tmp_path), "--workers", "2"
    )
    for row in ROWS:
        assert re.search(rf"^\s*{re.escape(row)}.*\d+\.\d\d", out, re.MULTILINE), row
    for label in ("full ingest", "+1% new files"):
        # The time outside every stage (the flow run's start and end) is shown too.
        pattern = rf"^stages of the {re.escape(label)}: (.*); outside them \d+\.\ds$"
        (stages,) = re.findall(pattern, out, re.MULTILINE)
        assert [part.split()[0] for part in stages.split(", ")] == list(STAGES)
    # each repeat's full ingest against its own floor, each +1% run against its full ingest
    assert re.search(r"^full ingest by repeat: \d+\.\d\ds = \d+\.\d\dx its floor$", out, re.M)
    assert re.search(r"^\+1% new files by repeat, .* = \d\.\d{3}x its full ingest$", out, re.M)
    # the +1% run is measured on the incremental path, not on a rebuild
    assert "new contents added to the last normalisation" in out
    assert "built by incremental load" in out
    assert "brought up to date for the changed keys only" in out
    assert re.search(r"peak memory: full \d+\.\d\d GB, \+1% \d+\.\d\d GB", out)
    # the generated files are removed unless --keep
    assert not any(tmp_path.iterdir())


def test_the_models_benchmark_builds_every_model_and_agrees_with_its_reference(tmp_path):
    result_file = tmp_path / "result.json"
    out = run_benchmark(
        "bench_models.py",
        *("--papers", "3000", "--authorships", "15000", "--sample", "300"),
        *("--workdir", str(tmp_path), "--json", str(result_file)),
    )
    assert "0 disagreement(s)" in out
    built = json.loads(result_file.read_text())
    assert built["failed_checks"] == []
    generated = {row["step"].removeprefix("generate ") for row in built["generated"]}
    # the printed table: one "sql <model>" row per model built
    models = {line.split()[1] for line in out.splitlines() if line.startswith("sql ")}
    # every table a model reads is generated, and every model of sql/ was built
    assert {"paper_citation", "authorship", "profile_paper"} <= generated
    sql_models = {path.stem for path in (REPO / "sql").glob("*/*.sql")}
    sql_models -= {path.stem for path in (REPO / "sql" / "checks").glob("*.sql")}
    assert sql_models <= models
