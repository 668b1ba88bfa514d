"""The `scholarhouse` command: ingest, sql, serve, export, synth, fetch."""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Final

DEFAULT_RAW: Final = Path("data/raw")
DEFAULT_WAREHOUSE: Final = Path("data/warehouse/scholar.duckdb")
# `flows.ingest.DEFAULT_BATCH_FILES`, written out: the command imports the flow only when it
# runs one (its imports take seconds).
BATCH_FILES: Final = 4000
EXIT_CHECK_FAILED: Final = 1
EXIT_ERROR: Final = 3
CONTRACT_TABLES: Final = (
    "author", "paper", "authorship", "profile_snapshot", "ingest_file", "author_metrics",
    "coauthor_edge", "topic_year", "profile_cluster",
)  # fmt: skip
QUIET_POOL: Final = "sqlalchemy.pool"


def _quiet_local_prefect() -> None:
    """Offline, quiet defaults for a local Prefect (each can be overridden by the caller)."""
    defaults = {
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        # The temporary API server is stopped when the command exits, sometimes while it still
        # records the last task events (a history it would lose with it anyway); it then logs
        # tracebacks of the cancelled writes. Its own messages are shown when critical.
        "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_HOME": str(Path.home() / ".scholarhouse" / "prefect"),
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    # Prefect makes its home folder but not the folders above it: on a fresh machine
    # ~/.scholarhouse does not exist yet, and its temporary API server would fail to start.
    home = Path(os.environ["PREFECT_HOME"]).expanduser()
    with suppress(OSError):
        home.mkdir(parents=True, exist_ok=True)
        _quiet_database_pool(home)


def _quiet_database_pool(home: Path) -> None:
    """Use Prefect's own logging config with SQLAlchemy's pool shown when critical.

    The temporary API server can be stopped in the middle of a database write; the pool then
    logs the cancelled rollback as an error, with its traceback, through the root logger, which
    no Prefect setting quiets. The config is derived from the installed Prefect's and written
    again when that changes. A config the user chose (PREFECT_LOGGING_SETTINGS_PATH, or a
    logging.yml in the Prefect home) is left as it is."""
    target = home / "scholarhouse-logging.yml"
    chosen = os.environ.get("PREFECT_LOGGING_SETTINGS_PATH")
    if (chosen and Path(chosen) != target) or (home / "logging.yml").exists():
        return
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        return
    default = Path(spec.submodule_search_locations[0]) / "logging" / "logging.yml"
    stat = default.stat()
    stamp = f"# Prefect's logging.yml ({stat.st_size} bytes, mtime_ns {stat.st_mtime_ns}), {QUIET_POOL}\n"
    if not _starts_with(target, stamp):
        import yaml

        config = yaml.safe_load(default.read_text(encoding="utf-8"))
        config["loggers"][QUIET_POOL] = {"level": "CRITICAL"}
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=home, prefix=".logging-", suffix=".yml", delete=False
        ) as out:
            written = Path(out.name)
        try:
            written.write_text(stamp + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
            written.replace(target)
        finally:
            written.unlink(missing_ok=True)
    os.environ["PREFECT_LOGGING_SETTINGS_PATH"] = str(target)


def _starts_with(path: Path, first_line: str) -> bool:
    try:
        with path.open(encoding="utf-8") as text:
            return text.readline() == first_line
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    _quiet_local_prefect()
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        from flows.ingest import CheckFailed

        # One line: DuckDB hints, HTTP error bodies and the like span several.
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"scholarhouse {args.command}: {message}", file=sys.stderr)
        return EXIT_CHECK_FAILED if isinstance(error, CheckFailed) else EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scholarhouse", description="Researcher-profile dumps to a DuckDB warehouse."
    )
    commands = parser.add_subparsers(dest="command")

    ingest = commands.add_parser("ingest", help="run the ingest flow on the raw folder")
    ingest.add_argument("--raw", type=Path, default=DEFAULT_RAW, help="landing zone (data/raw)")
    _warehouse_option(ingest)
    ingest.add_argument("--rebuild", action="store_true", help="re-read every raw file")
    ingest.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes for reading"
    )
    ingest.add_argument(
        "--batch-files",
        type=int,
        default=BATCH_FILES,
        help=f"files per read task (default {BATCH_FILES})",
    )
    ingest.add_argument("--dask-address", help="read on this Dask scheduler (tcp://host:port)")
    ingest.add_argument(
        "--dask-local", type=int, metavar="N", help="read on a local Dask cluster of N workers"
    )
    ingest.set_defaults(handler=_ingest)

    sql = commands.add_parser("sql", help="one read-only query against the warehouse")
    sql.add_argument("query")
    _warehouse_option(sql)
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument("--max-rows", type=int, default=100, help="rows shown by --format table")
    sql.set_defaults(handler=_sql)

    serve = commands.add_parser("serve", help="serve the ingest flow on a cron schedule")
    serve.add_argument("--cron", default="0 * * * *", help="cron expression (default hourly)")
    serve.add_argument("--raw", type=Path, default=DEFAULT_RAW)
    _warehouse_option(serve)
    serve.add_argument(
        "--dry-run", action="store_true", help="print the deployment and exit without serving"
    )
    serve.set_defaults(handler=_serve)

    export = commands.add_parser("export", help="write every contract table as Parquet")
    export.add_argument("--parquet", type=Path, required=True, metavar="DIR")
    _warehouse_option(export)
    export.set_defaults(handler=_export)

    synth = commands.add_parser("synth", help="write synthetic profile pages")
    synth.add_argument("--profiles", type=int, required=True)
    synth.add_argument("--out", type=Path, required=True)
    synth.add_argument("--seed", type=int, default=0)
    synth.set_defaults(handler=_synth)

    fetch = commands.add_parser("fetch", help="download an author's dumps from an API")
    fetch.add_argument("source", choices=("openalex", "semantic-scholar"))
    fetch.add_argument("--author", required=True, help="the source's author id")
    fetch.add_argument("--raw", type=Path, default=DEFAULT_RAW)
    fetch.add_argument("--mailto", help="OpenAlex polite-pool e-mail")
    fetch.add_argument("--api-key", default=os.environ.get("S2_API_KEY"))
    fetch.set_defaults(handler=_fetch)
    return parser


def _warehouse_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE)


def _ingest(args: argparse.Namespace) -> int:
    if not args.raw.is_dir():  # before starting Prefect for nothing
        raise FileNotFoundError(f"raw folder {args.raw} does not exist")
    from flows.runner import run_ingest

    with _expected_errors_in_one_line():
        summary = run_ingest(
            raw_dir=args.raw,
            warehouse=args.warehouse,
            rebuild=args.rebuild,
            workers=args.workers,
            batch_files=args.batch_files,
            dask_address=args.dask_address,
            dask_local=args.dask_local,
            show_progress=sys.stderr.isatty(),
        )
    print(summary.to_markdown())
    return 0


@contextmanager
def _expected_errors_in_one_line() -> Iterator[None]:
    """Keep Prefect's console from printing expected failures (a failed data check, too
    little disk, another run holding the lock, a read worker of another version) as
    tracebacks: `main` says each in one line.
    The flow run's logs in the Prefect API keep the full record."""
    from prefect.logging.handlers import PrefectConsoleHandler

    from flows.cache import IngestLocked, ReadersDiffer
    from flows.ingest import CheckFailed, NotEnoughDisk

    expected = (CheckFailed, NotEnoughDisk, IngestLocked, ReadersDiffer)

    def unexpected(record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], expected))

    loggers = [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]
    handlers = {
        id(handler): handler
        for logger in loggers
        for handler in logger.handlers
        if isinstance(handler, PrefectConsoleHandler)
    }.values()
    for handler in handlers:
        handler.addFilter(unexpected)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(unexpected)


def _sql(args: argparse.Namespace) -> int:
    import polars as pl

    from flows.warehouse import query_frame, read_only

    with read_only(args.warehouse) as con:
        frame = query_frame(con, args.query)
    if args.format == "csv":
        sys.stdout.write(_flat(frame).write_csv())
    elif args.format == "json":
        json.dump(frame.to_dicts(), sys.stdout, default=str, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        with pl.Config(
            tbl_rows=args.max_rows, tbl_cols=-1, fmt_str_lengths=80, tbl_hide_dataframe_shape=False
        ):
            print(frame)
    return 0


def _flat(frame: object) -> object:
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    return frame.with_columns(
        pl.col(name).map_elements(lambda v: json.dumps(v, default=str), return_dtype=pl.String)
        for name in nested
    )


def _serve(args: argparse.Namespace) -> int:
    from flows.runner import deployment

    served = deployment(args.raw, args.warehouse, args.cron)
    if args.dry_run:
        print(f"deployment {served.name!r} of flow 'ingest', cron {args.cron!r}")
        print(json.dumps(served.parameters, default=str))
        return 0
    from prefect import serve

    serve(served)
    return 0


def _export(args: argparse.Namespace) -> int:
    from flows.warehouse import export_parquet

    for path in export_parquet(args.warehouse, args.parquet, CONTRACT_TABLES):
        print(path)
    return 0


def _synth(args: argparse.Namespace) -> int:
    from flows.synth import write_synthetic_profiles

    summary = write_synthetic_profiles(args.profiles, args.out, seed=args.seed)
    print(summary)
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from flows import fetch

    if args.source == "openalex":
        paths = fetch.fetch_openalex_author(args.author, args.raw, mailto=args.mailto)
    else:
        paths = fetch.fetch_semantic_scholar_author(args.author, args.raw, api_key=args.api_key)
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
