"""Incremental loads: a build made from a copy of the published build and what changed.

A full load writes every core table into a new file (its load stage, these digests included,
takes 4.7 to 4.8 s at 10^5 profiles). After a few new files most rows come out of normalise
exactly as the published build holds them. So every load keeps, beside the warehouse, a
digest of each row it loaded: the row's group key (`ROW_KEYS`) and two 64-bit hashes of the
whole row (polars `hash_rows`, two seeds). The next build digests its new frames the same
way. A key whose multiset of row digests differs is a changed key. The build then starts from
a copy of the published file and, table by table, deletes every row of each changed key and
inserts that key's new rows. The tables hold the same multiset of rows as after a full load,
in another physical order.

After an addition (`flows.incremental`) some tables come partial: only the rows of the keys
the addition may have changed (papers; authors; snapshots for `profile_paper`). Their
digests are the published build's with those keys' replaced (kept as one more layer over
them), and only those keys are compared; a full load makes them whole first.

A full load is made instead when any of these holds:
- it was asked for (`--rebuild`);
- there are no digests of the published build;
- the code, the polars version (the hashes are polars') or the DuckDB version changed;
- the published file changed after it was published (its size or modification time differ);
- a table's columns changed;
- more than `MAX_CHANGED_SHARE` of the rows changed;
- the file grew past `MAX_GROWTH` times its size after the last full load (deleted rows
  leave room inside the file that only a full load gives back).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import duckdb
import polars as pl

from flows.cache import read_json_object, replace_folder, write_json_atomic
from flows.layers import Layer, add_layer, named_layers, scan_layers, takes_a_layer
from flows.warehouse import identifier, insert_rows

# The column whose value groups a table's rows: a changed row rewrites every row of its key.
# Any key gives the same tables; a finer key rewrites fewer rows. A table missing here is
# rewritten whole when any of its rows changed.
ROW_KEYS: Final = {
    "author": "author_id",
    "paper": "paper_id",
    "authorship": "paper_id",
    "paper_topic": "paper_id",
    "paper_citation": "paper_id",
    "author_source_id": "author_id",
    "profile_snapshot": "snapshot_id",
    "profile_paper": "snapshot_id",
    "paper_observation": "paper_id",
    "ingest_file": "path",
    "ingest_failure": "path",
}
MAX_CHANGED_SHARE: Final = 0.2
MAX_GROWTH: Final = 1.5
_SEEDS: Final = (0x5C401A75, 0x0DDBA11)
_ABOUT: Final = "about.json"
# Per partial table: the published build's digests of its partial keys, and the new ones.
Compared = dict[str, tuple[pl.DataFrame, pl.DataFrame]]


def row_digests(frame: pl.DataFrame, key: str | None) -> pl.DataFrame:
    """One row per row of `frame`: its group key and two hashes of the whole row."""
    if key is None:
        key_column = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    else:
        key_column = frame[key].cast(pl.String)
    return pl.DataFrame(
        {
            "key": key_column,
            "h1": frame.hash_rows(seed=_SEEDS[0]),
            "h2": frame.hash_rows(seed=_SEEDS[1]),
        }
    )


def changed_keys(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """The keys whose multiset of row digests differs between `old` and `new` (column `key`,
    a null key among them when its rows differ).

    A digest names its key (the key is part of the row), so the keys of the digests on one
    side only are the changed keys, once each digest's count also matches on both sides.
    Rows are seldom repeated: the counts are compared only for the digests that repeat."""
    before, after = _by_hash(old), _by_hash(new)
    differ = [
        before.join(after, on="h", how="anti").select("key"),
        after.join(before, on="h", how="anti").select("key"),
    ]
    repeated = pl.concat([_repeated(before), _repeated(after)]).unique()
    if repeated.height:
        on = ["key", "h", "n"]
        counts = [
            side.join(repeated, on="h", how="semi").group_by("key", "h").agg(n=pl.len())
            for side in (before, after)
        ]
        differ += [
            counts[0].join(counts[1], on=on, how="anti", nulls_equal=True).select("key"),
            counts[1].join(counts[0], on=on, how="anti", nulls_equal=True).select("key"),
        ]
    return pl.concat(differ).unique()


def _by_hash(digests: pl.DataFrame) -> pl.DataFrame:
    """The digests with their two hashes as one 128-bit `h`."""
    return digests.select(
        "key", h=pl.col("h1").cast(pl.UInt128) * 2**64 + pl.col("h2").cast(pl.UInt128)
    )


def _repeated(by_hash: pl.DataFrame) -> pl.DataFrame:
    """The digests (`h`) that occur more than once (found in their sorted order)."""
    hashes = by_hash.select(pl.col("h").sort())
    return hashes.filter(pl.col("h") == pl.col("h").shift(1))


def _schema(frame: pl.DataFrame) -> list[list[str]]:
    return [[name, str(dtype)] for name, dtype in frame.schema.items()]


@dataclass(frozen=True)
class Digests:
    """The row digests of one build: each table's layers (`flows.layers`; `<table>.parquet`
    when written whole) and `about.json`.

    `about.json` holds the code fingerprint, the polars and DuckDB versions, each table's
    columns, rows and layers, and, once the build is published, the published file's size
    and modification time and the size of the file after the last full load. A partial
    table's digests are one more layer over the published build's (those keys' digests),
    until it has `MAX_LAYERS`.
    """

    folder: Path

    def write(
        self,
        tables: Mapping[str, pl.DataFrame],
        code_fingerprint: str,
        partial: Mapping[str, pl.Series] | None = None,
        previous: Digests | None = None,
    ) -> Compared:
        """Digest every table (one at a time: the digests do not stay in memory).

        A table named in `partial` holds only the rows of those keys (the rest are as in the
        build `previous` digested): its digests are `previous`'s, those keys' replaced.
        Returns, for each such table, `previous`'s digests of those keys and the new ones:
        all that `plan_load` needs to compare."""
        partial = partial or {}
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        rows = {}
        layers: dict[str, list[Layer]] = {}
        compared: Compared = {}
        for name, frame in tables.items():
            digests = row_digests(frame, ROW_KEYS.get(name))
            layers[name] = [Layer(f"{name}.parquet")]
            if name in partial:
                if previous is None:
                    raise ValueError(f"table {name} is partial: the previous digests are needed")
                keys = partial[name].cast(pl.String)
                among = pl.col("key").is_in(keys.implode())
                earlier = previous.layers(name)
                # Only those keys' digests are read: the rest stay in their layers.
                before = scan_layers(previous.folder, earlier)
                compared[name] = (before.filter(among).collect(), digests)
                rows[name] = previous.rows(name) - compared[name][0].height + digests.height
                if takes_a_layer(earlier):
                    # The published build's layers, linked, and these keys' digests over them.
                    layers[name] = add_layer(
                        previous.folder, self.folder, earlier, name, digests, keys, "key"
                    )
                    continue
                digests = pl.concat([before.filter(~among).collect(), digests])
            digests.write_parquet(self.folder / f"{name}.parquet", compression="lz4")
            rows[name] = digests.height
        self._write_about(
            {
                **_versions(code_fingerprint),
                "schemas": {name: _schema(frame) for name, frame in tables.items()},
                "rows": rows,
                "layers": layers,
            }
        )
        return compared

    def about(self) -> dict | None:
        return read_json_object(self.folder / _ABOUT)

    def layers(self, name: str) -> list[Layer]:
        """The layers of table `name`'s digests, first first (`flows.layers`): one, the
        whole table's, where `about.json` names none."""
        return named_layers(self.about(), name) or [Layer(f"{name}.parquet")]

    def rows(self, name: str) -> int:
        """The rows of table `name`'s digests: as `about.json` says, else counted."""
        rows = ((self.about() or {}).get("rows") or {}).get(name)
        if isinstance(rows, int):
            return rows
        return scan_layers(self.folder, self.layers(name)).select(pl.len()).collect().item()

    def table(self, name: str) -> pl.DataFrame:
        return scan_layers(self.folder, self.layers(name)).collect()

    def mark_published(self, warehouse: Path, full_size: int | None) -> None:
        """Record the published file this build became (and its size after a full load)."""
        about = self.about() or {}
        about["published"] = published = _stat(warehouse)
        if published is None:
            raise FileNotFoundError(f"no published warehouse at {warehouse}")
        about["full_size"] = published["size"] if full_size is None else full_size
        self._write_about(about)

    def _write_about(self, about: dict) -> None:
        write_json_atomic(about, self.folder / _ABOUT)


def replace_digests(kept: Path, new: Digests) -> None:
    """Make `new` the digests kept at `kept` (`replace_folder`: a run killed in between leaves
    none, and the next build loads in full)."""
    replace_folder(kept, new.folder)


@dataclass(frozen=True)
class Plan:
    """How a build loads: `changed` keys per table for an incremental load, or None for a
    full load; `reason` says why, for the run summary."""

    changed: dict[str, pl.DataFrame] | None
    reason: str
    full_size: int | None = None

    @property
    def incremental(self) -> bool:
        return self.changed is not None


def keys_by_table(changed: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The keys a load by changes rewrote (`Plan.changed`), as the models' changes queries
    read them (`flows.models.run_model_changes`): for each table with a row key (`ROW_KEYS`),
    under the key column's name; an empty frame for a table none of whose rows changed. A
    table without a row key, rewritten whole when any of its rows changed, is left out."""
    keys: dict[str, pl.DataFrame] = {}
    for name, column in ROW_KEYS.items():
        frame = changed.get(name, pl.DataFrame(schema={"key": pl.String}))
        keys[name] = frame.select(pl.col("key").alias(column))
    return keys


def _versions(code_fingerprint: str) -> dict[str, str]:
    return {"code": code_fingerprint, "polars": pl.__version__, "duckdb": duckdb.__version__}


def load_refusal(previous: Digests, warehouse: Path, code_fingerprint: str) -> str | None:
    """Why a build of this code cannot load by changes into a copy of `warehouse`, whatever
    its tables (see the module docstring), or None."""
    before = previous.about()
    if before is None or "published" not in before:
        return "full load: no digests of the published build"
    versions = _versions(code_fingerprint)
    if {name: before.get(name) for name in versions} != versions:
        return "full load: the code, the polars or the DuckDB version changed"
    if _stat(warehouse) != before["published"]:
        return "full load: the published file changed after it was published"
    full_size = int(before.get("full_size") or 0)
    if before["published"]["size"] > MAX_GROWTH * full_size:
        return f"full load: the file grew past {MAX_GROWTH}x its size after a full load"
    return None


def plan_load(
    previous: Digests, current: Digests, warehouse: Path, compared: Compared | None = None
) -> Plan:
    """Compare the published build's digests with the new build's; see the module docstring.
    A partial table differs at most in its partial keys: `compared` (from `Digests.write`)
    holds both sides' digests of those keys, and only they are compared."""
    compared = compared or {}
    before, after = previous.about(), current.about()
    if after is None:
        raise FileNotFoundError(f"no digests of the new build in {current.folder}")
    if refusal := load_refusal(previous, warehouse, after["code"]):
        return Plan(None, refusal)
    assert before is not None
    if before.get("schemas") != after["schemas"]:
        return Plan(None, "full load: the tables or their columns changed")
    full_size = int(before.get("full_size") or 0)
    changed: dict[str, pl.DataFrame] = {}
    n_changed = 0
    for name in after["schemas"]:
        if name in compared:
            old, new = compared[name]
        else:
            old, new = previous.table(name), current.table(name)
        keys = changed_keys(old, new)
        if keys.height:
            changed[name] = keys
            n_changed += _rows_of(old, keys) + _rows_of(new, keys)
    n_rows = sum(after["rows"].values())
    share = n_changed / max(1, n_rows)
    if share > MAX_CHANGED_SHARE:
        return Plan(None, f"full load: {share:.0%} of the rows changed")
    return Plan(
        changed,
        f"incremental load: {n_changed:,} rows deleted or inserted in {len(changed)} tables "
        f"({share:.2%} of {n_rows:,})",
        full_size,
    )


def _rows_of(digests: pl.DataFrame, keys: pl.DataFrame) -> int:
    return digests.join(keys, on="key", how="semi", nulls_equal=True).height


def _stat(path: Path) -> dict[str, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def copy_published(warehouse: Path, build: Path, previous: Digests) -> bool:
    """Copy the published file to `build`; False (and no copy) when it changed meanwhile."""
    about = previous.about() or {}
    build.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(warehouse, build)
    if _stat(warehouse) != about.get("published"):
        build.unlink(missing_ok=True)
        return False
    return True


class PublishedCopy:
    """`copy_published` in a background thread, the copy flushed to disk too.

    A run starts it before it normalises, when a load by changes may follow: the load then
    finds the copy made and on disk. Copying 350 MB, then flushing it at the load's first
    checkpoint, took 0.6 s of the load at 10^5 profiles; beside the normalisation (which
    computes) the copy (which waits on the disk) costs next to nothing.
    """

    def __init__(
        self,
        warehouse: Path,
        build: Path,
        previous: Digests,
        prepare: Callable[[Path], None] | None = None,
    ) -> None:
        """`prepare`, when given, is done to the copy in the same thread once it is made."""
        self.build = build
        pool = ThreadPoolExecutor(1, thread_name_prefix="copy-published")
        self._copied = pool.submit(self._copy, warehouse, build, previous, prepare)
        pool.shutdown(wait=False)  # the thread ends once it has copied

    @staticmethod
    def _copy(
        warehouse: Path, build: Path, previous: Digests, prepare: Callable[[Path], None] | None
    ) -> bool:
        if not copy_published(warehouse, build, previous):
            return False
        with build.open("rb") as handle:
            os.fsync(handle.fileno())
        if prepare is not None:
            prepare(build)
        return True

    def wait(self) -> bool:
        """Whether `build` is now a copy of the published file (False: it changed while it was
        copied, and there is no copy)."""
        return self._copied.result()

    def discard(self) -> None:
        """Wait for the copy and remove it (the build is made another way)."""
        with suppress(OSError):
            self._copied.result()
        self.build.unlink(missing_ok=True)


def apply_changes(
    con: duckdb.DuckDBPyConnection,
    name: str,
    frame: pl.DataFrame,
    keys: pl.DataFrame,
    key: str | None,
) -> None:
    """Delete every row of table `name` whose `key` column holds a changed key; insert those
    keys' rows of `frame` (in the table's column order). No key: the table is replaced."""
    # Only checked identifiers are formatted into the statements; the keys come as a frame.
    table = identifier(name)
    if key is None:
        con.execute(f"delete from {table}").fetchall()  # noqa: S608
        insert_rows(con, name, frame)
        return
    column = identifier(key)
    con.register("_changed_keys", keys.to_arrow())
    try:
        # fetchall: DuckDB 2 keeps the statement's result (the count) open otherwise.
        con.execute(
            f"delete from {table} using _changed_keys "  # noqa: S608
            f"where {table}.{column} is not distinct from _changed_keys.key"
        ).fetchall()
    finally:
        con.unregister("_changed_keys")
    rows = frame.join(keys.rename({"key": key}), on=key, how="semi", nulls_equal=True)
    insert_rows(con, name, rows)
