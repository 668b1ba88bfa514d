"""The parse cache: lookups read only the batches they need; compaction merges small batches,
keeps whole ones and loses nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from flows.cache import MANIFEST_SCHEMA, State, replace_folder
from flows.formats.frames import SCHEMAS
from flows.ingest import plan_reads
from flows.landing import RAW_FILE_SCHEMA


def batch_of(tag: str, n: int) -> dict[str, pl.DataFrame]:
    """Parsed frames of `n` contents (one profile each), their hashes made from `tag`."""
    shas = [hashlib.sha256(f"{tag}-{i}".encode()).hexdigest() for i in range(n)]
    frames = {name: pl.DataFrame(schema=schema) for name, schema in SCHEMAS.items()}
    frames["parsed_file"] = pl.DataFrame(
        {
            "sha256": shas,
            "format": "scholarfeed_profile",
            "status": "loaded",
            "reason": None,
            "n_papers": 0,
            "n_failures": 0,
        },
        schema=SCHEMAS["parsed_file"],
    )
    columns: dict[str, list[object]] = {name: [None] * n for name in SCHEMAS["profile"]}
    columns |= {"sha256": shas, "profile_index": [0] * n, "line": [1] * n}
    columns["display_name"] = [f"{tag} {i}" for i in range(n)]
    frames["profile"] = pl.DataFrame(columns, schema=SCHEMAS["profile"])
    return frames


def batch_files(state: State) -> set[str]:
    return {path.name for path in (state.parsed / "parsed_file").glob("*.parquet")}


def cached_profiles(state: State, live: pl.Series) -> list[str]:
    return sorted(state.load_frames(live, ["profile"])["profile"]["display_name"].to_list())


def test_many_small_batches_are_merged_and_a_whole_batch_is_kept_as_it_is(tmp_path: Path):
    state = State(tmp_path / "state")
    whole = state.write_batch(batch_of("whole", 1000))
    for k in range(9):
        state.write_batch(batch_of(f"small{k}", 3))
    live = pl.scan_parquet(str(state.parsed / "parsed_file" / "*.parquet")).collect()["sha256"]
    before = cached_profiles(state, live)
    whole_file = state.parsed / "paper" / f"{whole}.parquet"
    written = whole_file.stat().st_mtime_ns

    assert state.compact(live)

    # The whole batch untouched, the nine small ones now one, every content still there.
    assert f"{whole}.parquet" in batch_files(state) and len(batch_files(state)) == 2
    assert whole_file.stat().st_mtime_ns == written
    assert cached_profiles(state, live) == before
    assert state.parsed_sha256() == frozenset(live.to_list())


def test_a_few_small_batches_stay_and_a_dead_one_goes(tmp_path: Path):
    state = State(tmp_path / "state")
    kept = [state.write_batch(batch_of(f"small{k}", 3)) for k in range(8)]
    dead = state.write_batch(batch_of("gone", 3))
    live = pl.scan_parquet(
        [state.parsed / "parsed_file" / f"{batch}.parquet" for batch in kept]
    ).collect()["sha256"]

    assert not state.compact(live)

    assert batch_files(state) == {f"{batch}.parquet" for batch in kept}
    assert f"{dead}.parquet" not in batch_files(state)
    assert state.parsed_sha256() == frozenset(live.to_list())


def test_a_cache_mostly_of_contents_no_longer_landed_is_merged_whole(tmp_path: Path):
    state = State(tmp_path / "state")
    whole = state.write_batch(batch_of("whole", 1000))
    state.write_batch(batch_of("small", 3))
    live = state.load_frames(
        pl.Series([hashlib.sha256(f"whole-{i}".encode()).hexdigest() for i in range(10)]),
        ["parsed_file"],
    )["parsed_file"]["sha256"]

    assert state.compact(live)

    # One batch of the ten live contents: the 993 others are no longer cached.
    assert len(batch_files(state)) == 1 and f"{whole}.parquet" not in batch_files(state)
    assert state.parsed_sha256() == frozenset(live.to_list())


def test_a_lookup_reads_only_the_batches_holding_the_contents_asked(tmp_path: Path):
    state = State(tmp_path / "state")
    state.write_batch(batch_of("asked", 3))
    other = state.write_batch(batch_of("other", 3))
    asked = pl.Series([hashlib.sha256(f"asked-{i}".encode()).hexdigest() for i in range(2)])
    assert state.parsed_sha256() >= frozenset(asked.to_list())
    # The other batch's profiles can no longer be read: a lookup that opened them would fail.
    (state.parsed / "profile" / f"{other}.parquet").write_bytes(b"not parquet")

    found = state.load_frames(asked, ["profile"])["profile"]

    assert sorted(found["display_name"].to_list()) == ["asked 0", "asked 1"]
    nothing = state.load_frames(pl.Series(["0" * 64]), ["profile", "paper"])
    assert [frame.height for frame in nothing.values()] == [0, 0]


def test_contents_of_a_batch_written_after_a_lookup_are_found(tmp_path: Path):
    state = State(tmp_path / "state")
    first = batch_of("first", 2)
    state.write_batch(first)
    assert state.parsed_sha256() == frozenset(first["parsed_file"]["sha256"].to_list())

    later = batch_of("later", 2)
    state.write_batch(later)

    both = pl.concat([first["parsed_file"]["sha256"], later["parsed_file"]["sha256"]])
    assert state.parsed_sha256() == frozenset(both.to_list())
    assert sorted(cached_profiles(state, both)) == ["first 0", "first 1", "later 0", "later 1"]


def test_a_content_cached_in_two_batches_is_looked_up_once(tmp_path: Path):
    state = State(tmp_path / "state")
    state.write_batch(batch_of("x", 2))
    x0, y0 = batch_of("x", 1), batch_of("y", 1)
    state.write_batch({name: pl.concat([x0[name], y0[name]]) for name in SCHEMAS})
    shas = pl.concat([batch_of("x", 2)["parsed_file"]["sha256"], y0["parsed_file"]["sha256"]])

    found = state.load_frames(shas, ["parsed_file", "profile"])

    assert sorted(found["parsed_file"]["sha256"].to_list()) == sorted(shas.to_list())
    assert sorted(found["profile"]["display_name"].to_list()) == ["x 0", "x 1", "y 0"]
    # Asked again (from the rows this process already read), the answer is the same.
    again = state.load_frames(shas, ["parsed_file"])["parsed_file"]
    assert again.sort("sha256").equals(found["parsed_file"].sort("sha256"))


def test_every_cached_content_has_one_parsed_file_row(tmp_path: Path):
    state = State(tmp_path / "state")
    assert state.parsed_files().is_empty()
    state.write_batch(batch_of("x", 2))
    x0, y0 = batch_of("x", 1), batch_of("y", 1)
    state.write_batch({name: pl.concat([x0[name], y0[name]]) for name in SCHEMAS})
    rows = state.parsed_files()
    assert rows.columns == list(SCHEMAS["parsed_file"])
    shas = pl.concat([batch_of("x", 2)["parsed_file"]["sha256"], y0["parsed_file"]["sha256"]])
    assert sorted(rows["sha256"].to_list()) == sorted(shas.to_list())
    assert rows.sort("sha256").equals(
        state.load_frames(shas, ["parsed_file"])["parsed_file"].sort("sha256")
    )


def test_the_manifest_read_is_the_file_as_last_written(tmp_path: Path):
    state = State(tmp_path / "state")
    assert state.read_manifest().is_empty()
    state.root.mkdir(parents=True)
    rows = {"path": ["a.txt"], "size_bytes": [1], "mtime_ns": [5], "sha256": ["x"]}
    state.write_manifest(pl.DataFrame(rows, schema=MANIFEST_SCHEMA))
    assert state.read_manifest()["sha256"].to_list() == ["x"]
    # Rewritten at once with rows of the same size: read again, not taken from memory.
    state.write_manifest(pl.DataFrame({**rows, "sha256": ["y"]}, schema=MANIFEST_SCHEMA))
    assert state.read_manifest()["sha256"].to_list() == ["y"]
    assert State(tmp_path / "state").read_manifest()["sha256"].to_list() == ["y"]
    state.manifest_path.unlink()
    assert state.read_manifest().is_empty()


def test_a_file_is_read_again_unless_its_size_time_and_cached_content_are_as_known(
    tmp_path: Path,
):
    state = State(tmp_path / "state")
    cached = batch_of("cached", 2)["parsed_file"]["sha256"]
    state.write_batch(batch_of("cached", 2))
    manifest = pl.DataFrame(
        {
            "path": ["a.txt", "b.txt", "c.txt", "d.txt"],
            "size_bytes": [10, 20, 30, 40],
            "mtime_ns": [1, 2, 3, 4],
            "sha256": [cached[0], cached[1], cached[1], "f" * 64],
        },
        schema=MANIFEST_SCHEMA,
    )
    files = pl.DataFrame(
        {
            "path": ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"],
            "size_bytes": [10, 21, 30, 40, 50],
            "mtime_ns": [1, 2, 9, 4, 5],
            "skip_reason": None,
        },
        schema=RAW_FILE_SCHEMA,
    )
    unchanged, to_read = plan_reads.fn(files, manifest, state.parsed_contents())
    # b: another size; c: another time; d: a content no longer cached; e: a new file.
    assert unchanged["path"].to_list() == ["a.txt"]
    assert unchanged["sha256"].to_list() == [cached[0]]
    assert [raw.path for raw in to_read] == ["b.txt", "c.txt", "d.txt", "e.txt"]


def _folder(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def test_a_replaced_folder_holds_the_new_files_and_the_old_ones_go_in_the_background(
    tmp_path: Path,
):
    kept = _folder(tmp_path / "state" / "memo", {"old.parquet": "old", "about.json": "1"})
    new = _folder(tmp_path / "state" / "build" / "build-1.memo", {"about.json": "2"})
    removing = replace_folder(kept, new)
    assert sorted(p.name for p in kept.iterdir()) == ["about.json"]
    assert (kept / "about.json").read_text() == "2"
    assert not new.exists()
    assert removing is not None
    removing.join()
    # Nothing is left beside the new folder's old place: the old folder is gone.
    assert list((tmp_path / "state" / "build").iterdir()) == []


def test_a_folder_replaced_where_there_was_none_needs_no_removal(tmp_path: Path):
    new = _folder(tmp_path / "build" / "build-1.digests", {"about.json": "2"})
    assert replace_folder(tmp_path / "digests", new) is None
    assert (tmp_path / "digests" / "about.json").read_text() == "2"
