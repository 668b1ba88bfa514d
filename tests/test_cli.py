"""The scholarhouse command, in-process: ingest, sql formats, export, serve --dry-run, synth."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from flows.cli import BATCH_FILES, main
from flows.ingest import DEFAULT_BATCH_FILES

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def built(raw_dir: Path, warehouse: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["ingest", "--raw", str(raw_dir), "--warehouse", str(warehouse)]) == 0
    out = capsys.readouterr().out
    assert "| loaded | 1 |" in out and "| paper | 22 |" in out
    return warehouse


def test_sql_prints_table_csv_and_json(built: Path, capsys: pytest.CaptureFixture[str]):
    query = "select category, count(*) as n from paper group by 1 order by 2 desc, 1"
    assert main(["sql", query, "--warehouse", str(built), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "category,n" and lines[1:3] == ["cs.CV,7", "cs.LG,7"]
    assert main(["sql", query, "--warehouse", str(built), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0] == {"category": "cs.CV", "n": 7} and len(rows) == 7
    assert main(["sql", query, "--warehouse", str(built)]) == 0
    assert "cs.NE" in capsys.readouterr().out


def test_sql_is_read_only_and_reports_errors(built: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["sql", "delete from paper", "--warehouse", str(built)]) != 0
    assert "read-only" in capsys.readouterr().err.lower()
    assert (
        main(["sql", "select count(*) from paper", "--warehouse", str(built), "--format", "csv"])
        == 0
    )
    assert capsys.readouterr().out.splitlines()[1] == "22"


def test_sql_without_a_warehouse_says_how_to_make_one(tmp_path: Path, capsys):
    assert main(["sql", "select 1", "--warehouse", str(tmp_path / "none.duckdb")]) != 0
    assert "scholarhouse ingest" in capsys.readouterr().err


def test_export_writes_every_contract_table_as_parquet(built: Path, tmp_path: Path, capsys):
    out = tmp_path / "parquet"
    assert main(["export", "--parquet", str(out), "--warehouse", str(built)]) == 0
    assert pl.read_parquet(out / "paper.parquet").height == 22
    assert pl.read_parquet(out / "authorship.parquet").height == 74
    assert (out / "author_metrics.parquet").exists() and (out / "coauthor_edge.parquet").exists()


def test_serve_dry_run_describes_the_cron_deployment(tmp_path: Path, capsys):
    assert main(["serve", "--cron", "*/15 * * * *", "--dry-run", "--raw", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "scholarhouse-ingest" in out and "*/15 * * * *" in out


def test_a_missing_raw_folder_fails_clearly(tmp_path: Path, capsys):
    code = main(["ingest", "--raw", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w")])
    assert code != 0
    assert "does not exist" in capsys.readouterr().err


def test_synth_output_is_read_without_failures(tmp_path: Path, capsys):
    raw = tmp_path / "raw"
    assert main(["synth", "--profiles", "40", "--out", str(raw), "--seed", "3"]) == 0
    warehouse = tmp_path / "w.duckdb"
    assert main(["ingest", "--raw", str(raw), "--warehouse", str(warehouse)]) == 0
    capsys.readouterr()
    assert main(["sql", "select status, count(*) from ingest_file group by 1", "--warehouse",
                 str(warehouse), "--format", "csv"]) == 0  # fmt: skip
    assert capsys.readouterr().out.splitlines()[1:] == [f"loaded,{len(list(raw.rglob('*.txt')))}"]
    assert main(["sql", "select count(*) from ingest_failure", "--warehouse", str(warehouse),
                 "--format", "csv"]) == 0  # fmt: skip
    assert capsys.readouterr().out.splitlines()[1] == "0"


def test_the_command_reads_in_batches_of_the_flow_s_default_size():
    assert BATCH_FILES == DEFAULT_BATCH_FILES
