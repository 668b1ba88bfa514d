"""Fixtures of the reliability tests: a published sample warehouse, the environment of child runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLE
from tests.flow_helpers import ingest


@pytest.fixture(scope="session")
def sample_warehouse(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample ingested once; tests copy it rather than build it again."""
    root = tmp_path_factory.mktemp("sample-warehouse")
    (root / "raw" / SAMPLE.parent.name).mkdir(parents=True)
    shutil.copy2(SAMPLE, root / "raw" / SAMPLE.parent.name / SAMPLE.name)
    warehouse = root / "warehouse" / "scholar.duckdb"
    ingest(root / "raw", warehouse)
    return warehouse


@pytest.fixture
def published(sample_warehouse: Path, tmp_path: Path) -> Path:
    """A published warehouse of the sample, this test's own copy (no state folder)."""
    target = tmp_path / "published" / "scholar.duckdb"
    target.parent.mkdir(parents=True)
    shutil.copy2(sample_warehouse, target)
    return target


def child_env(prefect_home: Path, **overrides: str) -> dict[str, str]:
    """Environment of a `scholarhouse` child process: this session's Prefect API (started
    once by `prefect_harness`), a Prefect home of its own, quiet and offline."""
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ)
    env.update(
        {
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "PREFECT_HOME": str(prefect_home),
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PYTHONPATH": str(REPO),
        }
    )
    env.update(overrides)
    return env
