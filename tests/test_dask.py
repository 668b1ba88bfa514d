"""The read stage on a real local multi-process Dask cluster builds the same tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from flows.synth import write_synthetic_profiles
from tests.flow_helpers import ingest, read_tables

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_dask_path_builds_the_same_tables_as_the_local_path(tmp_path: Path):
    raw = tmp_path / "raw"
    write_synthetic_profiles(30, raw, seed=11)
    ingest(raw, tmp_path / "local.duckdb", workers=1, batch_files=10)
    summary = ingest(raw, tmp_path / "dask.duckdb", dask_local=2, batch_files=10)
    assert summary.files == {"loaded": len(list(raw.rglob("*.txt")))}
    local, dask = read_tables(tmp_path / "local.duckdb"), read_tables(tmp_path / "dask.duckdb")
    for name in local:
        assert_frame_equal(local[name], dask[name])
