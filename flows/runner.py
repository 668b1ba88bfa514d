"""Running the ingest flow: choosing its task runner, progress display, deployments."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect.context import SettingsContext, get_settings_context
from prefect.settings import (
    PREFECT_API_URL,
    Settings,
    get_current_settings,
    temporary_settings,
)
from prefect.task_runners import ThreadPoolTaskRunner

from flows.ingest import DEFAULT_BATCH_FILES, RunSummary, handing_over, ingest, look_for_changes


def task_runner(
    workers: int, dask_address: str | None = None, dask_local: int | None = None
) -> Any:
    """Threads for one worker, a process pool across cores, or a Dask cluster."""
    if dask_address or dask_local:
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": dask_local, "threads_per_worker": 1, "processes": True}
        )
    # Local reading across cores uses a process pool inside the read task (see
    # flows.ingest.read_batches_in_processes); the flow's own tasks run on threads.
    return ThreadPoolTaskRunner(max_workers=max(1, workers))


def run_ingest(
    raw_dir: Path,
    warehouse: Path,
    *,
    rebuild: bool = False,
    workers: int = 1,
    batch_files: int = DEFAULT_BATCH_FILES,
    dask_address: str | None = None,
    dask_local: int | None = None,
    show_progress: bool = False,
    always_flow_run: bool = False,
) -> RunSummary:
    """Run the ingest flow once, in this process (no Prefect server needed).

    When nothing changed since the published build (see `nothing_changed`) no flow run is
    started: the answer takes one listing of the raw folder instead of Prefect's start-up.
    When something changed, the flow run takes that listing instead of listing again.
    `always_flow_run` starts one anyway (the flow makes the same check first).
    """
    with _imports_frozen():
        listing = None
        if not (always_flow_run or rebuild):
            unchanged, listing = look_for_changes(Path(raw_dir), Path(warehouse))
            if unchanged:
                return unchanged
        runner = task_runner(workers, dask_address, dask_local)
        flow = ingest.with_options(task_runner=runner)
        # Heartbeats detect crashed runs on a server-backed deployment; an in-process run
        # would only spend a second at exit waiting for the heartbeat thread.
        with (
            _progress(show_progress) as progress,
            _shared_api(needed=not isinstance(runner, ThreadPoolTaskRunner)),
            _without_heartbeats(),
            handing_over(listing),
        ):
            return flow(
                raw_dir=raw_dir,
                warehouse=warehouse,
                rebuild=rebuild,
                batch_files=batch_files,
                workers=workers,
                progress=progress,
            )


@contextmanager
def _imports_frozen() -> Iterator[None]:
    """Keep the garbage collector away from the objects alive when a run starts.

    A process that has imported Prefect, polars and DuckDB holds some 150,000 objects that
    live as long as it does. The run's first allocations trigger collections that walk all of
    them (0.1 s of the 0.2 s a no-change run over 10^4 files takes); frozen, they are skipped.
    They are unfrozen when the run ends, so that the process still frees them when it exits.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# Settings with heartbeats off, derived once from the settings in force (see below).
_QUIET_SETTINGS: list[tuple[Settings, Settings]] = []


@contextmanager
def _without_heartbeats() -> Iterator[None]:
    """The current settings with flow heartbeats off.

    Prefect's `copy_with_update` validates a whole new settings object, reading every source
    again (0.3 s in a fresh process): the settings in force are copied with only the flows'
    heartbeat changed instead, once per settings in force.
    """
    context = get_settings_context()
    known = [quiet for source, quiet in _QUIET_SETTINGS if source is context.settings]
    if known:
        quiet = known[0]
    else:
        settings = context.settings
        flows = settings.flows.model_copy(update={"heartbeat_frequency": None})
        quiet = settings.model_copy(update={"flows": flows})
        _QUIET_SETTINGS[:] = [(settings, quiet)]
    with SettingsContext(profile=context.profile, settings=quiet):
        yield


@contextmanager
def _shared_api(needed: bool) -> Iterator[None]:
    """Give worker processes this process's temporary API instead of one each.

    Without a configured API every process starts its own temporary server (seconds each);
    worker processes inherit PREFECT_API_URL and report to the one started here.
    """
    if not needed or get_current_settings().api.url:
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous


class _progress:
    """A rich progress bar on stderr for interactive runs; nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None

    def __enter__(self) -> Callable[[int, int], None] | None:
        if not self.enabled:
            return None
        from rich.progress import Progress

        self.bar = Progress(transient=True)
        self.bar.start()
        task_id = self.bar.add_task("reading raw files", total=None)

        def update(done: int, total: int) -> None:
            self.bar.update(task_id, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def deployment(raw_dir: Path, warehouse: Path, cron: str) -> Any:
    """The ingest flow as a deployment on a cron schedule (served by `scholarhouse serve`)."""
    return ingest.to_deployment(
        name="scholarhouse-ingest",
        cron=cron,
        parameters={"raw_dir": str(raw_dir.resolve()), "warehouse": str(warehouse.resolve())},
        description="Ingest new or changed dumps and publish the warehouse.",
    )
