"""bench/bench_models.py runs end to end on a small warehouse: every model builds on the
generated core tables, every check passes, and the models agree with pandas + networkx."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_models_benchmark_builds_every_model_and_agrees_with_its_reference(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "bench_models.py"),
            "--papers",
            "3000",
            "--authorships",
            "15000",
            "--sample",
            "300",
            "--workdir",
            str(tmp_path),
            "--json",
            str(tmp_path / "result.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "0 disagreement(s)" in result.stdout
    built = json.loads((tmp_path / "result.json").read_text())
    assert built["failed_checks"] == []
    generated = {row["step"].removeprefix("generate ") for row in built["generated"]}
    # the printed table: one "sql <model>" row per model built
    models = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("sql ")}
    # every table a model reads is generated, and every model of sql/ was built
    assert {"paper_citation", "authorship", "profile_paper"} <= generated
    sql_models = {path.stem for path in (REPO / "sql").glob("*/*.sql")}
    sql_models -= {path.stem for path in (REPO / "sql" / "checks").glob("*.sql")}
    assert sql_models <= models
