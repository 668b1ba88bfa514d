"""Adding files to a normalisation without doing it again.

A normalisation (`flows.normalise.normalise`) can keep a memo of its decisions: its contents
(`files`), every paper observation with its paper id, every identifying key with the paper id
of its group, the profiles with their owners, the crosswalk of identities, the names it had to
resolve across pages, how each paper spells each author, the stated topics, where each
abstract came from, and the tables that hold a row per paper. When a later run only adds
contents, `normalise_added` gives the same tables as normalising everything again, from the
memo and the added contents, and redoes only what the additions can change:

- papers: the groups of observations that share a key with an added observation are grouped
  again, with the added ones; every other group and its id stand. Only the papers of those
  groups get new rows in the paper tables.
- owners: the nodes whose rows or papers changed, and every node linked to them by a name
  key or an ORCID (and so on, until none is added), are grouped again; every other node
  keeps its author id.
- listed names: resolved again on every paper whose answer may change: a paper grouped
  again; a paper of a page whose papers or owner changed; a paper that lists a name no page
  owner claims, under a name key whose owners or their papers changed; a paper that lists
  a source id whose author changed. Their authorships are made again from all their names.

Anything else (a content dropped, changed, or now counted at another path or time) needs a
whole normalisation: `normalise_added` then returns None.

In a run (`normalise_kept`), the tables of `PARTIAL_TABLES` stay partial: the rows of the
papers the addition redid, of the authors it may have changed and of the snapshots whose
papers or owner changed, for the load to put in place of theirs (`Normalised`).

The memo keeps a frame as layers: the first written whole, each next one the rows to put in
place of those of some keys (`Replaced`). An addition writes only its own layers and links
the earlier ones from the last memo, in other threads while the run goes on; a frame with
`MAX_LAYERS` layers is written whole again (`flows.layers`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from flows.cache import read_json_object, replace_folder, write_json_atomic
from flows.layers import Layer, add_layer, named_layers, replaced, scan_layers, takes_a_layer
from flows.normalise import (
    SOURCE_MENTION_COLUMNS,
    Keep,
    _assign_paper_ids,
    _authors,
    _authorships,
    _citation_observations,
    _keep_nothing,
    _order,
    _paper_observations,
    _papers,
    _profile_papers,
    _profiles,
    _resolve_mentions,
    _snapshots,
    _source_ids,
    _source_mentions,
    _with_abstracts,
    _with_latest_rank,
    group_nodes,
    loaded_contents,
    name_spellings,
    node_orcids,
    normalise,
    observation_rows,
    owner_identity,
    paper_key_pairs,
    paper_topics,
    papers_of_nodes,
    profile_paper_rows,
    with_author_ids,
    with_nodes,
    with_owners,
    with_papers_read,
)

# The memo's frames besides its tables, as `normalise` keeps them.
MEMO: Final = (
    "files", "paper_keys", "observations", "source_mentions", "profiles", "crosswalk",
    "unresolved", "spellings", "stated_topics", "abstract_from",
)  # fmt: skip
# The tables an addition hands over partial (see `Normalised`), each with its order, whose
# first column keys its rows (but where `_KEYS` names another): those with a row per paper
# (or per paper and more), the authors, the profile snapshots and the papers of each. The
# memo holds them whole.
PARTIAL_TABLES: Final = {
    "paper": ("paper_id",),
    "paper_observation": ("paper_id", "sha256", "line"),
    "paper_citation": ("paper_id", "source", "observed_at"),
    "paper_topic": ("paper_id", "scheme", "topic"),
    "authorship": ("paper_id", "author_id"),
    "author": ("author_id",),
    "profile_paper": ("snapshot_id", "paper_id"),
    "profile_snapshot": ("author_id", "captured_at", "snapshot_id"),
}
_KEYS: Final = {"profile_snapshot": "snapshot_id"}
# More added contents than this share of all makes a whole normalisation: it is then about
# as fast, and its memo is as good.
MAX_ADDED_SHARE: Final = 0.25
_ABOUT: Final = "about.json"
# Threads writing the memo, while the normalisation and then the load go on.
_WRITERS: Final = 2
Frames = Mapping[str, pl.DataFrame | pl.LazyFrame]
# The parsed frames of the given contents (`State.scan_frames` narrowed to the batches
# holding them): an addition reads only what it needs of the parse cache.
Scan = Callable[[pl.Series], Frames]
# Receives each frame of an addition's memo, whole or `Replaced`.
KeepAdded = Callable[[str, "pl.DataFrame | pl.LazyFrame | Replaced"], None]


@dataclass(frozen=True)
class Replaced:
    """A memo frame made from the last memo's frame of that name (`old`): the rows whose
    `key` is one of `keys` replaced by `rows`; with no `keys`, `rows` added. The memo keeps
    it as a layer over the last memo's (`Memo.keep`)."""

    old: pl.DataFrame | pl.LazyFrame
    rows: pl.DataFrame
    keys: pl.Series | None
    key: str = "paper_id"

    def whole(self) -> pl.LazyFrame:
        if self.keys is None:
            return pl.concat([self.old.lazy(), self.rows.lazy()])
        return replaced(self.old, self.rows, self.keys, self.key)


@dataclass(frozen=True)
class Memo:
    """A memo kept on disk: each frame's layers (`<name>.parquet` when written whole), and
    `about.json` (the code fingerprint and polars version it was made with, and the layers of
    each frame), written last: a memo without it is incomplete and never used."""

    folder: Path

    def start(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)

    def keep(
        self,
        name: str,
        frame: pl.DataFrame | pl.LazyFrame | Replaced,
        previous: Memo | None = None,
    ) -> list[Layer]:
        """Write one frame; return its layers. A `Replaced` frame is written as one more
        layer over the `previous` memo's layers of it (linked here, not written again) while
        it has fewer than `MAX_LAYERS`; otherwise whole (streamed)."""
        if isinstance(frame, Replaced):
            earlier = previous.layers(name) if previous is not None else None
            if takes_a_layer(earlier):
                return add_layer(
                    previous.folder, self.folder, earlier, name, frame.rows, frame.keys, frame.key
                )
            frame = frame.whole()
        path = self.folder / f"{name}.parquet"
        # Without statistics: a memo frame is read whole or filtered by ids that are hashes,
        # spread over every row group, so none would be skipped by them; at 10^5 profiles
        # the memo took 2.9 CPU-seconds to write against 3.5.
        if isinstance(frame, pl.LazyFrame):
            frame.sink_parquet(path, compression="lz4", statistics=False)
        else:
            frame.write_parquet(path, compression="lz4", statistics=False)
        return [Layer(path.name)]

    def seal(self, code_fingerprint: str, layers: Mapping[str, list[Layer]]) -> None:
        """Write `about.json`: the memo is complete."""
        about = {"code": code_fingerprint, "polars": pl.__version__, "layers": layers}
        write_json_atomic(about, self.folder / _ABOUT)

    def refusal(self, code_fingerprint: str) -> str | None:
        """Why this memo cannot be used by the given code, or None when it can."""
        about = self._about()
        if about is None:
            return "no memo of the last normalisation"
        if {k: about.get(k) for k in ("code", "polars")} != {
            "code": code_fingerprint,
            "polars": pl.__version__,
        }:
            return "the code or the polars version changed"
        missing = [
            name
            for name in (*MEMO, *PARTIAL_TABLES)
            if not (layers := self.layers(name))
            or not all((self.folder / f).is_file() for layer in layers for f in layer[:2] if f)
        ]
        if missing:
            return f"the memo of the last normalisation lacks {', '.join(missing)}"
        return None

    def layers(self, name: str) -> list[Layer] | None:
        """The layers of frame `name`, first first; None when the memo lacks it."""
        return named_layers(self._about(), name)

    def frames(self) -> dict[str, pl.LazyFrame]:
        return {name: self._frame(name) for name in (*MEMO, *PARTIAL_TABLES)}

    def _frame(self, name: str) -> pl.LazyFrame:
        return scan_layers(self.folder, self.layers(name) or [])

    def _about(self) -> dict | None:
        return read_json_object(self.folder / _ABOUT)


class MemoWriting:
    """A memo being written: each frame kept is written in other threads (polars writes
    without holding the interpreter) while the normalisation, and then the load, go on; a
    `Replaced` frame as a layer over the `previous` memo's. `finish` waits for every frame
    and seals the memo; `abandon` stops and leaves it incomplete (never used)."""

    def __init__(self, memo: Memo, code_fingerprint: str) -> None:
        memo.start()
        self.memo = memo
        self.code_fingerprint = code_fingerprint
        self._pool = ThreadPoolExecutor(_WRITERS, thread_name_prefix="memo")
        self._pending: dict[str, Future[list[Layer]]] = {}

    def keep(
        self,
        name: str,
        frame: pl.DataFrame | pl.LazyFrame | Replaced,
        previous: Memo | None = None,
    ) -> None:
        if name in self._pending:
            raise ValueError(f"memo frame {name} is kept twice")
        self._pending[name] = self._pool.submit(self.memo.keep, name, frame, previous)

    def finish(self) -> None:
        """Wait for every frame (the first error is raised), then seal the memo."""
        try:
            layers = {name: written.result() for name, written in self._pending.items()}
        finally:
            self._pending.clear()
            self._pool.shutdown(cancel_futures=True)
        self.memo.seal(self.code_fingerprint, layers)

    def abandon(self) -> None:
        """Stop writing (frames being written are finished); the memo stays unsealed."""
        self._pending.clear()
        self._pool.shutdown(cancel_futures=True)


class ReadAhead:
    """The frames an addition reads whole of the memo (`_read_at_once`), read in another
    thread while the run reads the new files (polars reads without holding the
    interpreter): at 10^5 profiles they take 0.2 s. `take` waits for them; `drop` lets them
    go, unread or as soon as read."""

    def __init__(self, memo: Memo) -> None:
        pool = ThreadPoolExecutor(1, thread_name_prefix="memo-read")
        self._read: Future[dict[str, pl.DataFrame]] | None = pool.submit(
            lambda: _read_at_once(memo.frames())
        )
        pool.shutdown(wait=False)

    @classmethod
    def start(cls, memo: Memo, code_fingerprint: str, n_files: int, n_new: int) -> ReadAhead | None:
        """A read-ahead of `memo` when an addition of `n_new` of `n_files` files will likely
        use it (as `_normalised` decides); else None."""
        if n_new > MAX_ADDED_SHARE * n_files or memo.refusal(code_fingerprint) is not None:
            return None
        return cls(memo)

    def take(self) -> dict[str, pl.DataFrame]:
        read, self._read = self._read, None
        if read is None:
            raise RuntimeError("the memo read ahead was taken or dropped already")
        return read.result()

    def drop(self) -> None:
        read, self._read = self._read, None
        if read is not None:
            read.cancel()


@dataclass
class Normalised:
    """The core tables of a normalisation and how it was made.

    After an addition, a table named in `partial` holds only the rows of the keys
    `partial[name]` (paper ids; author ids for `author`, snapshot ids for `profile_snapshot`
    and `profile_paper`): those keys' rows in the last normalisation's table are to be
    replaced by them (keys gone included), and its other rows stand as they are. The whole
    table is `whole(name)`; the new memo holds it too. The load replaces only those keys'
    rows, and none of the 10^6 others needs to be sorted, written or digested again."""

    tables: dict[str, pl.DataFrame]
    how: str
    partial: dict[str, pl.Series]
    previous: Frames

    def whole(self, name: str) -> pl.DataFrame:
        """Table `name` whole, as a whole normalisation orders it."""
        if name not in self.partial:
            return self.tables[name]
        return _spliced(name, self.previous[name], self.tables[name], self.partial[name]).collect()

    def whole_tables(self) -> dict[str, pl.DataFrame]:
        return {name: self.whole(name) for name in self.tables}

    def make_whole(self) -> None:
        """Make every partial table whole."""
        for name in list(self.partial):
            self.tables[name] = self.whole(name)
            del self.partial[name]


def normalise_kept(
    previous: Memo,
    new: MemoWriting,
    frames: Frames | Scan,
    files: pl.DataFrame,
    read_ahead: ReadAhead | None = None,
) -> Normalised:
    """The core tables, added to the `previous` memo when it allows (`normalise_added`),
    else normalised whole; `new` receives this normalisation's memo (its caller finishes
    it). Also says which. `frames` are the parsed frames of `files`, or how to scan those
    of some of them; `read_ahead`, what an addition reads of `previous`, being read."""

    def keep(name: str, frame: pl.DataFrame | pl.LazyFrame | Replaced) -> None:
        new.keep(name, frame, previous)

    scan = frames if callable(frames) else scanning(frames)
    normalised = _normalised(previous, scan, files, new.code_fingerprint, keep, read_ahead)
    for name in PARTIAL_TABLES:
        if name in normalised.partial:
            rows, keys = normalised.tables[name], normalised.partial[name]
            keep(name, Replaced(normalised.previous[name], rows, keys, partial_key(name)))
        else:
            keep(name, normalised.tables[name])
    return normalised


def scanning(frames: Frames) -> Scan:
    """A `Scan` of frames in memory."""

    def scan(sha256: pl.Series) -> Frames:
        wanted = pl.col("sha256").is_in(sha256.implode())
        return {name: frame.lazy().filter(wanted) for name, frame in frames.items()}

    return scan


def _normalised(
    previous: Memo,
    scan: Scan,
    files: pl.DataFrame,
    code_fingerprint: str,
    keep: KeepAdded,
    read_ahead: ReadAhead | None,
) -> Normalised:
    reason = previous.refusal(code_fingerprint)
    if reason is None:
        memo = previous.frames()
        added = added_contents(_collect(memo["files"]), files)
        n_files = files["sha256"].n_unique()
        if added is None:
            reason = "a content of the last normalisation went, changed or moved"
        elif added.height > MAX_ADDED_SHARE * n_files:
            reason = f"{added.height:,} of {n_files:,} contents are new"
        else:
            noun = "content" if added.height == 1 else "contents"
            how = f"{added.height:,} new {noun} added to the last normalisation"
            whole = read_ahead.take() if read_ahead else None
            tables, partial = _add(memo, scan, files, added, keep, whole)
            return Normalised(tables, how, partial, memo)
    if read_ahead:
        read_ahead.drop()
    whole = scan(files["sha256"])
    return Normalised(normalise(whole, files, keep), f"normalised in full: {reason}", {}, {})


def _spliced(
    name: str, old: pl.DataFrame | pl.LazyFrame, rows: pl.DataFrame, keys: pl.Series
) -> pl.LazyFrame:
    """Table `name` of `PARTIAL_TABLES`: `old` with every row of `keys` replaced by `rows`,
    in the order a whole normalisation gives it."""
    order = PARTIAL_TABLES[name]
    # Stable: rows alike in the order's columns come from one content, in its order, and the
    # rows of one key all come from one side.
    return replaced(old, rows, keys, partial_key(name)).sort(_order(*order), maintain_order=True)


def partial_key(name: str) -> str:
    """The column whose values key the rows of `PARTIAL_TABLES` table `name`."""
    return _KEYS.get(name, PARTIAL_TABLES[name][0])


def replace_memo(kept: Path, new: Memo) -> None:
    """Make `new` the memo kept at `kept` (`replace_folder`: a run killed in between leaves
    none, and the next run normalises in full)."""
    replace_folder(kept, new.folder)


def added_contents(memo_files: pl.DataFrame, files: pl.DataFrame) -> pl.DataFrame | None:
    """The contents of `files` (as `loaded_contents`) that a memo of `memo_files` lacks, or
    None when the memo's contents are not all there, each at the same path and time."""
    files = loaded_contents(files)
    kept = memo_files.join(
        files, on=["sha256", "path", "captured_at"], how="semi", nulls_equal=True
    )
    if kept.height != memo_files.height:
        return None
    return files.join(memo_files, on="sha256", how="anti")


def normalise_added(
    memo: Frames, frames: Frames, files: pl.DataFrame, keep: Keep | None = None
) -> dict[str, pl.DataFrame] | None:
    """The tables of `normalise(frames, files)`, made from `memo` (kept by a normalisation of
    some of these contents) and the contents it lacks; None when `files` does not hold every
    content of the memo at the same path and time. `keep` receives the new memo."""
    added = added_contents(_collect(memo["files"]), files)
    if added is None:
        return None
    keep = keep or _keep_nothing

    def keep_whole(name: str, frame: pl.DataFrame | pl.LazyFrame | Replaced) -> None:
        keep(name, frame.whole().collect() if isinstance(frame, Replaced) else frame)

    tables, partial = _add(memo, scanning(frames), files, added, keep_whole)
    return Normalised(tables, "", partial, memo).whole_tables()


def _add(
    memo: Frames,
    scan: Scan,
    files: pl.DataFrame,
    added: pl.DataFrame,
    keep: KeepAdded,
    whole: dict[str, pl.DataFrame] | None = None,
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.Series]]:
    """`normalise_added`, given the `added` contents (`added_contents`): the tables, with
    those of `PARTIAL_TABLES` partial (see `Normalised`), and each partial table's keys.
    `whole` is `_read_at_once(memo)` when read already."""
    keep("files", loaded_contents(files))
    whole = _read_at_once(memo) if whole is None else whole
    frames = scan(added["sha256"])

    def added_only(name: str) -> pl.LazyFrame:
        return frames[name].lazy()

    new_profiles = _profiles(added_only("profile").collect(), added)
    # The new profiles come after the old ones (`profiles` below).
    n_old = whole["profiles"].height
    new_observations = _paper_observations(
        added_only("paper").drop("abstract").collect(), added, new_profiles, n_old
    )
    new_profiles = with_papers_read(new_profiles, new_observations)
    old_observations = whole.pop("observations")
    regrouped, retired, observations = _regroup(
        whole.pop("paper_keys"), memo["observations"], old_observations, new_observations, keep
    )
    moved = _moved(old_observations, regrouped, retired)
    old_observations = old_observations.select("profile_row", "paper_id")
    papers = _papers(regrouped)
    chosen: dict[str, pl.DataFrame] = {}
    sources = _abstract_sources(memo, retired, added_only("paper"))
    tables = {
        "paper": _with_abstracts(papers, regrouped, sources, chosen.__setitem__),
        "paper_observation": observation_rows(regrouped),
        "paper_citation": _citation_observations(regrouped),
        "paper_topic": paper_topics(
            papers, _stated_topics(memo, moved, regrouped, added_only("topic"), keep)
        ),
    }
    keep("abstract_from", Replaced(memo["abstract_from"], chosen["abstract_from"], retired))

    old_profiles = whole.pop("profiles")
    new_profiles = with_nodes(new_profiles)
    profiles = pl.concat([old_profiles.drop("author_id"), new_profiles])
    profile_paper = _profile_papers(observations)
    new_raw = (
        added_only("mention")
        .filter(pl.col("source_author_id").is_not_null())
        .select(SOURCE_MENTION_COLUMNS)
        .collect()
    )
    source_raw = pl.concat([whole.pop("source_mentions"), new_raw])
    keep("source_mentions", Replaced(memo["source_mentions"], new_raw, None))
    source_mentions = _source_mentions(source_raw, observations)
    # The nodes whose rows or papers changed: added profiles and listed ids, and the nodes
    # of a page or list with a paper whose id changed.
    renamed = moved.filter(pl.col("old") != pl.col("paper_id"))
    changed = pl.concat(
        [
            new_profiles["node"],
            _source_mentions(new_raw, observations)["node"],
            _on_pages(profiles, _rows_of(renamed))["node"],
            source_mentions.filter(pl.col("paper_id").is_in(renamed["paper_id"].implode()))["node"],
        ]
    )
    old_crosswalk = whole.pop("crosswalk")
    crosswalk, regrouped_nodes = _regroup_owners(
        old_crosswalk, changed, profiles, profile_paper, source_mentions
    )
    profiles = with_author_ids(profiles, crosswalk)
    keep("profiles", profiles)
    keep("crosswalk", crosswalk)
    profile_paper = with_owners(profile_paper, profiles)
    # Each table is made as soon as it can be, so what it is made from can go.
    tables["author_source_id"] = _source_ids(crosswalk)

    unresolved = whole.pop("unresolved")
    pages = _changed_pages(renamed, old_profiles, profiles)
    listing = pl.concat(
        [
            regrouped["paper_id"],
            _papers_to_resolve(
                pages,
                old_observations,
                profile_paper,
                (old_profiles, profiles),
                unresolved,
            ),
            _listing_changed_ids(old_crosswalk, crosswalk, regrouped_nodes, source_mentions),
        ]
    ).unique()
    # The owners, before and after, of the pages whose papers or owner changed.
    owners = pl.concat([_on_pages(p, pages)["author_id"] for p in (old_profiles, profiles)])
    del old_observations, old_profiles, old_crosswalk, source_mentions
    in_listing = pl.col("paper_id").is_in(listing.implode())
    listed = _with_latest_rank(observations.filter(in_listing))
    del observations
    mention = scan(listed["sha256"].unique())["mention"].lazy()
    fresh: dict[str, pl.DataFrame] = {}
    mentions = _resolve_mentions(
        mention, listed, profiles, profile_paper, crosswalk, fresh.__setitem__
    )
    tables["authorship"] = _authorships(mentions, profile_paper.filter(in_listing))
    # A snapshot's papers change only with its page's papers or owner.
    tables["profile_paper"] = profile_paper_rows(
        profile_paper.filter(pl.col("profile_row").is_in(pages.implode()))
    )
    # A snapshot's row changes only with its page's owner (its papers read are its own).
    tables["profile_snapshot"] = _snapshots(_on_pages(profiles, pages))
    snapshots = tables["profile_snapshot"]["snapshot_id"]
    del profile_paper
    redone = pl.concat([retired, listing]).unique()
    old_spellings = whole.pop("spellings")
    new_spellings = name_spellings(mentions)
    del mentions
    in_redone = pl.col("paper_id").is_in(redone.implode())
    # An author's row follows their spellings, or their profiles for an owner: only the
    # authors spelled on a redone paper, and the owners of a changed page, may have another.
    authors = pl.concat(
        [old_spellings.filter(in_redone)["author_id"], new_spellings["author_id"], owners]
    ).unique()
    # Only the spellings of those authors: the others' rows are not made again.
    among = pl.col("author_id").is_in(authors.implode())
    spellings = pl.concat([old_spellings.filter(~in_redone & among), new_spellings.filter(among)])
    del old_spellings
    keep("unresolved", Replaced(unresolved, fresh["unresolved"], redone))
    del unresolved
    keep("spellings", Replaced(memo["spellings"], new_spellings, redone))
    tables["author"] = _authors(spellings, profiles, authors)
    del spellings, profiles

    partial = {"author": authors, "profile_paper": snapshots, "profile_snapshot": snapshots}
    for name, order in PARTIAL_TABLES.items():
        tables[name] = rows = tables[name].sort(_order(*order), maintain_order=True)
        if name not in partial:
            gone = redone if name == "authorship" else retired
            partial[name] = pl.concat([gone, rows["paper_id"]]).unique()
    return tables, partial


def _collect(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.lazy().collect()


# The memo frames an addition reads whole (`_read_at_once`), and the columns it reads of
# those it does not read whole.
_READ_WHOLE: Final = (
    "observations", "paper_keys", "profiles", "crosswalk", "unresolved", "spellings",
    "source_mentions",
)  # fmt: skip
_COLUMNS_READ: Final = {
    # What the rest reads of every observation; the regrouped ones are read whole apart.
    "observations": (
        "sha256", "paper_index", "profile_index", "paper_id", "source", "line", "captured_at",
        "source_rank", "profile_row",
    ),
}  # fmt: skip


def _read_at_once(memo: Frames) -> dict[str, pl.DataFrame]:
    """The memo frames of `_READ_WHOLE` (the columns of `_COLUMNS_READ`), read side by side:
    at 10^5 profiles, 0.2 s against 0.4 s one after another. The caller takes each out
    (`pop`) when it uses it, so that it is let go as soon as the caller lets it go."""
    scans = [memo[name].lazy().select(_COLUMNS_READ.get(name, "*")) for name in _READ_WHOLE]
    return dict(zip(_READ_WHOLE, pl.collect_all(scans), strict=True))


def _regroup(
    old_keys: pl.DataFrame,
    old: pl.DataFrame | pl.LazyFrame,
    read: pl.DataFrame,
    added: pl.DataFrame,
    keep: KeepAdded,
) -> tuple[pl.DataFrame, pl.Series, pl.DataFrame]:
    """Group the added observations with the old groups (of the `old` observations, whose
    keys are `old_keys`) they share a key with. `read` is some columns of every old
    observation; only the observations of those groups are read whole from `old`.

    Returns the observations of those groups (ranked, with their new paper ids), the old ids
    of the groups taken apart (`retired`), and every observation with its paper id (the
    columns of `read`)."""
    retired = old_keys.join(paper_key_pairs(added).select("key"), on="key", how="semi")[
        "paper_id"
    ].unique()
    in_retired = pl.col("paper_id").is_in(retired.implode())
    names = old.lazy().collect_schema().names()
    columns = [c for c in names if c != "paper_id"]
    # Copied into one chunk: polars 2.1 can leave the text columns of a frame in memory,
    # filtered lazily, in a state that a later `pl.format` panics on ("i < self.len()").
    taken_apart = old.lazy().filter(in_retired).select(columns).collect().rechunk()
    grouped: dict[str, pl.DataFrame] = {}
    regrouped = _assign_paper_ids(
        pl.concat([taken_apart, added.select(columns)]), grouped.__setitem__
    )
    keep("paper_keys", Replaced(old_keys, grouped["paper_keys"], retired))
    keep("observations", Replaced(old, regrouped.select(names), retired))
    every = Replaced(read, regrouped.select(read.columns), retired).whole().collect()
    return _with_latest_rank(regrouped), retired, every


def _moved(old: pl.DataFrame, regrouped: pl.DataFrame, retired: pl.Series) -> pl.DataFrame:
    """The old observations of the retired groups: (sha256, paper_index, profile_index,
    profile_row, old paper id, new paper id). Groups only merge, so each old id has one new
    id."""
    key = ["sha256", "paper_index"]
    return (
        old.filter(pl.col("paper_id").is_in(retired.implode()))
        .select(*key, "profile_index", "profile_row", old="paper_id")
        .join(regrouped.select(*key, "paper_id"), on=key)
    )


def _stated_topics(
    memo: Frames,
    moved: pl.DataFrame,
    regrouped: pl.DataFrame,
    added_topics: pl.LazyFrame,
    keep: KeepAdded,
) -> pl.DataFrame:
    """The stated topics of the regrouped papers: those of their old groups and of the added
    observations. Keeps every paper's."""
    old = _collect(memo["stated_topics"])
    renamed = moved.select("old", "paper_id").unique()
    in_retired = pl.col("paper_id").is_in(renamed["old"].implode())
    carried = (
        old.filter(in_retired)
        .join(renamed, left_on="paper_id", right_on="old")
        .select(paper_id="paper_id_right", scheme="scheme", topic="topic")
    )
    added = (
        added_topics.collect()
        .join(regrouped.select("sha256", "paper_index", "paper_id"), on=["sha256", "paper_index"])
        .select("paper_id", "scheme", "topic")
    )
    stated = pl.concat([carried, added]).unique()
    keep("stated_topics", Replaced(old, stated, renamed["old"]))
    return stated


def _abstract_sources(memo: Frames, retired: pl.Series, added_papers: pl.LazyFrame) -> pl.LazyFrame:
    """(sha256, paper_index, abstract) of the observations that may give a regrouped paper
    its abstract: the one each old group took it from, and every added one.

    Observations are in one total order ("latest first"), so the latest stating one of a
    merged group is the latest of its old groups' choices and its added observations."""
    in_retired = pl.col("paper_id").is_in(retired.implode())
    chosen = (
        _collect(memo["abstract_from"])
        .filter(in_retired)
        .join(
            memo["paper"].lazy().filter(in_retired).select("paper_id", "abstract").collect(),
            on="paper_id",
        )
        .select("sha256", "paper_index", "abstract")
    )
    return pl.concat([chosen.lazy(), added_papers.select("sha256", "paper_index", "abstract")])


def _regroup_owners(
    old_crosswalk: pl.DataFrame,
    changed: pl.Series,
    profiles: pl.DataFrame,
    profile_paper: pl.DataFrame,
    source_mentions: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.Series]:
    """The crosswalk, with the owners of the `changed` nodes grouped again, and the nodes
    grouped again (only their author ids may differ from the old crosswalk's).

    Two nodes are joined only when they share a name key or an ORCID, old or new. So the
    nodes that share one with a changed node, and those that share one with them, and so on
    until none is added, hold every join that can differ and every old group one of them was
    in: they are grouped again, as `group_nodes` groups all of them; every other node keeps
    its joins, its group and its author id."""
    identity = owner_identity(profiles, source_mentions)
    inside_changed = pl.col("node").is_in(changed.implode())
    name_keys = pl.concat(
        [
            old_crosswalk.select("node", "name_key"),
            identity.filter(inside_changed).select("node", "name_key"),
        ]
    ).drop_nulls()
    nodes = _closure(
        changed.unique(),
        (
            (name_keys, "name_key"),
            (node_orcids(identity), "orcid"),
        ),
    )
    inside = pl.col("node").is_in(nodes.implode())
    regrouped = group_nodes(
        identity.filter(inside),
        papers_of_nodes(profiles.filter(inside), profile_paper, source_mentions.filter(inside)),
    )
    crosswalk = pl.concat([old_crosswalk.filter(~inside), regrouped.select(old_crosswalk.columns)])
    return crosswalk, nodes


def _closure(nodes: pl.Series, links: tuple[tuple[pl.DataFrame, str], ...]) -> pl.Series:
    """`nodes` and every node reached from them through a shared value of a link (each a
    frame of `node` and the named column), again and again until none is added."""
    while True:
        inside = pl.col("node").is_in(nodes.implode())
        reached = [
            frame.filter(pl.col(column).is_in(frame.filter(inside)[column].implode()))["node"]
            for frame, column in links
        ]
        grown = pl.concat([nodes, *reached]).unique()
        if grown.len() == nodes.len():
            return nodes
        nodes = grown


def _changed_pages(
    renamed: pl.DataFrame, old_profiles: pl.DataFrame, profiles: pl.DataFrame
) -> pl.Series:
    """The pages whose papers or owner changed, as their rows in `profiles` (`profile_row`),
    sorted: an added page, a page with a paper whose id changed (`renamed`: the old
    observations whose id changed), a page whose owner changed. A page's papers are its
    observations', so nothing else changes them.

    `profiles` holds the rows of `old_profiles` first, in their order, then the added pages':
    an old page's owner, before and after, is in the same row of each (no join is needed),
    and an old page keeps its row number, the one its old observations hold."""
    n_old = old_profiles.height
    owner_changed = old_profiles.select(
        profile_row=pl.int_range(pl.len(), dtype=pl.UInt32).filter(
            old_profiles["author_id"] != profiles["author_id"].head(n_old)
        )
    )["profile_row"]
    fresh = pl.int_range(n_old, profiles.height, dtype=pl.UInt32, eager=True)
    return pl.concat([_rows_of(renamed), owner_changed, fresh]).unique().sort()


def _rows_of(observations: pl.DataFrame) -> pl.Series:
    """The profile rows of the pages of `observations`, sorted, each once."""
    return observations["profile_row"].drop_nulls().unique().sort()


def _on_pages(profiles: pl.DataFrame, pages: pl.Series) -> pl.DataFrame:
    """The rows of `profiles` at the sorted row numbers `pages` (`_changed_pages`) that it
    holds: `old_profiles` holds only the first rows of `profiles`."""
    return profiles[pages.filter(pages < profiles.height)]


def _changed(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """Rows in one of `old` and `new` but not the other (each frame's rows taken once)."""
    old, new = old.unique(), new.unique()
    on = old.columns
    return pl.concat(
        [
            old.join(new, on=on, how="anti", nulls_equal=True),
            new.join(old, on=on, how="anti", nulls_equal=True),
        ]
    )


def _papers_to_resolve(
    changed_pages: pl.Series,
    old_observations: pl.DataFrame,
    profile_paper: pl.DataFrame,
    profiles: tuple[pl.DataFrame, pl.DataFrame],
    unresolved: pl.DataFrame,
) -> pl.Series:
    """Papers whose listed names may resolve to another owner now: the papers of a changed
    page, and those that list a name no page owner claims, under a name key whose owners, or
    whose owners' papers, changed. Owners and their papers change only through changed
    pages, so only the owners of those pages are compared, old against new."""
    in_changed = pl.col("profile_row").is_in(changed_pages.implode())
    on_changed_pages = profile_paper.filter(in_changed)["paper_id"]
    touched = [_on_pages(p, changed_pages) for p in profiles]
    authors = pl.concat([p["author_id"] for p in touched]).unique().implode()
    old_profiles = profiles[0]
    # An old observation holds its page's row in `old_profiles` (`profile_row`).
    old_pages = old_profiles.select(
        "author_id", profile_row=pl.int_range(pl.len(), dtype=pl.UInt32)
    ).filter(pl.col("author_id").is_in(authors))
    old_holdings = old_observations.join(old_pages, on="profile_row").select(
        "author_id", "paper_id"
    )
    new_holdings = profile_paper.filter(pl.col("author_id").is_in(authors)).select(
        "author_id", "paper_id"
    )
    changed_holders = _changed(old_holdings, new_holdings)["author_id"].unique().implode()
    name_keys = pl.concat([p["name_key"] for p in touched]).unique().implode()
    owners = [p.filter(pl.col("name_key").is_in(name_keys)).select("name_key", "author_id") for p in profiles]  # fmt: skip
    changed_keys = pl.concat(
        [
            _changed(*owners)["name_key"],
            *(p.filter(pl.col("author_id").is_in(changed_holders))["name_key"] for p in profiles),
        ]
    ).unique()
    by_name = unresolved.filter(pl.col("name_key").is_in(changed_keys.implode()))["paper_id"]
    return pl.concat([on_changed_pages, by_name])


def _listing_changed_ids(
    old_crosswalk: pl.DataFrame,
    crosswalk: pl.DataFrame,
    regrouped: pl.Series,
    source_mentions: pl.DataFrame,
) -> pl.Series:
    """Papers that list a source id whose author changed: one of the `regrouped` nodes (every
    other node kept its author id)."""
    inside = pl.col("node").is_in(regrouped.implode())
    nodes = _changed(
        *(c.filter(inside).select("node", "author_id") for c in (old_crosswalk, crosswalk))
    )
    return source_mentions.filter(pl.col("node").is_in(nodes["node"].implode()))["paper_id"]
