"""Running the flow in this process: the settings it runs under."""

from __future__ import annotations

from prefect.settings import (
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    get_current_settings,
    temporary_settings,
)

from flows.runner import _without_heartbeats


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
