"""Running the flow in this process: the settings it runs under, the garbage collector."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from prefect.settings import (
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    get_current_settings,
    temporary_settings,
)

import flows.runner
from flows.ingest import look_for_changes
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
    alive = len(gc.get_objects())
    with _imports_frozen():
        assert gc.get_freeze_count() >= alive
        assert len(gc.get_objects()) < alive / 10
    assert gc.get_freeze_count() == 0
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
