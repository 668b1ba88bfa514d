"""Running the flow in this process: the settings it runs under, the garbage collector, the
record of its parameters."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import fastapi.encoders
import pytest
from prefect import Flow
from prefect.settings import (
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    get_current_settings,
    temporary_settings,
)

import flows.runner
from flows.ingest import ingest, look_for_changes
from flows.runner import _imports_frozen, _without_heartbeats, run_ingest


def test_an_in_process_run_sends_no_heartbeats_and_keeps_every_other_setting():
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 30}):
        before = get_current_settings()
        assert before.flows.heartbeat_frequency == 30
        with _without_heartbeats():
            inside = get_current_settings()
            assert inside.flows.heartbeat_frequency is None
            changed = {
                name
                for name in type(before).model_fields
                if getattr(inside, name) != getattr(before, name)
            }
            assert changed == {"flows"}
            assert inside.flows.model_dump(exclude={"heartbeat_frequency"}) == (
                before.flows.model_dump(exclude={"heartbeat_frequency"})
            )
        assert get_current_settings() is before
        # The second time, the same quiet copy is used.
        with _without_heartbeats():
            assert get_current_settings().flows.heartbeat_frequency is None
        assert get_current_settings().flows.heartbeat_frequency == 30


def test_the_objects_alive_when_a_run_starts_are_frozen_until_it_ends():
    assert gc.get_freeze_count() == 0
    marker = ["alive when the run starts"]
    alive = len(gc.get_objects())
    with _imports_frozen():
        # Out of the collector's generations. (Other threads, such as one removing a replaced
        # folder, may free a few objects meanwhile: the counts are not compared exactly.)
        assert not any(thing is marker for thing in gc.get_objects())
        assert gc.get_freeze_count() > alive * 0.9
        assert len(gc.get_objects()) < alive / 10
    assert gc.get_freeze_count() == 0
    assert any(thing is marker for thing in gc.get_objects())
    with pytest.raises(RuntimeError, match="the run failed"), _imports_frozen():
        raise RuntimeError("the run failed")
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("prefect_harness")
def test_a_no_change_run_lists_the_landing_zone_with_the_collector_off_the_old_objects(
    raw_dir: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    assert run_ingest(raw_dir, warehouse).published
    frozen_while_listing: list[int] = []

    def listing(raw: Path, published: Path):
        frozen_while_listing.append(gc.get_freeze_count())
        return look_for_changes(raw, published)

    monkeypatch.setattr(flows.runner, "look_for_changes", listing)
    again = run_ingest(raw_dir, warehouse)
    assert not again.changed and again.n_files_read == 0
    assert frozen_while_listing and frozen_while_listing[0] > 10_000
    assert gc.get_freeze_count() == 0


def _parameters(raw_dir: Path, warehouse: Path) -> dict[str, object]:
    return {
        "raw_dir": raw_dir, "warehouse": warehouse, "rebuild": False, "batch_files": 5_000,
        "workers": 2, "progress": None,
    }  # fmt: skip


def test_the_flow_records_plain_parameters_as_prefect_does_without_fastapi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    parameters = _parameters(tmp_path / "raw", tmp_path / "w.duckdb")
    assert ingest.serialize_parameters(parameters) == Flow.serialize_parameters(ingest, parameters)
    assert ingest.serialize_parameters(parameters)["raw_dir"] == str(tmp_path / "raw")
    # With FastAPI's encoder failing, Prefect would record a placeholder for the paths.
    monkeypatch.setattr(fastapi.encoders, "jsonable_encoder", _refuse)
    assert Flow.serialize_parameters(ingest, parameters)["raw_dir"] == "<PosixPath>"
    assert ingest.serialize_parameters(parameters)["raw_dir"] == str(tmp_path / "raw")
    assert type(ingest.with_options(retries=0)) is type(ingest)


def test_a_parameter_that_is_not_plain_is_recorded_by_prefect(tmp_path: Path):
    parameters = _parameters(tmp_path / "raw", tmp_path / "w.duckdb") | {
        "progress": lambda done, total: None
    }
    recorded = ingest.serialize_parameters(parameters)
    assert recorded == Flow.serialize_parameters(ingest, parameters)
    assert recorded["progress"] == {} and recorded["workers"] == 2


def _refuse(value: object) -> object:
    raise TypeError("not encoded here")


_FRESH_RUN = """
import json, sys
from pathlib import Path
from flows.runner import run_ingest
summary = run_ingest(Path(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps([summary.published, sorted(m for m in sys.modules if m.startswith("fastapi"))]))
"""


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_in_a_fresh_process_does_not_import_fastapi(raw_dir: Path, warehouse: Path):
    from prefect.settings import PREFECT_API_URL

    env = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value()}
    shown = subprocess.run(
        [sys.executable, "-c", _FRESH_RUN, str(raw_dir), str(warehouse)],
        capture_output=True, text=True, env=env, cwd=Path(__file__).parents[1], check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    published, imported = json.loads(shown.stdout.splitlines()[-1])
    assert published and imported == []


@pytest.mark.usefixtures("prefect_harness")
def test_a_build_keeps_the_tables_each_model_reads_for_the_next(raw_dir: Path, warehouse: Path):
    from flows.cache import State
    from flows.ingest import sql_dir
    from flows.models import _referenced_tables, discover_models

    assert run_ingest(raw_dir, warehouse).published
    kept = json.loads((State.for_warehouse(warehouse).root / "model_tables.json").read_text())
    found = discover_models(sql_dir())
    read = [sorted(_referenced_tables(m.sql, m.path)) for m in found]
    # and the tables each changes query reads
    read += [sorted(_referenced_tables(m.changes.sql, m.changes.path)) for m in found if m.changes]
    assert sorted(kept["tables"].values()) == sorted(read)


@pytest.mark.usefixtures("prefect_harness")
def test_a_build_keeps_each_models_seconds_and_the_next_orders_the_models_by_them(
    raw_dir: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    from flows import models
    from flows.cache import State
    from flows.ingest import sql_dir

    kept = State.for_warehouse(warehouse).root / "model_seconds.json"
    names = sorted(m.name for m in models.discover_models(sql_dir()))
    assert run_ingest(raw_dir, warehouse).published
    first = json.loads(kept.read_text())["seconds"]
    assert sorted(first) == names
    assert all(isinstance(s, float) and s > 0 for s in first.values())

    # The next build is handed those seconds (an unreadable file is none: the run goes on).
    handed: list[dict[str, float] | None] = []
    real = models.run_in_dependency_order

    def watched(to_build, run, lanes, costs=None):
        handed.append(dict(costs) if costs is not None else None)
        return real(to_build, run, lanes, costs)

    monkeypatch.setattr(models, "run_in_dependency_order", watched)
    assert run_ingest(raw_dir, warehouse, rebuild=True).published
    kept.write_text("{not json")
    assert run_ingest(raw_dir, warehouse, rebuild=True).published
    assert handed[0] == first
    assert handed[1] == {}
    assert sorted(json.loads(kept.read_text())["seconds"]) == names
