"""The run state beside the warehouse: parsed-content cache, file manifest and run lock.

Layout of `<warehouse>.state/`:
- `lock` — held (flock) by the running ingest; the kernel drops it when the process dies.
- `manifest.parquet` — path, size, mtime and sha256 of every raw file of the last good run,
  so unchanged files are recognised by size and mtime without reading them.
- `parsed/<reader fingerprint>/<table>/<batch>.parquet` — parsed frames keyed by content
  sha256. The fingerprint is a hash of the reader code: a changed reader re-parses.
- `build/` — warehouse files being built; anything there at the start of a run is stale.
Every file is written to a temporary name and renamed, so a killed run leaves either the old
file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from flows.formats.frames import SCHEMAS

_FORMATS_DIR: Final = Path(__file__).parent / "formats"
_READER_MODULES: Final = (Path(__file__).parent / "categories.py",)
MANIFEST_SCHEMA: Final = {
    "path": pl.String(),
    "size_bytes": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "sha256": pl.String(),
}


class IngestLocked(RuntimeError):
    """Another ingest holds the warehouse's lock."""


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

    @property
    def parsed(self) -> Path:
        return self.root / "parsed" / reader_fingerprint()

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

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
        self.manifest_path.unlink(missing_ok=True)

    def read_manifest(self) -> pl.DataFrame:
        if not self.manifest_path.exists():
            return pl.DataFrame(schema=MANIFEST_SCHEMA)
        return pl.read_parquet(self.manifest_path)

    def write_manifest(self, manifest: pl.DataFrame) -> None:
        write_parquet_atomic(manifest.select(list(MANIFEST_SCHEMA)), self.manifest_path)

    def parsed_sha256(self) -> frozenset[str]:
        """Contents already parsed by the current readers."""
        files = list((self.parsed / "parsed_file").glob("*.parquet"))
        if not files:
            return frozenset()
        return frozenset(pl.scan_parquet(files).select("sha256").collect()["sha256"].to_list())

    def write_batch(self, frames: dict[str, pl.DataFrame]) -> str:
        """Store one batch of parsed frames; returns the batch id."""
        shas = sorted(frames["parsed_file"]["sha256"].to_list())
        batch = hashlib.sha256("\n".join(shas).encode()).hexdigest()[:16]
        # parsed_file last: a batch counts as cached only once all its tables are written.
        for name in [*(n for n in SCHEMAS if n != "parsed_file"), "parsed_file"]:
            write_parquet_atomic(frames[name], self.parsed / name / f"{batch}.parquet")
        return batch

    def load_frames(self, sha256: pl.Series) -> dict[str, pl.DataFrame]:
        """The parsed frames of the given contents."""
        wanted = sha256.unique().implode()
        frames = {}
        for name, schema in SCHEMAS.items():
            files = sorted((self.parsed / name).glob("*.parquet"))
            if not files:
                frames[name] = pl.DataFrame(schema=schema)
                continue
            frames[name] = (
                pl.scan_parquet(files, schema=schema)
                .filter(pl.col("sha256").is_in(wanted))
                .unique(maintain_order=False)
                .collect()
            )
        return frames

    def drop_unused_batches(self, live_sha256: pl.Series) -> int:
        """Delete batches none of whose contents is still in the landing zone."""
        folder = self.parsed / "parsed_file"
        removed = 0
        live = live_sha256.unique().implode()
        for batch_file in sorted(folder.glob("*.parquet")):
            shas = pl.read_parquet(batch_file, columns=["sha256"])
            if shas.filter(pl.col("sha256").is_in(live)).is_empty():
                batch_file.unlink()
                for name in SCHEMAS:
                    (self.parsed / name / batch_file.name).unlink(missing_ok=True)
                removed += 1
        stale_readers = [p for p in (self.root / "parsed").glob("*") if p != self.parsed]
        for folder_of_old_reader in stale_readers:
            shutil.rmtree(folder_of_old_reader, ignore_errors=True)
        return removed


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write to a temporary name in the same folder, fsync, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    frame.write_parquet(temporary)
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)
