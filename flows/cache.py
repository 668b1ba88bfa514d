"""The run state beside the warehouse: parsed-content cache, file manifest and run lock.

Layout of `<warehouse>.state/`:
- `lock` — held (flock) by the running ingest; the kernel drops it when the process dies.
- `manifest.parquet` — path, size, mtime and sha256 of every raw file of the last good run,
  so unchanged files are recognised by size and mtime without reading them.
- `parsed/<reader fingerprint>/<table>/<batch>.parquet` — parsed frames keyed by content
  sha256. The fingerprint is a hash of the reader code: a changed reader re-parses. Each
  read batch adds a batch; at the end of a run many batches are merged into one, so a build
  reads a few files per table, not hundreds.
- `loaded/` — row digests of the published build, so the next build can load only the rows
  that changed (`flows.delta`).
- `normalised/` — the memo of the published build's normalisation, so the next run can add
  new files to it instead of normalising every file again (`flows.incremental`).
- `build/` — warehouse files being built; anything there at the start of a run is stale.
Every file is written to a temporary name and renamed, so a killed run leaves either the old
file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Final

import polars as pl

from flows.formats.frames import SCHEMAS

if TYPE_CHECKING:
    from polars._typing import ParquetCompression

_FORMATS_DIR: Final = Path(__file__).parent / "formats"
# Rows of these tables can repeat within one content (a topic listed twice, two failures
# alike): they are kept once, as always. Profiles, papers and mentions carry their index.
_MAY_REPEAT_ROWS: Final = frozenset({"parsed_file", "topic", "failure"})
# More small batches than this are merged into one at the end of a run. A batch of at least
# `_WHOLE_BATCH_CONTENTS` contents is kept as it is: a build scans 26 such batches at 10^5
# profiles as fast as one, and merging them would rewrite the whole cache (3 s there).
_MAX_BATCHES: Final = 8
_WHOLE_BATCH_CONTENTS: Final = 1000
MANIFEST_SCHEMA: Final = {
    "path": pl.String(),
    "size_bytes": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "sha256": pl.String(),
}
# The `parsed_file` rows of each batch read in this process, by folder and batch. A batch is
# named by a hash of its sorted contents (`State.write_batch`) and the folder by the readers
# that parsed them, so a batch of that name there always holds the same rows: a run reads
# them once, not once per lookup.
_BATCH_FILES: dict[tuple[str, str], pl.DataFrame] = {}
# zstd's fastest level for the batches: each read process writes one per batch of files, and
# level 1 took 33-41 ms a batch against 43-55 ms at polars' default (3), for 3% more bytes.
_BATCH_ZSTD_LEVEL: Final = 1
# The last manifest this process read, by the version of its file (path, inode, size, times:
# a manifest is always written anew and renamed into place).
_MANIFEST_READ: dict[tuple[str, int, int, int, int], pl.DataFrame] = {}


class IngestLocked(RuntimeError):
    """Another ingest holds the warehouse's lock."""


class ReadersDiffer(RuntimeError):
    """A process reading a batch runs other readers than the flow that asked it to."""


def reader_fingerprint() -> str:
    """A hash of the reader code: parsed content is reused only by the same readers."""
    digest = hashlib.sha256()
    for path in sorted(_FORMATS_DIR.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class State:
    """The state folder of one warehouse file."""

    root: Path

    @classmethod
    def for_warehouse(cls, warehouse: Path) -> State:
        return cls(warehouse.parent / f".{warehouse.name}.state")

    @cached_property
    def parsed(self) -> Path:
        # Hashing the reader code once per State, not once per file name built from it.
        return self.root / "parsed" / reader_fingerprint()

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def digests(self) -> Path:
        """Row digests of the published build (`flows.delta`)."""
        return self.root / "loaded"

    @property
    def memo(self) -> Path:
        """The memo of the published build's normalisation (`flows.incremental`)."""
        return self.root / "normalised"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.parquet"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the run lock; a second concurrent ingest fails at once, clearly."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "lock").open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IngestLocked(
                    f"another ingest is running on this warehouse (lock {self.root / 'lock'})"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def clear_stale(self) -> None:
        """Remove what a killed run left: builds in progress and temporary files."""
        shutil.rmtree(self.build_dir, ignore_errors=True)
        for leftover in self.root.rglob("*.tmp-*"):
            leftover.unlink(missing_ok=True)

    def reset(self) -> None:
        """Forget everything cached (used by --rebuild)."""
        shutil.rmtree(self.root / "parsed", ignore_errors=True)
        shutil.rmtree(self.digests, ignore_errors=True)
        shutil.rmtree(self.memo, ignore_errors=True)
        self.manifest_path.unlink(missing_ok=True)

    def read_manifest(self) -> pl.DataFrame:
        """The manifest; read once per version of its file (a run reads it up to three times:
        0.02-0.03 s each at 10^5 files)."""
        try:
            stat = self.manifest_path.stat()
        except FileNotFoundError:
            return pl.DataFrame(schema=MANIFEST_SCHEMA)
        version = (
            str(self.manifest_path),
            stat.st_ino,
            stat.st_size,
            stat.st_mtime_ns,
            stat.st_ctime_ns,
        )
        frame = _MANIFEST_READ.get(version)
        if frame is None:
            frame = pl.read_parquet(self.manifest_path)
            _MANIFEST_READ.clear()
            _MANIFEST_READ[version] = frame
        return frame

    def write_manifest(self, manifest: pl.DataFrame) -> None:
        # lz4: at 10^5 files, written in 0.035 s and read in 0.008 s, against zstd's 0.08 s
        # and 0.016 s (9 MB against 5 MB); every run reads it, every changing run writes it.
        frame = manifest.select(list(MANIFEST_SCHEMA))
        write_parquet_atomic(frame, self.manifest_path, compression="lz4")

    def parsed_sha256(self) -> frozenset[str]:
        """Contents already parsed by the current readers, in batches whose every table is
        there (a killed --rebuild removes the cache folder by folder)."""
        return frozenset(self.parsed_contents().to_list())

    def parsed_contents(self) -> pl.Series:
        """`parsed_sha256` as a column (a content cached in two batches, twice)."""
        return self._index(self._whole_batches())["sha256"]

    def parsed_files(self) -> pl.DataFrame:
        """The `parsed_file` row of every content in the cache, once each (a content in two
        batches has the same row in both, as the same readers made it). Contents no longer
        in the landing zone are among them until the cache is compacted."""
        return self._parsed_files(self._whole_batches()).drop("batch").unique("sha256")

    def write_batch(self, frames: dict[str, pl.DataFrame]) -> str:
        """Store one batch of parsed frames; returns the batch id."""
        shas = sorted(frames["parsed_file"]["sha256"].to_list())
        batch = hashlib.sha256("\n".join(shas).encode()).hexdigest()[:16]
        # parsed_file last: a batch counts as cached only once all its tables are written.
        for name in [*(n for n in SCHEMAS if n != "parsed_file"), "parsed_file"]:
            path = self.parsed / name / f"{batch}.parquet"
            write_parquet_atomic(frames[name], path, "zstd", _BATCH_ZSTD_LEVEL)
        return batch

    def load_frames(
        self, sha256: pl.Series, tables: Iterable[str] = tuple(SCHEMAS)
    ) -> dict[str, pl.DataFrame]:
        """The parsed frames of the given contents, each content once (all tables, or those
        named)."""
        scans = self.scan_frames(sha256, tables)
        return dict(zip(scans, pl.collect_all(scans.values()), strict=True))

    def scan_frames(
        self, sha256: pl.Series, tables: Iterable[str] = tuple(SCHEMAS)
    ) -> dict[str, pl.LazyFrame]:
        """`load_frames` as scans: each table is read when collected, only the columns asked.

        A content parsed into two batches (the same bytes at two paths read by two workers,
        or a compaction killed before it removed what it merged) is taken from one of them:
        its rows are the same in both, as the same readers made them.
        """
        schemas = {name: SCHEMAS[name] for name in tables}
        batches = self._whole_batches()
        if not batches:
            return {name: pl.LazyFrame(schema=schema) for name, schema in schemas.items()}
        wanted = sha256.unique().implode()
        index = self._index(batches).filter(pl.col("sha256").is_in(wanted))
        chosen = index.group_by("sha256").agg(pl.col("batch").min())
        in_one_batch = chosen.height == index.height
        # Only the batches holding a wanted content are scanned: after a few new files, one.
        holding = chosen["batch"].unique().sort().to_list()
        scans = {}
        for name, schema in schemas.items():
            files = [self.parsed / name / batch for batch in holding]
            if not files:
                scans[name] = pl.LazyFrame(schema=schema)
                continue
            if name == "parsed_file":
                rows = self._parsed_files(holding).lazy().filter(pl.col("sha256").is_in(wanted))
                if not in_one_batch:
                    rows = rows.join(chosen.lazy(), on=["sha256", "batch"], how="semi")
                scan = rows.select(list(schema))
            elif in_one_batch:
                scan = pl.scan_parquet(files, schema=schema).filter(pl.col("sha256").is_in(wanted))
            else:
                scan = (
                    pl.scan_parquet(files, schema=schema, include_file_paths="batch_path")
                    .filter(pl.col("sha256").is_in(wanted))
                    .with_columns(batch=_file_name("batch_path"))
                    .join(chosen.lazy(), on=["sha256", "batch"], how="semi")
                    .select(list(schema))
                )
            if name in _MAY_REPEAT_ROWS:
                scan = scan.unique(maintain_order=True)
            scans[name] = scan
        return scans

    def _index(self, batches: list[str]) -> pl.DataFrame:
        """The contents (`sha256`) of each of the batch files named (`batch`)."""
        return self._parsed_files(batches).select("sha256", "batch")

    def _parsed_files(self, batches: list[str]) -> pl.DataFrame:
        """The `parsed_file` rows of the batch files named, each with its `batch`."""
        folder = str(self.parsed)
        unknown = [batch for batch in batches if (folder, batch) not in _BATCH_FILES]
        if unknown:
            read = (
                pl.scan_parquet(
                    [self.parsed / "parsed_file" / batch for batch in unknown],
                    schema=SCHEMAS["parsed_file"],
                    include_file_paths="batch_path",
                )
                .with_columns(batch=_file_name("batch_path"))
                .drop("batch_path")
                .collect()
            )
            by_batch = read.partition_by("batch", as_dict=True)
            for batch in unknown:
                _BATCH_FILES[folder, batch] = by_batch.get((batch,), read.clear())
        # What this process holds stays the size of one state's batches.
        for gone in set(_BATCH_FILES) - {(folder, batch) for batch in batches}:
            del _BATCH_FILES[gone]
        schema = {**SCHEMAS["parsed_file"], "batch": pl.String()}
        return pl.concat(
            [pl.DataFrame(schema=schema), *(_BATCH_FILES[folder, batch] for batch in batches)]
        )

    def _whole_batches(self) -> list[str]:
        """File names of the batches whose every table is written, sorted."""
        listed = [
            {entry.name for entry in os.scandir(folder)} if folder.is_dir() else set()
            for folder in (self.parsed / name for name in SCHEMAS)
        ]
        whole = set.intersection(*listed)
        return sorted(name for name in whole if name.endswith(".parquet"))

    def compact(self, live_sha256: pl.Series) -> bool:
        """Merge the small batches into one when there are many of them, or every batch when
        most cached contents are no longer in the landing zone; otherwise only delete batches
        with no live content.

        Keeps later builds reading a few files instead of hundreds of small ones (each run
        that reads a few new files adds one). The merged batch is written whole (parsed_file
        last) before the batches it replaces are removed (parsed_file first), so a killed
        compaction leaves every content in a whole batch. Returns whether it merged.
        """
        live = live_sha256.drop_nulls().unique()
        batches = self._whole_batches()
        self._remove_orphans(batches)
        if not batches:
            return False
        cached = self._index(batches).with_columns(is_live=pl.col("sha256").is_in(live.implode()))
        n_live = cached.filter(pl.col("is_live"))["sha256"].n_unique()
        by_batch = cached.group_by("batch").agg(pl.col("is_live").any(), n=pl.len())
        small = by_batch.filter(pl.col("is_live") & (pl.col("n") < _WHOLE_BATCH_CONTENTS))["batch"]
        merging: list[str] = []
        if 2 * n_live < cached.height:
            merging = batches
        elif small.len() > _MAX_BATCHES:
            merging = sorted(small.to_list())
        if merging:
            is_merged = pl.col("is_live") & pl.col("batch").is_in(merging)
            in_merged = cached.filter(is_merged)["sha256"]
            merged = self.write_batch(self.load_frames(in_merged)) if in_merged.len() else None
            for batch in merging:
                if batch != f"{merged}.parquet":
                    self._remove_batch(batch)
        for batch in sorted(by_batch.filter(~pl.col("is_live"))["batch"].to_list()):
            self._remove_batch(batch)
        return bool(merging)

    def _remove_batch(self, batch_file_name: str) -> None:
        for name in ["parsed_file", *(n for n in SCHEMAS if n != "parsed_file")]:
            (self.parsed / name / batch_file_name).unlink(missing_ok=True)

    def _remove_orphans(self, whole_batches: list[str]) -> None:
        """Tables of batches a killed run left without all their tables: their contents are
        parsed again into whole batches."""
        whole = set(whole_batches)
        for name in SCHEMAS:
            folder = self.parsed / name
            if folder.is_dir():
                for entry in os.scandir(folder):
                    if entry.name.endswith(".parquet") and entry.name not in whole:
                        Path(entry.path).unlink(missing_ok=True)

    def drop_unused_batches(self, live_sha256: pl.Series) -> int:
        """Delete batches none of whose contents is still in the landing zone, tables of
        batches missing a table (their contents were parsed again into whole batches) and the
        cache of older readers; merge many batches into one (see `compact`). Returns how many
        batch files fewer there are."""
        before = len(list((self.parsed / "parsed_file").glob("*.parquet")))
        self.compact(live_sha256)
        after = len(list((self.parsed / "parsed_file").glob("*.parquet")))
        stale_readers = [p for p in (self.root / "parsed").glob("*") if p != self.parsed]
        for folder_of_old_reader in stale_readers:
            shutil.rmtree(folder_of_old_reader, ignore_errors=True)
        return before - after


def _file_name(path_column: str) -> pl.Expr:
    return pl.col(path_column).str.extract(r"([^/\\]+)$")


def replace_folder(kept: Path, new: Path) -> threading.Thread | None:
    """Make folder `new` the one at `kept`. The old one is first renamed beside `new` (in the
    build folder, which the next run clears) and removed in a background thread, returned
    (None when there was none): removing a 400 MB memo took 0.03-0.06 s of a run. A run
    killed in between leaves no folder at `kept` (the next run does without it)."""
    aside = new.with_name(f"{new.name}.replaced")
    try:
        os.replace(kept, aside)
    except FileNotFoundError:
        aside = None
    os.replace(new, kept)
    if aside is None:
        return None
    removing = threading.Thread(
        target=shutil.rmtree, args=(aside,), kwargs={"ignore_errors": True}, name="remove-replaced"
    )
    removing.start()
    return removing


def write_parquet_atomic(
    frame: pl.DataFrame,
    path: Path,
    compression: ParquetCompression = "zstd",
    compression_level: int | None = None,
) -> None:
    """Write to a temporary name in the same folder, fsync, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    frame.write_parquet(temporary, compression=compression, compression_level=compression_level)
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_json_object(path: Path) -> dict | None:
    """The JSON object in `path`; None when it is missing, unreadable or not an object."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_json_atomic(value: object, path: Path) -> None:
    """Write `value` as JSON to `path` by renaming a finished temporary file over it."""
    temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    temporary.write_text(json.dumps(value, sort_keys=True))
    os.replace(temporary, path)
