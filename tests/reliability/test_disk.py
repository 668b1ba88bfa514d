"""A full disk: the run checks free space before building and fails clearly, publishing nothing.

The warehouse lives on a real small file system (a 96 MB tmpfs mounted for the test), filled
with a ballast file until too little is free. Without the permission to mount, the free space
is simulated by replacing `free_bytes` (the one place the run asks), which tests the check but
not a real full disk; the test says which of the two it ran.
"""

from __future__ import annotations

import errno
import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import duckdb
import pytest

from flows import cli
from flows import ingest as ingest_module
from flows.cache import State
from flows.ingest import NotEnoughDisk
from tests.flow_helpers import ingest
from tests.reliability.pages import page

pytestmark = pytest.mark.usefixtures("prefect_harness")

DISK_BYTES: Final = 96 * 1024 * 1024
LEFT_FREE: Final = 8 * 1024 * 1024


class SmallDisk:
    """A small file system to put the warehouse on, and a way to fill it."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch | None) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        self.ballast = root / "ballast.bin"

    @property
    def real(self) -> bool:
        return self.monkeypatch is None

    def free(self) -> int:
        return shutil.disk_usage(self.root).free

    def fill(self, leave: int) -> None:
        """Leave about `leave` bytes free."""
        if self.monkeypatch is not None:
            self.monkeypatch.setattr(ingest_module, "free_bytes", lambda folder: leave)
            return
        with self.ballast.open("ab") as handle:
            remaining = self.free() - leave
            while remaining > 0:
                step = min(remaining, 4 * 1024 * 1024)
                try:
                    handle.write(b"\0" * step)
                    handle.flush()
                except OSError as error:
                    assert error.errno == errno.ENOSPC
                    break
                remaining -= step

    def empty(self) -> None:
        if self.monkeypatch is not None:
            self.monkeypatch.undo()
        self.ballast.unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmallDisk]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        # No permission to mount here: simulate the free space instead (see module docstring).
        yield SmallDisk(mount_point, monkeypatch)
        return
    try:
        yield SmallDisk(mount_point, None)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _published(warehouse: Path) -> tuple[str, int, int]:
    info = warehouse.stat()
    return hashlib.sha256(warehouse.read_bytes()).hexdigest(), info.st_ino, info.st_mtime_ns


def _papers(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select count(*) from paper").fetchall()[0][0]


def test_too_little_free_disk_fails_the_run_clearly_and_keeps_the_published_warehouse(
    small_disk: SmallDisk, raw_dir: Path, capsys: pytest.CaptureFixture[str]
):
    warehouse = small_disk.root / "warehouse" / "scholar.duckdb"
    ingest(raw_dir, warehouse)
    before = _published(warehouse)
    state = State.for_warehouse(warehouse)
    (raw_dir / "2026-11-26").mkdir()
    (raw_dir / "2026-11-26" / "new.txt").write_text(page(1), encoding="utf-8")

    small_disk.fill(leave=LEFT_FREE)
    with pytest.raises(NotEnoughDisk, match="the published warehouse is left as it was"):
        ingest(raw_dir, warehouse)
    assert _published(warehouse) == before and _papers(warehouse) == 22
    assert not list(state.build_dir.glob("*")), "a build was started on a full disk"

    capsys.readouterr()
    argv = ["ingest", "--raw", str(raw_dir), "--warehouse", str(warehouse), "--workers", "1"]
    assert cli.main(argv) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    message = [line for line in err.splitlines() if line.startswith("scholarhouse ingest:")]
    assert len(message) == 1 and "MB free" in message[0], err
    assert _published(warehouse) == before

    if small_disk.real:
        # Full to the last byte: even the parsed-content cache cannot be written. The run
        # fails (no space left), the published warehouse stays, the next run cleans up.
        (raw_dir / "2026-11-26" / "newer.txt").write_text(page(2), encoding="utf-8")
        small_disk.fill(leave=0)
        with pytest.raises(Exception, match="No space left on device"):
            ingest(raw_dir, warehouse)
        assert _published(warehouse) == before and _papers(warehouse) == 22

    small_disk.empty()
    summary = ingest(raw_dir, warehouse)
    assert summary.published and _published(warehouse)[1] != before[1]
    assert _papers(warehouse) > 22
    assert not list(state.root.rglob("*.tmp-*")) and not list(state.build_dir.glob("*"))
