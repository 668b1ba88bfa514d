"""The only module that talks to DuckDB: building, documenting, publishing and reading.

A build writes a new DuckDB file in the state folder; publishing renames it over the published
file in one atomic step. A reader holding the published file open keeps reading the build it
opened (the old inode) and never blocks the writer; a new connection sees the new build.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Final

import duckdb
import polars as pl

_IDENTIFIER: Final = re.compile(r"[a-z_][a-z0-9_]*")

# Every core table and column, documented; `document()` refuses an undocumented column.
CORE_DOCS: Final[dict[str, tuple[str, dict[str, str]]]] = {
    "author": (
        "One row per author: profile owners and the people named in author lists.",
        {
            "author_id": "Stable text key (A + 16 hex digits), derived from the author's identity.",
            "display_name": "Name as shown: the owner's latest capture, else the most frequent spelling.",
            "name_key": "Name folded for matching: NFKC, accents and case folded, punctuation collapsed.",
            "kind": "profile_owner (has a captured profile) or name_only (known from author lists).",
            "n_profiles": "Number of captured profiles (snapshots) of this author.",
        },
    ),
    "paper": (
        "One row per distinct paper, deduplicated across files, profiles and sources.",
        {
            "paper_id": "Stable text key (P + 16 hex digits) from the paper's strongest identifier.",
            "title": "Title as shown by the latest observation.",
            "title_key": "Title folded for matching (case, accents, punctuation ignored).",
            "published_on": "Publication date; null when unknown or impossible (e.g. Feb 30).",
            "published_year": "Publication year; null when unknown.",
            "is_year_inferred": "True when the dump showed no year and it was taken from the capture date.",
            "category": "arXiv category id such as cs.LG, or the raw code when it is no known category.",
            "category_raw": "The category code as the dump shows it (e.g. LG).",
            "is_category_known": "False when the raw code names no arXiv category (kept verbatim).",
            "is_category_ambiguous": "True when the short code names categories in several archives.",
            "has_code": "True when the latest observation marks released code.",
            "abstract": "Abstract as shown; null when absent.",
            "doi": "DOI, lower case, when a source states it.",
            "arxiv_id": "arXiv identifier, when a source states it.",
            "n_authors_listed": "Longest author list any observation shows.",
            "is_author_list_truncated": "True when every observation cut the list at et al.",
            "n_observations": "Number of times the paper was seen across raw files.",
            "first_seen_at": "Earliest capture that shows the paper.",
            "last_seen_at": "Latest capture that shows the paper.",
            "n_citations": "Latest known citation count; null when no source gave one.",
            "n_citations_source": "Source of n_citations.",
            "n_citations_observed_at": "When n_citations was observed.",
        },
    ),
    "authorship": (
        "One row per (paper, author).",
        {
            "paper_id": "The paper.",
            "author_id": "The author.",
            "author_position": "1-based position in the author list; null when hidden behind et al.",
            "is_inferred": "True when the row comes from the profile owner being an author of every paper on their page.",
        },
    ),
    "paper_topic": (
        "One row per (paper, topic scheme, topic).",
        {
            "paper_id": "The paper.",
            "scheme": "Topic scheme: arxiv (category), openalex_topic, s2_field.",
            "topic": "Topic within the scheme.",
        },
    ),
    "paper_citation": (
        "One row per citation-count observation: (paper, source, observed at).",
        {
            "paper_id": "The paper.",
            "source": "Source that reported the count.",
            "observed_at": "When the source's dump was captured.",
            "n_citations": "Citation count the source reported.",
            "sha256": "Content hash of the raw file that reported it.",
        },
    ),
    "author_source_id": (
        "One row per (author, id scheme, id): the crosswalk of source author ids and ORCIDs.",
        {
            "author_id": "The warehouse's author.",
            "scheme": "openalex, semantic_scholar, google_scholar or orcid.",
            "source_id": "The author's id in that scheme (e.g. A5017898742, 2262347, 0000-0002-...).",
        },
    ),
    "profile_snapshot": (
        "One row per captured profile: the metrics a source reported at capture time.",
        {
            "snapshot_id": "Stable text key of the capture (S + 16 hex digits).",
            "author_id": "The profile's owner.",
            "captured_at": "Capture time: the dump's own date, a YYYY-MM-DD folder, or the file mtime (UTC).",
            "source": "scholarfeed, openalex, semantic_scholar or google_scholar.",
            "display_name": "Name shown on the profile.",
            "h_index": "h-index as reported; null when the dump lacks it.",
            "i10_index": "i10-index as reported; null when the dump lacks it.",
            "n_papers": "Paper count as reported in the header; null when absent.",
            "n_citations": "Citation count as reported; null when absent.",
            "novelty_pct": "Scholar Feed novelty percentage; null when absent.",
            "ai_score": "Scholar Feed AI score; null when absent.",
            "n_papers_listed": "The page's '<n> Papers' heading; null when absent.",
            "n_papers_read": "Paper blocks actually read from the dump.",
            "primary_category": "Primary category code shown on the profile.",
            "source_author_id": "The source's own author id, when it has one.",
            "sha256": "Content hash of the raw file.",
            "path": "Raw file path, relative to the raw folder.",
            "line": "Line of the profile header in the raw file.",
        },
    ),
    "profile_paper": (
        "One row per (captured profile, paper listed on it).",
        {
            "snapshot_id": "The capture.",
            "author_id": "The page owner.",
            "paper_id": "A paper on the page.",
            "line": "Line of the paper's block in the raw file.",
        },
    ),
    "paper_observation": (
        "One row per paper as one raw file shows it: the provenance behind every paper row.",
        {
            "paper_id": "The paper this observation was resolved to.",
            "sha256": "Content hash of the raw file.",
            "path": "Raw file path, relative to the raw folder.",
            "line": "Line where the paper's record starts.",
            "source": "Source of the dump.",
            "source_paper_id": "The source's own paper id, when it has one.",
            "title": "Title as this file shows it.",
            "published_on": "Date as resolved for this observation.",
            "published_year": "Year as resolved for this observation.",
            "date_text": "Date text as the dump shows it.",
            "category_raw": "Category code as shown.",
            "has_code": "Code flag as shown.",
            "n_citations": "Citation count as shown; null when absent.",
            "n_authors_listed": "Number of names listed.",
            "authors_truncated": "True when the list was cut at et al.",
            "affiliation": "Affiliation shown after the author list (after a middle dot), if any.",
            "captured_at": "Capture time of the file.",
            "flags": "Doubts the reader recorded (e.g. impossible_date, title_split_guessed).",
        },
    ),
    "ingest_file": (
        "One row per raw file in the landing zone: loaded, duplicate or quarantined.",
        {
            "path": "Path relative to the raw folder.",
            "sha256": "SHA-256 of the content; null when the file was not read (e.g. a link).",
            "status": "loaded, duplicate (same bytes as a loaded file) or quarantined.",
            "reason": "Why quarantined, or which file a duplicate repeats.",
            "format": "Detected format of a loaded file.",
            "n_papers": "Paper records read from the file.",
            "n_failures": "Blocks that could not be read (see ingest_failure).",
            "size_bytes": "File size in bytes.",
            "modified_at": "File modification time (UTC).",
            "captured_at": "Capture time used for the file's facts.",
        },
    ),
    "ingest_failure": (
        "One row per part of a loaded file that could not be read, with the reason.",
        {
            "sha256": "Content hash of the raw file.",
            "path": "Raw file path.",
            "line": "Line where the unreadable part starts.",
            "reason": "Why it could not be read.",
            "text": "The unreadable text (first 500 characters).",
        },
    ),
    "warehouse_info": (
        "One row describing this build of the warehouse.",
        {
            "built_at": "When this build was published (UTC).",
            "code_fingerprint": "Hash of the reader, normaliser and SQL code that built it.",
            "input_fingerprint": "Hash of the raw files' paths and contents it was built from.",
            "n_files": "Raw files in the landing zone.",
        },
    ),
}


def sql_literal(text: str) -> str:
    """Quote a string literal for DDL that takes no parameters (COMMENT ON).

    Only for texts from this repository (documentation), never raw data.
    """
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A table or column name from our own schema, checked before it reaches SQL text."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


_SLICE_BYTES: Final = 64 * 1024 * 1024
# DuckDB's rows per row group (its default `row_group_size`).
_ROW_GROUP_ROWS: Final = 122_880
# A text column whose values average this many bytes or more (abstracts, titles, content
# hashes) is stored with zstd. DuckDB's own choice for texts, dictionary with FSST, took
# most of a full load's time on them: at 10^5 profiles the core tables loaded in 4.7-5.3 s
# into 217 MB, against 3.2-3.3 s into 132 MB (one thread); a scan of every abstract took
# 141 ms against 129 ms, and ids and categories, short, keep DuckDB's choice.
_LONG_TEXT_BYTES: Final = 64
# The column types `_create_with_zstd` writes back into SQL: plain, or lists of plain.
_PLAIN_TYPE: Final = re.compile(r"[A-Z][A-Z0-9_ ]*(\[\])*")


def create_table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Create a table from a frame (through Arrow) and document it from CORE_DOCS; long
    texts are stored with zstd (`_LONG_TEXT_BYTES`).

    A large frame goes in slices of about `_SLICE_BYTES`, or of a row group per DuckDB
    thread if that is more (`_slice_rows`): its Arrow copy (texts are copied) then never
    holds more than one slice at a time.
    """
    long_texts = [
        column
        for column, dtype in frame.schema.items()
        if dtype == pl.String and (frame[column].str.len_bytes().mean() or 0) >= _LONG_TEXT_BYTES
    ]
    rows = 0 if long_texts else _slice_rows(con, frame)
    con.from_arrow(frame.slice(0, rows).to_arrow()).create(identifier(name))
    if long_texts:
        _create_with_zstd(con, name, long_texts)
    insert_rows(con, name, frame.slice(rows))
    if name in CORE_DOCS:
        comment, columns = CORE_DOCS[name]
        document(con, name, comment, columns)


def _create_with_zstd(con: duckdb.DuckDBPyConnection, name: str, columns: list[str]) -> None:
    """Make the empty table `name` anew with the same columns, `columns` compressed with
    zstd (DuckDB sets a column's compression only when the table is created). A table with
    a column of another type than `_PLAIN_TYPE` is left as it is."""
    found = con.execute(
        "select column_name, data_type from duckdb_columns() where table_name = ? "
        "and database_name = current_database() and schema_name = current_schema() "
        "order by column_index",
        [name],
    ).fetchall()
    if not all(_PLAIN_TYPE.fullmatch(data_type) for _, data_type in found):
        return
    definitions = ", ".join(
        f'"{identifier(column)}" {data_type}' + (" using compression zstd" * (column in columns))
        for column, data_type in found
    )
    con.execute(f"create or replace table {identifier(name)} ({definitions})")


def insert_rows(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Append a frame's rows to a table whose columns it has, in the same order (in slices,
    as `create_table`)."""
    rows = _slice_rows(con, frame)
    for offset in range(0, frame.height, rows):
        con.from_arrow(frame.slice(offset, rows).to_arrow()).insert_into(identifier(name))


def _slice_rows(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    """Rows per slice: about `_SLICE_BYTES`, but a row group for each of DuckDB's threads
    (an insert compresses its row groups in parallel, one per thread), up to four times as
    many bytes."""
    by_bytes = int(frame.height * _SLICE_BYTES / max(1, frame.estimated_size()))
    if by_bytes >= frame.height:
        return max(1, by_bytes)  # one slice whatever the threads: DuckDB is not asked
    [(threads,)] = con.execute("select current_setting('threads')").fetchall()
    per_thread = min(int(threads) * _ROW_GROUP_ROWS, 4 * by_bytes)
    return max(1, by_bytes, per_thread)


def document(
    con: duckdb.DuckDBPyConnection, table: str, comment: str, columns: dict[str, str]
) -> None:
    """COMMENT ON the table and each column; every column must have a text."""
    actual = [
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() where table_name = ? order by column_index",
            [table],
        ).fetchall()
    ]
    missing = [column for column in actual if column not in columns]
    if missing:
        raise ValueError(f"table {table}: undocumented columns {missing}")
    con.execute(f"comment on table {identifier(table)} is {sql_literal(comment)}")
    for column in actual:
        con.execute(
            f"comment on column {identifier(table)}.{identifier(column)} "
            f"is {sql_literal(columns[column])}"
        )


# A build's buffers are bounded: beyond the limit DuckDB writes them out to the build file or
# spills to a temporary folder beside it, instead of holding the whole warehouse in memory
# while it loads and runs the models (its own default is 80% of the machine's memory).
BUILD_MEMORY_LIMIT: Final = os.environ.get("SCHOLARHOUSE_BUILD_MEMORY_LIMIT", "1GB")
_BUILD_CONFIG: Final = {"autoinstall_known_extensions": False, "memory_limit": BUILD_MEMORY_LIMIT}
# The progress bar is a per-connection setting: DuckDB refuses it in the connect config.
_NO_PROGRESS_BAR: Final = "set enable_progress_bar = false"
# Open build databases by file (see `build_session`).
_SESSIONS: Final[dict[str, duckdb.DuckDBPyConnection]] = {}


def connect_build(path: Path, *, new: bool = False) -> duckdb.DuckDBPyConnection:
    """A read-write connection to a build file; `new` removes a stale one first.

    Inside `build_session(path)` it is a new connection to the session's open database.
    """
    session = _SESSIONS.get(str(path))
    if session is not None:
        if new:
            raise RuntimeError(f"{path} is open in a build session: it cannot be made anew")
        con = session.cursor()
        con.execute(_NO_PROGRESS_BAR)
        return con
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
    con = duckdb.connect(str(path), config=dict(_BUILD_CONFIG))
    con.execute(_NO_PROGRESS_BAR)
    return con


@contextmanager
def build_session(path: Path, *, existing: bool = False) -> Iterator[None]:
    """Create a new build file (or open `existing` one: a copy of the published build) and
    keep its database open until the session ends.

    The build's steps (load, each model, the checks) still connect one by one, and get
    connections to this one open database: tables stay in DuckDB's buffers between steps
    instead of being written, closed and read back for every model, and the file is written
    out once, when the session ends.
    """
    key = str(path)
    if key in _SESSIONS:
        raise RuntimeError(f"a build session on {path} is already open")
    if existing and not path.is_file():
        raise FileNotFoundError(f"no build file {path} to continue")
    con = connect_build(path, new=not existing)
    _SESSIONS[key] = con
    try:
        yield
    finally:
        del _SESSIONS[key]
        con.close()


def publish(build: Path, target: Path) -> threading.Thread | None:
    """Atomically replace the published warehouse with a finished, closed build file.

    The file replaced is removed in a background thread, returned (None when there was
    none): freeing a 350 MB file's blocks took 0.24 s inside the replace. Until then it
    stays linked beside the build, in the folder the next run clears.
    """
    with build.open("rb") as handle:
        os.fsync(handle.fileno())
    target.parent.mkdir(parents=True, exist_ok=True)
    # A write-ahead log left by someone else's read-write session belongs to the old file.
    Path(f"{target}.wal").unlink(missing_ok=True)
    replaced: Path | None = build.with_name(f"{build.name}.replaced")
    try:
        os.link(target, replaced)
    except OSError:
        replaced = None  # no file yet, or no link here: the replace frees it
    os.replace(build, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    if replaced is None:
        return None
    removing = threading.Thread(target=_remove, args=(replaced,), name="remove-replaced")
    removing.start()
    return removing


def _remove(path: Path) -> None:
    with suppress(OSError):  # the next run clears the folder
        path.unlink(missing_ok=True)


def free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


@contextmanager
def read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A locked-down read-only connection for ad-hoc queries.

    No file access outside the warehouse (no read_csv of /etc/passwd, no COPY TO, no ATTACH),
    no extension installation or loading, and configuration locked so a query cannot lift it.
    """
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `scholarhouse ingest` first")
    con = duckdb.connect(
        str(path),
        read_only=True,
        config={
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
        },
    )
    try:
        # Locked last: after the lock no setting can change, the per-connection ones included.
        con.execute(_NO_PROGRESS_BAR)
        con.execute("set lock_configuration = true")
        yield con
    finally:
        con.close()


def query_frame(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: list[object] | None = None
) -> pl.DataFrame:
    """Run one query (values as parameters) and return its result as a polars frame."""
    relation = con.sql(sql, params=parameters) if parameters else con.sql(sql)
    if relation is None:  # a statement that returns no rows
        return pl.DataFrame()
    return relation.pl()


def read_table(path: Path, table: str) -> pl.DataFrame:
    """A whole table of the published warehouse as a frame (used for the file ledger)."""
    with read_only(path) as con:
        return con.table(identifier(table)).pl()


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of the main schema, by name."""
    return [
        row[0]
        for row in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' order by 1"
        ).fetchall()
    ]


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per table in the main schema, counted in one query (a query per table took
    0.065 s of a run that adds 1% of files at 10^5 profiles)."""
    names = table_names(con)
    if not names:
        return {}
    # Only checked identifiers are formatted into the statement; each table's name is a
    # parameter.
    counts = " union all ".join(
        f"select ?::varchar as name, count(*) as n from {identifier(name)}"  # noqa: S608
        for name in names
    )
    counted = dict(con.execute(counts, names).fetchall())
    return {name: counted[name] for name in names}


def export_parquet(warehouse: Path, out_dir: Path, tables: tuple[str, ...]) -> list[Path]:
    """Write each table as `<out_dir>/<table>.parquet` for tools without a DuckDB driver."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with read_only(warehouse) as con:
        for table in tables:
            frame = con.table(identifier(table)).pl()
            target = out_dir / f"{table}.parquet"
            frame.write_parquet(target)
            written.append(target)
    return written
