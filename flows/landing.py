"""The landing zone: finding raw files, their capture times, hashing and reading them.

Files are found recursively under the raw folder. Symbolic links and anything that resolves
outside the folder are never opened: they are reported with a reason. Raw files are only ever
opened for reading.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from flows.formats import MAX_FILE_BYTES, read_dump
from flows.formats.records import ParsedFile, Quarantine

# A folder named YYYY-MM-DD in a file's path states its capture date (git keeps no mtimes).
_DATE_FOLDER: Final = r"^\d{4}-\d{2}-\d{2}$"
_LINK_REASON: Final = "symbolic link: not followed"
# From this many files on, `file_stats` asks pyarrow (importing it takes 0.1 s).
_STAT_IN_BULK_FROM: Final = 20_000
_log = logging.getLogger(__name__)
RAW_FILE_SCHEMA: Final = {
    "path": pl.String(),
    "size_bytes": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "skip_reason": pl.String(),
}


@dataclass(frozen=True, slots=True)
class RawFile:
    """One entry of the landing zone; `skip_reason` set when it must not be read."""

    path: str  # relative to the raw folder, POSIX separators
    size_bytes: int
    mtime_ns: int
    skip_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What reading one raw file gave: its content hash and, when parsed, its records."""

    path: str
    size_bytes: int
    mtime_ns: int
    sha256: str
    parsed: ParsedFile | Quarantine | None  # None: content already parsed in an earlier run


@dataclass(frozen=True, slots=True)
class FileRow:
    """One file's outcome of the read stage (small: this is what crosses process bounds)."""

    path: str
    size_bytes: int
    mtime_ns: int
    sha256: str | None
    skip_reason: str | None


def read_batch_into_cache(
    raw_dir: Path, batch: list[RawFile], known: frozenset[str], state_root: Path, readers: str
) -> list[FileRow]:
    """Hash a batch of files and parse the contents not parsed before into the cache.

    Plain Python (no Prefect), so process-pool and Dask workers run it without start-up cost.
    `readers` is the flow's `reader_fingerprint`: a worker whose readers differ (another
    version of the package on a cluster's machine) refuses the batch, as the flow would not
    find what it parsed (the cache keeps each readers' frames apart).
    """
    from flows.cache import ReadersDiffer, State

    # The cache folder a worker writes to is named by its own readers' fingerprint.
    state = State(state_root)
    if (own := state.parsed.name) != readers:
        raise ReadersDiffer(
            f"this worker's readers ({own}) are not the flow's ({readers}): install the same "
            "scholarhouse version on every machine that reads"
        )
    root = str(raw_dir.resolve())
    # One file after another: batches are read by several processes at once already, and
    # threads reading cached files here would contend for the interpreter (twice as slow).
    rows: list[FileRow] = []
    new: dict[str, bytes] = {}
    for raw in batch:
        data = _fetch(raw_dir, raw, root)
        if isinstance(data, Quarantine):
            rows.append(FileRow(raw.path, raw.size_bytes, raw.mtime_ns, None, data.reason))
            continue
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 not in known:
            new.setdefault(sha256, data)
        rows.append(FileRow(raw.path, len(data), raw.mtime_ns, sha256, None))
    if new:
        state.write_batch(parse_contents(list(new.items())))
    return rows


def parse_contents(contents: list[tuple[str, bytes]]) -> dict[str, pl.DataFrame]:
    """The parsed frames of (sha256, bytes) contents: profile pages in the usual layout read
    together with polars, every other content by its format's reader."""
    from flows.formats.frames import empty_frames, to_frames
    from flows.formats.profile_page_frames import read_profile_pages

    try:
        frames, others = read_profile_pages(contents)
    except pl.exceptions.PolarsError as error:
        # The line-by-line reader is the reference: the batch is read by it, nothing lost.
        _log.warning(
            "batch reader failed (%s); reading %d contents one by one", error, len(contents)
        )
        frames, others = empty_frames(), list(range(len(contents)))
    if not others:
        return frames
    rest = to_frames((contents[i][0], _parse(contents[i][1])) for i in others)
    return {name: pl.concat([frames[name], rest[name]]) for name in frames}


def discover(raw_dir: Path) -> list[RawFile]:
    """Every file under raw_dir, sorted by path; links and escapes are marked, not followed."""
    return [RawFile(*row) for row in discover_frame(raw_dir).iter_rows()]


def discover_frame(raw_dir: Path) -> pl.DataFrame:
    """`discover` as a frame (path, size_bytes, mtime_ns, skip_reason), sorted by path.

    Built column by column: a landing zone holds 10^5 files, and a record per file costs
    more than listing it. A file that goes between the listing of its folder and its `stat`
    is not listed (the next run sees the folder as it is then).
    """
    root = str(raw_dir.resolve())
    prefix = len(root.rstrip("/")) + 1
    regular: list[str] = []
    skipped: list[RawFile] = []
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as error:
            reason = f"folder cannot be listed: {error.strerror}"
            skipped.append(_skipped(folder, folder[prefix:] or ".", reason))
            continue
        # Regular files first: 10^5 of them, each tested once (a link is neither a file nor a
        # folder here, as `follow_symlinks=False` tests the entry itself).
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                regular.append(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            elif entry.is_symlink():
                skipped.append(_skipped(entry.path, entry.path[prefix:], _LINK_REASON))
            else:
                skipped.append(_skipped(entry.path, entry.path[prefix:], "not a regular file"))
    sizes, mtimes = file_stats(regular)
    if None in sizes:
        kept = [i for i, size in enumerate(sizes) if size is not None]
        regular, sizes, mtimes = ([column[i] for i in kept] for column in (regular, sizes, mtimes))
    paths = [path[prefix:] for path in regular]
    reasons = [None if size <= MAX_FILE_BYTES else _too_large(size) for size in sizes]
    for raw in skipped:
        paths.append(raw.path)
        sizes.append(raw.size_bytes)
        mtimes.append(raw.mtime_ns)
        reasons.append(raw.skip_reason)
    try:
        "".join(paths).encode("utf-8")
    except UnicodeEncodeError:
        texts = [
            _with_text_name(RawFile(*row))
            for row in zip(paths, sizes, mtimes, reasons, strict=True)
        ]
        paths = [raw.path for raw in texts]
        reasons = [raw.skip_reason for raw in texts]
    # Names are valid text now: sorting their UTF-8 bytes sorts them as Python sorts them.
    return pl.DataFrame(
        {"path": paths, "size_bytes": sizes, "mtime_ns": mtimes, "skip_reason": reasons},
        schema=RAW_FILE_SCHEMA,
    ).sort("path")


def file_stats(paths: list[str]) -> tuple[list[int | None], list[int | None]]:
    """The size and modification time (ns) of each regular file of `paths`; None for one
    that is gone or no longer a regular file.

    From `_STAT_IN_BULK_FROM` files on they are asked of pyarrow's file system, a part per
    core, each in its own thread: the calls leave the interpreter, so the cores' `stat`s
    overlap. At 10^5 files on two cores: 0.15 s, against 0.35 s one call after another.
    """
    if len(paths) >= _STAT_IN_BULK_FROM:
        try:
            return _bulk_stats(paths)
        except (OSError, UnicodeError):
            pass  # a name pyarrow cannot take, or an error: each file's own error, below
    sizes: list[int | None] = []
    mtimes: list[int | None] = []
    for path in paths:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            info = None
        regular = info is not None and stat.S_ISREG(info.st_mode)
        sizes.append(info.st_size if regular else None)
        mtimes.append(info.st_mtime_ns if regular else None)
    return sizes, mtimes


def _bulk_stats(paths: list[str]) -> tuple[list[int | None], list[int | None]]:
    from pyarrow import fs

    local = fs.LocalFileSystem()
    step = -(-len(paths) // usable_cores())
    parts = [paths[start : start + step] for start in range(0, len(paths), step)]
    with ThreadPoolExecutor(len(parts)) as pool:
        infos = [info for part in pool.map(local.get_file_info, parts) for info in part]
    # Only a regular file has a size (`type` makes an enum each time: 3 us a file). A name
    # replaced by a link since it was listed is followed here; reading never follows one.
    sizes = [info.size for info in infos]
    mtimes = [info.mtime_ns for info in infos]
    kept = [None if size is None else mtime for size, mtime in zip(sizes, mtimes, strict=True)]
    return sizes, kept


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the system tells it)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def capture_times(path: pl.Expr, mtime_ns: pl.Expr) -> pl.Expr:
    """Capture time of each file: the innermost valid `YYYY-MM-DD` folder in its path wins;
    otherwise its modification time (UTC)."""
    # Worked out once per folder: 10^5 files lie in a few folders, and splitting every path
    # took 0.14 s of 10^5 paths in path order against 0.03 s this way.
    folder = path.str.replace(r"/?[^/]*$", "")
    folders = folder.unique(maintain_order=True)
    return pl.coalesce(
        folder.replace_strict(folders, _innermost_date(folders), return_dtype=pl.Date).cast(
            pl.Datetime("us")
        ),
        pl.from_epoch(mtime_ns, time_unit="ns").cast(pl.Datetime("us")),
    )


def _innermost_date(folder: pl.Expr) -> pl.Expr:
    """The innermost valid `YYYY-MM-DD` part of each folder path; null when none is."""
    return (
        folder.str.split("/")
        .list.eval(
            pl.element()
            .filter(pl.element().str.contains(_DATE_FOLDER))
            .str.to_date("%Y-%m-%d", strict=False)
            .drop_nulls()
        )
        .list.last()
    )


def read_raw_file(
    raw_dir: Path, raw: RawFile, known_sha256: frozenset[str], root: str | None = None
) -> ReadResult:
    """Hash a file and parse it unless its content was parsed before.

    `root` is `raw_dir` resolved, when the caller has it already (one resolve per batch).
    """
    return _parse_fetched(raw, _fetch(raw_dir, raw, root), known_sha256)


def _fetch(raw_dir: Path, raw: RawFile, root: str | None) -> bytes | Quarantine:
    """The file's bytes, or why it is not read."""
    if raw.skip_reason is not None:
        return Quarantine(raw.skip_reason)
    try:
        return _read_inside(root or str(raw_dir.resolve()), f"{raw_dir}/{raw.path}")
    except OSError as error:
        return Quarantine(f"cannot be read: {error.strerror or error}")


def _parse_fetched(
    raw: RawFile, data: bytes | Quarantine, known_sha256: frozenset[str]
) -> ReadResult:
    if isinstance(data, Quarantine):
        return ReadResult(raw.path, raw.size_bytes, raw.mtime_ns, "", data)
    sha256 = hashlib.sha256(data).hexdigest()
    if sha256 in known_sha256:
        return ReadResult(raw.path, len(data), raw.mtime_ns, sha256, None)
    return ReadResult(raw.path, len(data), raw.mtime_ns, sha256, _parse(data))


def _parse(data: bytes) -> ParsedFile | Quarantine:
    """One content read by its format's reader, or why it cannot be."""
    try:
        return read_dump(data)
    except Quarantine as quarantine:
        return quarantine
    except RecursionError:
        return Quarantine("nesting too deep to read")


def _read_inside(root: str, full: str) -> bytes:
    """Open without following a link that appeared since discovery (O_NOFOLLOW)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(full, flags)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(0, "not a regular file")
        if not _is_within(_opened_path(descriptor, full), root):
            raise OSError(0, "resolves outside the raw folder")
        chunks = []
        total = 0
        while chunk := os.read(descriptor, 1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_FILE_BYTES:
                break
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _opened_path(descriptor: int, full: str) -> str:
    """Where the opened file really is: the kernel's name for the descriptor (one system call
    on Linux, and no race with a folder renamed meanwhile), else the resolved path."""
    try:
        # A plain string: two Path objects per file cost more than the read itself.
        name = os.readlink(f"/proc/self/fd/{descriptor}")  # noqa: PTH115
    except OSError:
        return os.path.realpath(full)
    if not name.startswith("/") or name.endswith(" (deleted)"):
        return os.path.realpath(full)
    return name


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _too_large(size: int) -> str:
    return f"file is {size:,} bytes (limit {MAX_FILE_BYTES:,})"


def _with_text_name(raw: RawFile) -> RawFile:
    """A name that is not valid UTF-8 cannot be stored as text (one such name would stop the
    whole run): it is recorded with \\x escapes and not read."""
    try:
        raw.path.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(raw.path).decode("utf-8", "backslashreplace")
        reason = (
            raw.skip_reason or "file name is not valid UTF-8 (shown with \\x escapes): not read"
        )
        return RawFile(shown, raw.size_bytes, raw.mtime_ns, reason)
    return raw


def _skipped(full: str, relative: str, reason: str) -> RawFile:
    try:
        info = os.lstat(full)
        size, mtime = info.st_size, info.st_mtime_ns
    except OSError:
        size, mtime = 0, 0
    return RawFile(relative, size, mtime, reason)
