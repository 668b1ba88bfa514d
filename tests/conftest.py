"""Shared fixtures: a quiet offline Prefect, the bundled sample, temporary landing zones."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

for _name, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}.items():
    os.environ.setdefault(_name, _value)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "raw" / "2026-11-25" / "000_615cb040fee88da4.txt"
REALDATA = REPO.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect API for the whole session (no server started by hand)."""
    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def realdata() -> Path:
    """The real API responses beside the repository (`../shared/realdata`)."""
    return require_realdata()


def require_realdata() -> Path:
    """`../shared/realdata`, or skip the test saying why.

    Absent in a fresh clone: the test is skipped, with the reason. CI sets
    SCHOLARHOUSE_REQUIRE_REALDATA=1, and then an absent folder fails the test instead.
    """
    if not REALDATA.is_dir():
        message = (
            "../shared/realdata is absent (a fresh clone): real API responses are test "
            "material kept outside the repository"
        )
        if os.environ.get("SCHOLARHOUSE_REQUIRE_REALDATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return REALDATA


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    """A landing zone holding a copy of the bundled sample in its capture-date folder."""
    target = tmp_path / "raw" / "2026-11-25"
    target.mkdir(parents=True)
    shutil.copy2(SAMPLE, target / SAMPLE.name)
    return tmp_path / "raw"


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "scholar.duckdb"
