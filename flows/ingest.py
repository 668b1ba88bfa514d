"""The ingest flow: discover → read → normalise → load → build models → check → publish.

Reading happens in batches (never one task per file), through the flow's task runner: threads
for small runs, a process pool across cores, or a Dask cluster. Every run normalises the whole
parsed-content cache, or, when files were only added, adds them to the memo of the published
build's normalisation (`flows.incremental`), and builds a new file: loaded in full, or, when
few rows changed, a copy of the published build with the changed rows replaced
(`flows.delta`). The build is published atomically, so the published file is always a
complete build and incremental runs equal a rebuild from raw.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import multiprocessing
import os
import shutil
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed, wait
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePath
from typing import Any, Final

import duckdb
import polars as pl
from prefect import Flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.utilities.annotations import quote, unmapped

from flows import models
from flows.cache import MANIFEST_SCHEMA, State
from flows.delta import (
    ROW_KEYS,
    Digests,
    Plan,
    PublishedCopy,
    apply_changes,
    copy_published,
    keys_by_table,
    load_refusal,
    plan_load,
    replace_digests,
)
from flows.incremental import (
    Memo,
    MemoWriting,
    Normalised,
    ReadAhead,
    normalise_kept,
    replace_memo,
)
from flows.landing import (
    RAW_FILE_SCHEMA,
    FileRow,
    RawFile,
    capture_times,
    discover_frame,
    read_batch_into_cache,
    usable_cores,
)
from flows.warehouse import (
    CORE_DOCS,
    build_session,
    connect_build,
    create_table,
    free_bytes,
    identifier,
    insert_rows,
    publish,
    query_frame,
    read_only,
    table_counts,
    table_names,
)

# Files per read task. The batch reader's steps each cost a fixed part per batch: 2,000 files
# parsed in 40% less time than 500 per batch, and 4,000 in 4% less than 2,000 (10^5 profiles
# read in 6.6-7.1 s against 7.1-7.3 s, three paired runs); a read process then holds 310 MB
# at most, against 240 MB.
DEFAULT_BATCH_FILES: Final = 4000
# The landing zone travels between tasks as frames: Prefect looks into every element of a
# list passed to a task, which costs seconds for 10^5 files, and never into a frame.
_FILE_ROW_SCHEMA: Final = {
    "path": pl.String(),
    "size_bytes": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "sha256": pl.String(),
    "skip_reason": pl.String(),
}
_PACKAGE: Final = Path(__file__).parent
_MIN_FREE_BYTES: Final = 64 * 1024 * 1024
# In the state folder: the tables each model's text reads (`models.discover_models`).
_MODEL_TABLES: Final = "model_tables.json"
# The seconds each model took in the last build: the next build's order (`build_models`).
_MODEL_SECONDS: Final = "model_seconds.json"
# Tables loaded, models built and checks run at once (`load_tables`, `build_models`, `run_checks`).
_LANES: Final = 2


class CheckFailed(RuntimeError):
    """A data check found violating rows; the previous warehouse stays published."""


class NotEnoughDisk(RuntimeError):
    """Too little free disk to build; the previous warehouse stays published."""


class ParsedMissing(RuntimeError):
    """Contents were read but their parsed rows are not in the cache: the run stops rather
    than count them loaded with nothing in them."""


@dataclass
class RunSummary:
    """What one ingest run did, for the CLI and the flow run's artifact."""

    warehouse: str
    published: bool = False
    changed: bool = True
    files: dict[str, int] = field(default_factory=dict)
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    checks_failed: list[str] = field(default_factory=list)
    n_files_read: int = 0
    n_files_parsed: int = 0
    n_block_failures: int = 0
    normalised: str = ""
    load: str = ""
    models: str = ""

    def to_markdown(self) -> str:
        lines = [f"## Ingest into `{self.warehouse}`", ""]
        if not self.changed:
            lines += ["No raw file changed since the last build: nothing to do.", ""]
        lines += ["| files | count |", "|---|---|"]
        lines += [f"| {status} | {count} |" for status, count in sorted(self.files.items())]
        lines += [
            "",
            f"Read {self.n_files_read} files, parsed {self.n_files_parsed} new contents, "
            f"{self.n_block_failures} unreadable blocks recorded in `ingest_failure`.",
        ]
        if self.quarantined:
            lines += ["", "| quarantined file | reason |", "|---|---|"]
            lines += [
                f"| {_cell(path)} | {_cell(reason or '')} |"
                for path, reason in self.quarantined[:50]
            ]
            if len(self.quarantined) > 50:
                lines.append(f"| … | {len(self.quarantined) - 50} more in `ingest_file` |")
        if self.normalised:
            lines += ["", f"Normalised: {self.normalised}."]
        if self.load:
            lines += ["", f"Built by {self.load}."]
        if self.models:
            lines += ["", f"Models: {self.models}."]
        if self.rows:
            lines += ["", "| table | rows |", "|---|---|"]
            lines += [f"| {name} | {count:,} |" for name, count in self.rows.items()]
        lines += ["", "| stage | seconds |", "|---|---|"]
        lines += [f"| {stage} | {secs:.2f} |" for stage, secs in self.seconds.items()]
        if self.checks_failed:
            lines += ["", "Failed checks: " + ", ".join(self.checks_failed)]
        return "\n".join(lines)


def _cell(text: str) -> str:
    """Text for one markdown table cell: a file name may hold bars and line breaks."""
    return text.replace("|", "\\|").replace("\r", "\\r").replace("\n", "\\n")


@task(cache_policy=NO_CACHE)
def discover_files(raw_dir: Path, listed: pl.DataFrame | None = None) -> pl.DataFrame:
    """List every file under the raw folder with its size and modification time; `listed`,
    a listing of it taken just before this run (see `Listing`), stands for a new one."""
    return discover_frame(raw_dir) if listed is None else listed


@dataclass(frozen=True)
class Listing:
    """A listing of a raw folder (`discover_frame`) and the seconds it took.

    `run_ingest` lists the folder to tell whether anything changed before it starts a flow
    run; when something did, the flow takes that listing instead of listing 10^5 files again
    (0.3-0.9 s here). It is as current as the flow's own would be: a file that changes after
    either listing is seen by the next run, its size and time no longer those in the
    manifest."""

    raw_dir: Path
    files: pl.DataFrame
    seconds: float

    def of(self, raw_dir: Path) -> bool:
        return self.raw_dir == Path(raw_dir).resolve()


# The listing handed from `run_ingest` to the flow run it starts, in the same thread.
_HANDED: ContextVar[Listing | None] = ContextVar("scholarhouse_listing", default=None)


@contextmanager
def handing_over(listing: Listing | None) -> Iterator[None]:
    """Hand `listing` to the ingest flow run started inside (it is taken at most once)."""
    token = _HANDED.set(listing)
    try:
        yield
    finally:
        _HANDED.reset(token)


def _take_listing(raw_dir: Path) -> Listing | None:
    listing = _HANDED.get()
    _HANDED.set(None)
    return listing if listing is not None and listing.of(raw_dir) else None


def _with_known(files: pl.DataFrame, manifest: pl.DataFrame) -> pl.DataFrame:
    """`files` with what the manifest knows of each path: `known_size`, `known_mtime` and
    `sha256` (null where it knows nothing)."""
    return files.join(
        manifest.select("path", known_size="size_bytes", known_mtime="mtime_ns", sha256="sha256"),
        on="path",
        how="left",
        maintain_order="left",
    )


# A file is taken to be the one the manifest knows when its size and mtime are the same.
_AS_KNOWN: Final = (pl.col("known_size") == pl.col("size_bytes")) & (
    pl.col("known_mtime") == pl.col("mtime_ns")
)


@task(cache_policy=NO_CACHE)
def plan_reads(
    files: pl.DataFrame, manifest: pl.DataFrame, parsed: pl.Series
) -> tuple[pl.DataFrame, list[RawFile]]:
    """Split files into unchanged ones (size and mtime as last run, content `parsed`) and
    ones to read."""
    known = manifest.filter(pl.col("sha256").is_in(parsed.implode()))
    planned = _with_known(files, known).with_columns(
        is_unchanged=(pl.col("skip_reason").is_null() & _AS_KNOWN).fill_null(False)
    )
    unchanged = planned.filter(pl.col("is_unchanged")).select(list(_FILE_ROW_SCHEMA))
    to_read = [
        RawFile(*row)
        for row in planned.filter(~pl.col("is_unchanged")).select(list(RAW_FILE_SCHEMA)).iter_rows()
    ]
    return unchanged, to_read


def _is_io_error(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=_is_io_error)
def read_batch(
    raw_dir: Path, batch: list[RawFile], known: frozenset[str], state_root: Path, readers: str
) -> list[FileRow]:
    """Hash a batch of files and parse the contents not parsed before into the cache."""
    return read_batch_into_cache(raw_dir, batch, known, state_root, readers)


def read_pool(workers: int) -> ProcessPoolExecutor:
    """The read stage's process pool: forked from a server that has imported the readers, so
    a worker starts light. `flows.read_worker` is imported first, before polars."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        ["flows.read_worker", "flows.landing", "flows.cache", "flows.formats.frames"]
    )
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=_is_io_error)
def read_batches_in_processes(
    raw_dir: Path,
    batches: list[list[RawFile]],
    known: frozenset[str],
    state_root: Path,
    readers: str,
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> pl.DataFrame:
    """Read batches across cores in a process pool (`read_pool`)."""
    total = sum(len(batch) for batch in batches)
    rows: list[FileRow] = []
    with read_pool(workers) as pool:
        futures = [
            pool.submit(read_batch_into_cache, raw_dir, batch, known, state_root, readers)
            for batch in batches
        ]
        for future in as_completed(futures):
            rows.extend(future.result())
            if progress:
                progress(len(rows), total)
    return _file_rows_frame(rows)


@task(cache_policy=NO_CACHE)
def build_ledger(files: pl.DataFrame, state_root: Path) -> pl.DataFrame:
    """One row per raw file: loaded, duplicate (same bytes as a loaded file) or quarantined."""
    # Every cached content's row, joined: picking out the files' contents first took 0.06 s
    # of 10^5 files, against 0.006 s.
    state = State(state_root)
    parsed = state.parsed_files()
    ledger = files.join(parsed, on="sha256", how="left").sort("path")
    lost = ledger.filter(
        pl.col("skip_reason").is_null()
        & pl.col("sha256").is_not_null()
        & pl.col("status").is_null()
    )
    if lost.height:
        raise ParsedMissing(
            f"{lost.height:,} files were read but their parsed rows are not in "
            f"{state.parsed}, e.g. {lost['path'][0]}: nothing is published"
        )
    # The ledger is in path order: a window's first row is the content's first path (a
    # window ordered again by path took 0.1 s of 10^5 files, once per use). A column of its
    # own: an eager expression computes a shared part at each use (the ledger of 10^5 files
    # took 68-70 ms against 75-78 ms).
    ledger = ledger.with_columns(first_path=pl.col("path").first().over("sha256"))
    first_path = pl.col("first_path")
    status = (
        pl.when(pl.col("skip_reason").is_not_null())
        .then(pl.lit("quarantined"))
        .when(pl.col("status") == "quarantined")
        .then(pl.lit("quarantined"))
        .when(pl.col("path") == first_path)
        .then(pl.lit("loaded"))
        .otherwise(pl.lit("duplicate"))
    )
    reason = (
        pl.when(pl.col("skip_reason").is_not_null())
        .then("skip_reason")
        .when(pl.col("status") == "quarantined")
        .then("reason")
        .when(pl.col("path") != first_path)
        .then(pl.format("same content as {}", first_path))
    )
    return ledger.with_columns(
        modified_at=pl.from_epoch("mtime_ns", time_unit="ns").cast(pl.Datetime("us")),
        captured_at=capture_times(pl.col("path"), pl.col("mtime_ns")),
    ).select(
        "path",
        "sha256",
        status.alias("status"),
        reason.alias("reason"),
        "format",
        pl.col("n_papers").fill_null(0),
        pl.col("n_failures").fill_null(0),
        "size_bytes",
        "modified_at",
        "captured_at",
        "mtime_ns",
    )


@task(cache_policy=NO_CACHE)
def normalise_tables(
    ledger: pl.DataFrame,
    state_root: Path,
    memo: MemoWriting,
    read_ahead: ReadAhead | None = None,
) -> Normalised:
    """Keys, dates, categories and identities: the core tables as frames, added to the memo
    of the published build's normalisation when only new files came (`flows.incremental`:
    the tables of `PARTIAL_TABLES` then hold only the changed keys' rows). `memo`
    receives this normalisation's memo, written while the run goes on; `read_ahead` is
    what an addition reads of the last memo, being read (`ReadAhead`). Also says how it
    normalised."""
    loaded = ledger.filter(pl.col("status") == "loaded")
    state = State(state_root)
    # Only the contents that recorded a failure hold failure rows (`n_failures` counts them):
    # most hold none, and scanning every batch for them took 0.08-0.11 s at 10^5 files.
    failed = loaded.filter(pl.col("n_failures") > 0)["sha256"]
    failures = state.load_frames(failed, ["failure"])["failure"]
    # Scans: normalise reads each parsed table when it needs it and lets it go after, and an
    # addition reads only the batches of the contents it looks at.
    normalised = normalise_kept(
        Memo(state.memo),
        memo,
        partial(state.scan_frames, tables=["profile", "paper", "mention", "topic"]),
        loaded.select("sha256", "path", "captured_at"),
        read_ahead,
    )
    normalised.tables["ingest_file"] = ledger.drop("mtime_ns")
    normalised.tables["ingest_failure"] = (
        failures.join(loaded.select("sha256", "path"), on="sha256")
        .select("sha256", "path", "line", "reason", "text")
        .sort("path", "line")
    )
    return normalised


@task(cache_policy=NO_CACHE)
def load_tables(build: Path, tables: dict[str, pl.DataFrame], info: pl.DataFrame) -> None:
    """Create the core tables in the new build file, documented; the frames are handed over
    (each leaves `tables` once its table is made, so its memory goes).

    Two tables load at once (`_LANES`), each in its own transaction (the build file is
    published whole or not at all): compressing a table's strings is most of a load and runs
    on one core, so on two cores each load has one DuckDB thread. The largest starts first,
    in a lane of its own, and the others load beside it, smallest first; the second largest
    waits until the largest has gone (beside each other they took a run's peak memory at 10^5
    profiles over 2 GB). Loaded last and alone, the largest left a core idle: in five paired
    full ingests of 10^5 profiles this step took 3.1-4.2 s (median 3.6) that way, against
    2.8-3.8 s (median 3.2) now; outside a run, on the same tables, 4.0 s against 2.7 s, with
    4.3 CPU-seconds against 5.6 and a peak memory 0.08 GB higher.
    """
    by_size = sorted(tables, key=lambda name: tables[name].estimated_size())
    largest = by_size[-1] if by_size else None
    second = by_size[-2] if len(by_size) > 1 else None
    pending = deque([*by_size[-1:], *by_size[:-1]])
    largest_gone, failed = threading.Event(), threading.Event()
    con = connect_build(build)

    def load_pending() -> None:
        with con.cursor() as cursor:
            while True:
                try:
                    name = pending.popleft()
                except IndexError:
                    return
                if name == second:
                    largest_gone.wait()
                    if failed.is_set():
                        return
                try:
                    cursor.begin()
                    create_table(cursor, name, tables.pop(name))
                    cursor.commit()
                except BaseException:
                    failed.set()
                    pending.clear()  # the build fails: the other loader stops too
                    raise
                finally:
                    if name == largest:
                        largest_gone.set()

    try:
        with _threads_beside(con, _LANES), ThreadPoolExecutor(_LANES) as pool:
            for loaded in [pool.submit(load_pending) for _ in range(_LANES)]:
                loaded.result()
        con.begin()
        create_table(con, "warehouse_info", info)
        con.commit()
    finally:
        con.close()


@task(cache_policy=NO_CACHE)
def prepare_load(
    state: State,
    warehouse: Path,
    build: Path,
    digests: Digests,
    normalised: Normalised,
    code_fingerprint: str,
    rebuild: bool,
    copy: PublishedCopy | None = None,
) -> Plan:
    """Digest the new tables and decide how to load them (`flows.delta`); for an incremental
    load, copy the published file to `build` (or take the `copy` started earlier). A full
    load gets every table whole."""
    previous = Digests(state.digests)
    refusal = "full load: --rebuild" if rebuild else None
    if normalised.partial and refusal is None:
        refusal = load_refusal(previous, warehouse, code_fingerprint)
    if refusal is not None:
        normalised.make_whole()
    compared = digests.write(normalised.tables, code_fingerprint, normalised.partial, previous)
    plan = Plan(None, refusal) if refusal else plan_load(previous, digests, warehouse, compared)
    if plan.incremental:
        copied = copy.wait() if copy else copy_published(warehouse, build, previous)
        if not copied:
            plan = Plan(None, "full load: the published file changed while it was copied")
    if not plan.incremental:
        if copy:
            copy.discard()
        normalised.make_whole()
    return plan


@task(cache_policy=NO_CACHE)
def load_changes(
    build: Path,
    tables: dict[str, pl.DataFrame],
    changed: dict[str, pl.DataFrame],
    info: pl.DataFrame,
) -> None:
    """Into the copy of the published build: replace the rows of every changed key with the
    new rows of that key, table by table, in one transaction; the frames are handed over.
    The tables of the models built whole are dropped first, unless the copy was made
    without them (`without_models`)."""
    with connect_build(build) as con:
        _drop_models(con)
        con.begin()
        for name in list(tables):
            frame = tables.pop(name)
            if name in changed:
                apply_changes(con, name, frame, changed[name], ROW_KEYS.get(name))
        con.execute("delete from warehouse_info").fetchall()
        insert_rows(con, "warehouse_info", info)
        con.commit()


def without_models(build: Path) -> None:
    """Drop the tables of the models built whole from the build file `build` (`_drop_models`):
    what the copy of the published build for a load by changes has done to it as soon as it
    is made, beside the normalisation, instead of in the load (in five paired +1% runs at 10^5
    profiles the load took 0.42-0.53 s, median 0.45, against 0.45-0.55 s, median 0.54)."""
    with connect_build(build) as con:
        _drop_models(con)


def _drop_models(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every table but the core tables (`CORE_DOCS`) and those of the models that a load
    by changes brings up to date (`models.CHANGES_DIR`): the others are built anew next. Their
    room is freed (a checkpoint): the models built next reuse it, where replacing them would
    grow the file by their size."""
    kept = {*CORE_DOCS, *(path.stem for path in (sql_dir() / models.CHANGES_DIR).glob("*.sql"))}
    model_tables = [name for name in table_names(con) if name not in kept]
    if not model_tables:
        return
    con.begin()
    for name in model_tables:
        con.execute(f"drop table {identifier(name)}")
    con.commit()
    con.execute("checkpoint")


@contextmanager
def _threads_beside(con: duckdb.DuckDBPyConnection, lanes: int) -> Iterator[None]:
    """DuckDB's threads while `lanes` statements run at once: each statement's own thread
    works too, so DuckDB adds one thread per core beyond the lanes (none on two cores)."""
    con.execute("set threads = ?", [max(1, usable_cores() - lanes + 1)])
    try:
        yield
    finally:
        con.execute("reset threads")


def build_models(
    build: Path,
    to_build: list[models.Model],
    seconds_kept: Path,
    changed: dict[str, pl.DataFrame] | None = None,
) -> list[str]:
    """Build the SQL models into the build file, each as its own task, two at a time; after
    a load by changes (`changed`: its keys by table, `flows.delta.Plan`) a model with a
    changes file is brought up to date for the changed keys instead (`models.CHANGES_DIR`).
    Returns the models brought up to date so.

    A model starts once the models it reads are built; the costliest chains start first, by
    the seconds each model took in the last build (kept in `seconds_kept`, and rewritten),
    or in a first build the chains of recursive models (`models.run_in_dependency_order`).
    Two models at once keep both cores of a small machine busy where one model's plan does
    not: at 10^5 profiles on two cores the models take 7.4 s, against 9.7 s one at a time.
    Ordered by their seconds, the longest chain (the coauthor graph's components) no longer
    builds alone at the end (README, "Both cores through the build").
    """
    costs = models.read_model_seconds(seconds_kept)
    keys = None if changed is None else keys_by_table(changed)
    with connect_build(build) as con, _threads_beside(con, _LANES), models.model_settings(con):
        took = models.run_in_dependency_order(
            to_build, partial(build_model, build, changed=quote(keys)), _LANES, costs
        )
    # The order goes by whole builds: a model brought up to date keeps its last whole build's.
    whole = {name: seconds for name, (seconds, by_changes) in took.items() if not by_changes}
    models.write_model_seconds(seconds_kept, {**costs, **whole})
    return sorted(name for name, (_, by_changes) in took.items() if by_changes)


@task(cache_policy=NO_CACHE, task_run_name="model-{model.name}")
def build_model(
    build: Path, model: models.Model, changed: dict[str, pl.DataFrame] | None = None
) -> tuple[float, bool]:
    """Run one SQL model into the build file, or bring its table up to date for the keys in
    `changed` (`models.run_model_changes`), which then also receives the keys it made again
    under the model's name, for the models after it. Returns the seconds it took, its
    commit (the table's write) included, and whether it went by changes."""
    started = time.perf_counter()
    with connect_build(build) as con:
        con.begin()
        done = None
        if changed is not None and (done := models.run_model_changes(con, model, changed)):
            changed[model.name] = done[1]
        else:
            models.run_model(con, model)
        con.commit()
    return time.perf_counter() - started, done is not None


@task(cache_policy=NO_CACHE)
def run_checks(build: Path) -> list[models.CheckResult]:
    """Run every data check, two at a time; each returns its violating rows. At 10^5
    profiles on two cores: 1.0 s, against 1.6 s one at a time."""
    with connect_build(build) as con, _threads_beside(con, _LANES):

        def run_check(check: models.Check) -> models.CheckResult:
            with con.cursor() as cursor:
                return models.run_check(cursor, check)

        with ThreadPoolExecutor(_LANES) as pool:
            return list(pool.map(run_check, models.discover_checks(sql_dir())))


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=_is_io_error)
def publish_build(build: Path, warehouse: Path) -> None:
    """Atomically replace the published warehouse with the new build."""
    publish(build, warehouse)


def sql_dir() -> Path:
    """The SQL models: installed beside the package, or the repository's `sql/`."""
    installed = _PACKAGE / "_sql"
    return installed if installed.is_dir() else _PACKAGE.parent / "sql"


def code_fingerprint() -> str:
    """Hash of everything that shapes the warehouse from the same raw files.

    Each file is named relative to its folder: the same code in another place (a moved
    checkout, an installed package) has the same fingerprint, and its warehouse is not
    rebuilt.
    """
    digest = hashlib.sha256()
    for label, folder, pattern in (("flows", _PACKAGE, "*.py"), ("sql", sql_dir(), "*.sql")):
        for path in sorted(folder.rglob(pattern)):
            digest.update(f"{label}/{path.relative_to(folder).as_posix()}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def input_fingerprint(rows: pl.DataFrame) -> str:
    """Hash of every raw file's path, content hash, skip reason and modification time."""
    # One line per file, `None` for a missing value; hashed as one text, sorted by path.
    lines = rows.sort("path").select(
        pl.concat_str(
            "path",
            pl.lit("\0"),
            pl.col("sha256").fill_null("None"),
            pl.lit("\0"),
            pl.col("skip_reason").fill_null("None"),
            pl.lit("\0"),
            pl.col("mtime_ns").cast(pl.String),
            pl.lit("\n"),
        ).str.join("")
    )
    # Joined by polars: a list of 10^5 texts joined in Python took twice as long.
    return hashlib.sha256(lines.item().encode()).hexdigest()[:16]


@contextmanager
def _timed(summary: RunSummary, stage: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    summary.seconds[stage] = summary.seconds.get(stage, 0.0) + time.perf_counter() - started


def _batches(files: list[RawFile], size: int) -> list[list[RawFile]]:
    """`files` in as few batches of at most `size` files as hold them, of even sizes: 4,001
    files make batches of 2,001 and 2,000, which two processes read in about half the time
    of 4,000 and 1."""
    if not files:
        return []
    count = -(-len(files) // max(1, size))
    step = -(-len(files) // count)
    return [files[i : i + step] for i in range(0, len(files), step)]


class _PlainParameters(Flow):
    """A Prefect flow that records a run's plain parameters without importing FastAPI.

    Prefect records each flow run's parameters through FastAPI's `jsonable_encoder`: its
    import costs 0.16 s of every run in a fresh process (a command-line run, a deployment's
    run). When every value is None, a flag, a number, a text or a path, the record is made
    here, the same as Prefect's (a path as its text); any other value is left to Prefect.
    """

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        if not all(isinstance(value, _PLAIN_PARAMETER) for value in parameters.values()):
            return super().serialize_parameters(parameters)
        return {
            key: str(value) if isinstance(value, PurePath) else value
            for key, value in parameters.items()
        }

    def with_options(self, **options: Any) -> _PlainParameters:
        configured = super().with_options(**options)
        # Prefect makes a plain `Flow`; the copy keeps this class (it adds no state).
        configured.__class__ = type(self)
        return configured


_PLAIN_PARAMETER: Final = (type(None), bool, int, float, str, PurePath)


def ingest(
    raw_dir: Path = Path("data/raw"),
    warehouse: Path = Path("data/warehouse/scholar.duckdb"),
    rebuild: bool = False,
    batch_files: int = DEFAULT_BATCH_FILES,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Find new or changed dumps, parse, normalise, load, build models, check, publish."""
    raw_dir, warehouse = Path(raw_dir), Path(warehouse)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw folder {raw_dir} does not exist")
    summary = RunSummary(warehouse=str(warehouse))
    state = State.for_warehouse(warehouse)
    with state.locked():
        state.clear_stale()
        if rebuild:
            state.reset()
        listing = _take_listing(raw_dir)
        if listing is not None:
            summary.seconds["discover"] = listing.seconds
        with _timed(summary, "discover"):
            files = discover_files(raw_dir, listing.files if listing else None)
        if not rebuild and (unchanged_run := _unchanged_summary(files, state, warehouse)):
            unchanged_run.seconds = summary.seconds
            _finish(unchanged_run, warehouse)
            return unchanged_run
        with _timed(summary, "discover"):
            # The cached contents listed once: as a column for the plan (a set of 10^5 texts
            # made a column again took 0.03 s), as a set for the readers.
            contents = state.parsed_contents()
            parsed = frozenset(contents.to_list())
            unchanged, to_read = plan_reads(files, state.read_manifest(), quote(contents))
        code = code_fingerprint()
        # What an addition reads of the last normalisation's memo is read meanwhile.
        read_ahead = None
        if not rebuild:
            read_ahead = ReadAhead.start(Memo(state.memo), code, files.height, len(to_read))
        with _timed(summary, "read"):
            just_read = _read(raw_dir, to_read, parsed, state, batch_files, workers, progress)
            rows = pl.concat([unchanged, just_read])
        _return_freed_memory()
        summary.n_files_read = len(to_read)
        # The contents read now that the cache did not hold: each was parsed into it.
        summary.n_files_parsed = len(set(just_read["sha256"].drop_nulls().to_list()) - parsed)
        fingerprints = (code, input_fingerprint(rows))
        published, counts = _read_published(state)
        if not rebuild and warehouse.exists() and published == fingerprints:
            # The published build is of these very files: remember their sizes and times
            # (a run killed after publishing, or a killed --rebuild, left no manifest of them).
            if to_read:
                state.write_manifest(_manifest(rows))
            if read_ahead:
                read_ahead.drop()
            summary.changed = False
            summary.published = True
            summary.files = _published_file_counts(counts, warehouse)
            _finish(summary, warehouse)
            return summary
        _check_disk(state, warehouse)
        build = state.build_dir / f"build-{uuid.uuid4().hex[:12]}.duckdb"
        memo = MemoWriting(Memo(build.with_suffix(".memo")), fingerprints[0])
        copy = _copy_for_load(state, warehouse, build, fingerprints[0], rebuild)
        with (
            _abandoned_on_error(memo, copy),
            ThreadPoolExecutor(2, thread_name_prefix="beside") as beside,
        ):
            with _timed(summary, "normalise"):
                ledger = build_ledger(rows, state.root)
                normalised = normalise_tables(ledger, state.root, quote(memo), quote(read_ahead))
                summary.normalised = normalised.how
            _return_freed_memory()
            _summarise_files(summary, ledger, normalised.tables)
            info = pl.DataFrame(
                {
                    "built_at": [datetime.now(UTC).replace(tzinfo=None)],
                    "code_fingerprint": [fingerprints[0]],
                    "input_fingerprint": [fingerprints[1]],
                    "n_files": [rows.height],
                }
            )
            with _timed(summary, "load"):
                digests = Digests(build.with_suffix(".digests"))
                plan = prepare_load(
                    state, warehouse, build, digests, normalised, fingerprints[0], rebuild, copy
                )
                summary.load = plan.reason
                tables = normalised.tables
                del normalised
            with build_session(build, existing=plan.incremental):
                with _timed(summary, "load"):
                    if plan.changed is not None:
                        load_changes(build, tables, plan.changed, info)
                    else:
                        load_tables(build, tables, info)
                    # The memo was written while the load ran; the models get both cores.
                    memo.finish()
                    _return_freed_memory()
                with _timed(summary, "models"):
                    to_build = models.discover_models(sql_dir(), state.root / _MODEL_TABLES)
                    by_changes = build_models(
                        build, to_build, state.root / _MODEL_SECONDS, plan.changed
                    )
                    if by_changes:
                        summary.models = (
                            f"{len(by_changes)} of {len(to_build)} brought up to date for the "
                            f"changed keys only ({', '.join(by_changes)}), the others built whole"
                        )
                # The build is written out to its file while the checks run (they only read
                # it); a build whose checks fail is then deleted unpublished.
                written = beside.submit(_counts_and_write_out, build)
                try:
                    with _timed(summary, "checks"):
                        results = run_checks(build)
                finally:
                    with _timed(summary, "publish"):
                        wait([written])
                summary.checks_failed = [r.name for r in results if r.n_violations]
                if not summary.checks_failed:
                    # The parse cache is kept for the next run meanwhile (its manifest and
                    # batches need nothing of this build).
                    cache_kept = beside.submit(_keep_parse_cache, state, rows, ledger)
                    summary.rows = written.result()
            if summary.checks_failed:
                build.unlink(missing_ok=True)
                shutil.rmtree(digests.folder, ignore_errors=True)
                shutil.rmtree(memo.memo.folder, ignore_errors=True)
                _finish(summary, warehouse)
                raise CheckFailed(_describe_failed_checks(results))
            with _timed(summary, "publish"):
                publish_build(build, warehouse)
                digests.mark_published(warehouse, plan.full_size)
                replace_digests(state.digests, digests)
                replace_memo(state.memo, memo.memo)
                cache_kept.result()
                _write_published_fingerprints(state, fingerprints, summary.files)
            summary.published = True
    _finish(summary, warehouse)
    return summary


ingest = _PlainParameters(ingest, name="ingest", log_prints=False)


def _keep_parse_cache(state: State, rows: pl.DataFrame, ledger: pl.DataFrame) -> None:
    """Keep what the next run reads of the parse cache: the files' manifest, and only the
    batches some file still holds. Neither depends on the build being published (a run
    that fails later re-reads no file: their contents are in the cache)."""
    state.write_manifest(_manifest(rows))
    state.drop_unused_batches(ledger["sha256"].drop_nulls())


def _copy_for_load(
    state: State, warehouse: Path, build: Path, code_fingerprint: str, rebuild: bool
) -> PublishedCopy | None:
    """The published file's copy for a load by changes, started now; None when this build
    cannot load by changes whatever it holds (`load_refusal`)."""
    previous = Digests(state.digests)
    if rebuild or load_refusal(previous, warehouse, code_fingerprint) is not None:
        return None
    return PublishedCopy(warehouse, build, previous, prepare=without_models)


@contextmanager
def _abandoned_on_error(memo: MemoWriting, copy: PublishedCopy | None) -> Iterator[None]:
    """Stop writing `memo` and copying the published file when the run fails: the memo is
    never sealed, so never used, and the copy is removed."""
    try:
        yield
    except BaseException:
        memo.abandon()
        if copy:
            copy.discard()
        raise


def _return_freed_memory() -> None:
    """Hand the memory the last stage freed back to the system.

    A stage frees 10^5 small records (one per file) and large frames; glibc keeps freed
    blocks in its heap for reuse unless asked, so the run would hold what it no longer uses.
    Where there is no glibc this does nothing.
    """
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def _read(
    raw_dir: Path,
    to_read: list[RawFile],
    parsed: frozenset[str],
    state: State,
    batch_files: int,
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> pl.DataFrame:
    """Read in batches: on the flow's Dask cluster, in a local process pool, or here."""
    batches = _batches(to_read, batch_files)
    rows: list[FileRow] = []
    context = FlowRunContext.get()
    on_dask = context is not None and type(context.task_runner).__name__ == "DaskTaskRunner"
    # The readers' fingerprint names the cache folder this run reads (`State.parsed`).
    readers = state.parsed.name
    # quote(): Prefect would otherwise look into each of the 10^5 known contents and files.
    if on_dask and len(batches) > 1:
        futures = read_batch.map(
            raw_dir, batches, unmapped(parsed), unmapped(state.root), unmapped(readers)
        )
        for future in futures:
            rows.extend(future.result())
            if progress:
                progress(len(rows), len(to_read))
    elif workers > 1 and len(batches) > 1:
        return read_batches_in_processes(
            raw_dir,
            quote(batches),
            quote(parsed),
            state.root,
            readers,
            min(workers, len(batches)),
            progress,
        )
    else:
        for batch in batches:
            rows.extend(read_batch(raw_dir, quote(batch), quote(parsed), state.root, readers))
            if progress:
                progress(len(rows), len(to_read))
    return _file_rows_frame(rows)


def _file_rows_frame(rows: list[FileRow]) -> pl.DataFrame:
    return pl.DataFrame(
        {name: [getattr(row, name) for row in rows] for name in _FILE_ROW_SCHEMA},
        schema=_FILE_ROW_SCHEMA,
    )


def _manifest(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.select(list(MANIFEST_SCHEMA))


def _summarise_files(
    summary: RunSummary, ledger: pl.DataFrame, tables: dict[str, pl.DataFrame]
) -> None:
    summary.files = dict(ledger.group_by("status").len().iter_rows())
    summary.quarantined = [
        (row["path"], row["reason"])
        for row in ledger.filter(pl.col("status") == "quarantined").iter_rows(named=True)
    ]
    summary.n_block_failures = tables["ingest_failure"].height


def _published_file_counts(counts: dict[str, int] | None, warehouse: Path) -> dict[str, int]:
    """Files per status in the published build: as kept beside its fingerprints, else
    counted in the warehouse (a build published before the counts were kept)."""
    if counts is not None:
        return counts
    with read_only(warehouse) as con:
        found = query_frame(con, "select status, count(*) from ingest_file group by status")
    return dict(found.iter_rows())


def nothing_changed(raw_dir: Path, warehouse: Path) -> RunSummary | None:
    """The summary of a run that would find nothing to do, or None when something changed or
    this cannot be told cheaply.

    Lists the raw folder and compares each file's size and modification time with the
    manifest of the published build, then both fingerprints (code and inputs) with the ones
    the build was made from. No raw file is opened and no flow run is needed: a scheduled
    run over an unchanged landing zone costs one listing.
    """
    return look_for_changes(raw_dir, warehouse)[0]


def look_for_changes(raw_dir: Path, warehouse: Path) -> tuple[RunSummary | None, Listing | None]:
    """`nothing_changed`, and the listing it took (None when it took none), for the flow run
    that follows when something changed (`handing_over`)."""
    started = time.perf_counter()
    state = State.for_warehouse(warehouse)
    if not (state.root / "published.txt").exists():
        return None, None
    files = discover_frame(raw_dir)
    listing = Listing(Path(raw_dir).resolve(), files, time.perf_counter() - started)
    summary = _unchanged_summary(files, state, warehouse)
    if summary is not None:
        summary.seconds["discover"] = time.perf_counter() - started
    return summary, listing


def _unchanged_summary(files: pl.DataFrame, state: State, warehouse: Path) -> RunSummary | None:
    """`nothing_changed` for the files as discovered."""
    published, counts = _read_published(state)
    if published is None or not warehouse.exists() or not state.manifest_path.exists():
        return None
    if published[0] != code_fingerprint():
        return None
    manifest = state.read_manifest()
    if files.height != manifest.height:
        return None
    # A file the last read skipped (a link, too large, a name that is not text) is skipped
    # again for the same reason; every other file must be the one the manifest knows.
    rows = _with_known(files, manifest)
    readable = rows.filter(pl.col("skip_reason").is_null())
    if not readable.select(
        (pl.col("sha256").is_not_null() & _AS_KNOWN).fill_null(False).all()
    ).item():
        return None
    rows = rows.with_columns(sha256=pl.when(pl.col("skip_reason").is_null()).then("sha256"))
    if input_fingerprint(rows.select(list(_FILE_ROW_SCHEMA))) != published[1]:
        return None
    summary = RunSummary(warehouse=str(warehouse), published=True, changed=False)
    summary.files = _published_file_counts(counts, warehouse)
    return summary


def _check_disk(state: State, warehouse: Path) -> None:
    state.build_dir.mkdir(parents=True, exist_ok=True)
    published = warehouse.stat().st_size if warehouse.exists() else 0
    cached = sum(p.stat().st_size for p in state.parsed.rglob("*.parquet"))
    # The new build, its copy while loading, and a new memo of the normalisation.
    memo = sum(p.stat().st_size for p in state.memo.glob("*.parquet"))
    needed = max(_MIN_FREE_BYTES, 2 * published + memo, 3 * cached)
    free = free_bytes(state.build_dir)
    if free < needed:
        raise NotEnoughDisk(
            f"only {free / 1e6:,.0f} MB free in {state.build_dir}, the build needs about "
            f"{needed / 1e6:,.0f} MB: the published warehouse is left as it was"
        )


def _counts_and_write_out(build: Path) -> dict[str, int]:
    """Rows per table; then the build is written out to its file, whole."""
    with connect_build(build) as con:
        counts = table_counts(con)
        con.execute("checkpoint")
        return counts


def _describe_failed_checks(results: list[models.CheckResult]) -> str:
    parts = []
    for result in results:
        if result.n_violations:
            sample = "; ".join(str(row) for row in result.sample[:3])
            parts.append(f"{result.name}: {result.n_violations} violating rows, e.g. {sample}")
    return "data checks failed (the previous warehouse stays published): " + " | ".join(parts)


def _read_published(state: State) -> tuple[tuple[str, str] | None, dict[str, int] | None]:
    """`published.txt`: the published build's code and input fingerprints (first line) and its
    files per status (second line, JSON; absent for builds published before it was kept)."""
    path = state.root / "published.txt"
    if not path.exists():
        return None, None
    lines = path.read_text().splitlines()
    parts = lines[0].split() if lines else []
    fingerprints = (parts[0], parts[1]) if len(parts) == 2 else None
    counts = None
    if len(lines) == 2:
        with suppress(ValueError):
            counts = json.loads(lines[1])
    if not (isinstance(counts, dict) and all(isinstance(n, int) for n in counts.values())):
        counts = None
    return fingerprints, counts


def _write_published_fingerprints(
    state: State, fingerprints: tuple[str, str], files: dict[str, int]
) -> None:
    temporary = state.root / f"published.txt.tmp-{os.getpid()}"
    temporary.write_text(" ".join(fingerprints) + "\n" + json.dumps(files, sort_keys=True))
    os.replace(temporary, state.root / "published.txt")


def _finish(summary: RunSummary, warehouse: Path) -> None:
    try:
        create_markdown_artifact(
            key="ingest-summary", markdown=summary.to_markdown(), description="Ingest run summary"
        )
    except Exception as error:  # the artifact is a courtesy; the run's result stands
        get_run_logger().warning("could not attach the run summary artifact: %s", error)
