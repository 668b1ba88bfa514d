"""Normalisation with polars: dates, categories, ids and the decisions of identity.

Input: the parsed frames of every loaded file (`flows.formats.frames`, with the folded name
and title keys of `flows.formats.keys`) and the capture time of each file. Output: the core
warehouse tables as frames. Everything here is a function of those inputs alone, so the same
raw files give the same rows and ids whatever the order they were read in, in one run or many.

Identity rules (see README "Identity"):
- paper: observations sharing any key are one paper. Keys, strongest first: DOI, arXiv id,
  source paper ids, then the title key with the year. The paper id is derived from the smallest
  key of the connected group.
- profile owner: captures of one source id are one person; profile pages (no source id) with
  the same name key are one person when their paper lists overlap by at least half of the
  smaller list. The id is derived from the group's earliest capture.
- a listed coauthor resolves to a profile owner with the same name key whose pages share
  papers with a page that shows the paper (the owner holding the paper first, then the most
  shared papers, then the smallest id); otherwise to the name-only author of that name key.
  The answer is one per (paper, name key), so every page showing a paper names the same people.
- a content seen at several paths counts once, at its first path; ties in "latest observation
  first" are broken by file, line and record index, never by the input's row order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Final

import duckdb
import polars as pl

from flows.categories import category_table

OVERLAP_FOR_SAME_PROFILE: Final = 0.5
_ID_HEX_CHARS: Final = 16
_MAX_PROPAGATION_ROUNDS: Final = 200
_ID_COLUMNS: Final = frozenset({"paper_id", "author_id", "snapshot_id", "candidate"})
# Hashing ids needs no extension; the answer keeps the order of the keys.
_HASH_CONFIG: Final = {"autoinstall_known_extensions": False, "preserve_insertion_order": True}
# Fewer keys than this are hashed by hashlib: DuckDB's answer takes 25-40 ms below 4 * 10^4
# keys (its opening most of it), hashlib's 0.7-1 us a key (an addition at 10^5 profiles
# hashes some 7,000 paper and 14,000 author keys: 23 ms, against 64 ms by DuckDB).
_HASHED_BY_HASHLIB_BELOW: Final = 30_000
# Receives, by name, the frames a later run needs to add files to this one
# (`flows.incremental`): each as soon as it is made, so it can be written out and let go.
Keep = Callable[[str, pl.DataFrame | pl.LazyFrame], None]
# The columns of a listed name that carries a source's own author id, as `_source_mentions`
# reads them.
SOURCE_MENTION_COLUMNS: Final = ("sha256", "paper_index", "source_author_id", "name_key", "orcid")
SOURCE_PRIORITY: Final = {
    "openalex": 0,
    "semantic_scholar": 1,
    "google_scholar": 2,
    "scholarfeed": 3,
}


def stable_ids(keys: pl.Series, prefix: str) -> pl.Series:
    """Deterministic short ids: the first hex digits of the SHA-256 of each key (null for a
    null key), in the order of `keys`. Hashed by DuckDB, on all cores: a Python loop over
    hashlib took 1.5 µs a key (0.9 s for the papers of 10^5 profiles); a few keys, by
    hashlib (the same ids)."""
    texts = keys.cast(pl.String)
    if texts.len() < _HASHED_BY_HASHLIB_BELOW:
        ids = [
            None
            if text is None
            else prefix + hashlib.sha256(text.encode()).hexdigest()[:_ID_HEX_CHARS]
            for text in texts.to_list()
        ]
        return pl.Series("id", ids, dtype=pl.String)
    with duckdb.connect(config=dict(_HASH_CONFIG)) as con:
        con.register("identity_key", texts.to_frame("key").to_arrow())
        hashed = con.sql(
            "select $prefix || left(sha256(key), $n) as id from identity_key",
            params={"prefix": prefix, "n": _ID_HEX_CHARS},
        ).pl()
    return hashed["id"]


def _order(*columns: str) -> list[pl.Expr]:
    """Sort keys for `columns`: an id (`_ID_COLUMNS`: a letter and 16 hex digits, made by
    `stable_ids`) sorts as the number its digits spell. That is the order of its text, and
    sorting 1.4 million pairs of ids as numbers takes 0.35 s against 0.8 s as text."""
    return [_id_number(column) if column in _ID_COLUMNS else pl.col(column) for column in columns]


def connected_labels(edges: pl.DataFrame, nodes: pl.Series) -> pl.DataFrame:
    """Label every node with the smallest node of its connected component.

    `edges` has string columns `a` and `b`; the answer has `node` and `label`. Nodes are
    numbered in sorted order, then every round hooks each node, and the root of its tree, to
    the smallest grandparent among its neighbours and jumps each node to its grandparent
    (FastSV). Parents only decrease, so it stops at a fixpoint: every component a star whose
    centre is its smallest node. The rounds grow with the log of the component diameter even on
    a long chain numbered at random, where plain min-label propagation needs one round per step.
    """
    names = (
        pl.concat([nodes.to_frame("node"), edges.select(node="a"), edges.select(node="b")])
        .drop_nulls()
        .unique()
        .sort("node")
        .with_row_index("id")
    )
    ids = names.select("node", "id")
    both_ways = pl.concat([edges, edges.select(a="b", b="a")]).unique()
    arcs = (
        both_ways.join(ids, left_on="a", right_on="node")
        .join(ids, left_on="b", right_on="node", suffix="_b")
        .select(u="id", v="id_b")
    )
    parent = names.select(node="id", parent="id")
    for _ in range(_MAX_PROPAGATION_ROUNDS):
        grand = parent.join(parent.select(parent="node", grand="parent"), on="parent", how="left")
        # Smallest grandparent among each node's neighbours.
        reach = (
            arcs.join(grand.select(v="node", grand_v="grand"), on="v")
            .group_by("u")
            .agg(reach=pl.col("grand_v").min())
        )
        stepped = grand.join(reach, left_on="node", right_on="u", how="left")
        # The root of each tree takes the smallest reach of the nodes that hang from it.
        rooted = (
            stepped.filter(pl.col("reach").is_not_null())
            .group_by("parent")
            .agg(hook=pl.col("reach").min())
        )
        updated = stepped.join(rooted, left_on="node", right_on="parent", how="left").select(
            "node",
            parent=pl.min_horizontal("parent", "grand", "reach", "hook"),
            old="parent",
        )
        parent = updated.select("node", "parent")
        if (updated["parent"] == updated["old"]).all():
            return (
                names.join(parent, left_on="id", right_on="node")
                .join(names.select(parent="id", label="node"), on="parent")
                .select("node", "label")
            )
    raise RuntimeError("connected_labels did not converge")


def normalise(
    frames: Mapping[str, pl.DataFrame | pl.LazyFrame],
    files: pl.DataFrame,
    keep: Keep | None = None,
) -> dict[str, pl.DataFrame]:
    """Build the core tables from the parsed frames of the loaded files.

    `files` has one row per loaded file content: `sha256`, `path`, `captured_at`. The frames
    may be lazy (a scan of the parse cache): each is then read when it is needed, and the
    paper abstracts, most of the parsed text, only at the end. `keep`, when given, receives
    the memo of this normalisation (`flows.incremental.MEMO`) besides the tables.
    """
    keep = keep or _keep_nothing
    files = loaded_contents(files)
    # Contents are joined on their sha256 over and over: as a categorical each join compares
    # small integers, not 64-character texts; comparisons and sorts still follow the text.
    as_content = pl.col("sha256").cast(pl.Categorical)
    keep("files", files)
    files = files.with_columns(as_content)
    is_loaded = pl.col("sha256").is_in(files["sha256"].implode())
    # Read one by one, each let go once used (the caller may keep its own frames; the flow
    # passes scans, so the parsed data does not outlive its use).
    lazy = {name: frame.lazy().with_columns(as_content).filter(is_loaded) for name, frame in frames.items()}  # fmt: skip
    profiles = _profiles(lazy.pop("profile").collect(), files)
    paper = lazy.pop("paper")
    observations = _paper_observations(paper.drop("abstract").collect(), files, profiles)
    profiles = with_papers_read(profiles, observations)
    observations = _with_latest_rank(_assign_paper_ids(observations, keep))
    as_text = pl.col("sha256").cast(pl.String)
    keep("observations", observations.drop("latest_rank").with_columns(as_text))
    papers = _papers(observations)
    profile_paper = _profile_papers(observations)
    citations = _citation_observations(observations).with_columns(as_text)
    paper_observation = observation_rows(observations).with_columns(as_text)
    # What the rest reads of an observation: its texts go now (a row per observation).
    observations = observations.select(
        "sha256", "paper_index", "profile_index", "paper_id", "source", "latest_rank"
    )
    mention = lazy.pop("mention")
    with_source_ids = mention.filter(pl.col("source_author_id").is_not_null()).collect()
    keep("source_mentions", with_source_ids.select(SOURCE_MENTION_COLUMNS).with_columns(as_text))
    source_mentions = _source_mentions(with_source_ids, observations)
    del with_source_ids
    profiles, crosswalk = _assign_owner_ids(profiles, profile_paper, source_mentions)
    keep("profiles", profiles.with_columns(as_text))
    keep("crosswalk", crosswalk)
    profile_paper = with_owners(profile_paper, profiles)
    # A scan: the listed names (a row each) are read inside, and only the columns used.
    mentions = _resolve_mentions(mention, observations, profiles, profile_paper, crosswalk, keep)
    authorship = _authorships(mentions, profile_paper)
    spellings = name_spellings(mentions)
    del mentions
    keep("spellings", spellings)
    authors = _authors(spellings, profiles)
    topics = _paper_topics(papers, lazy.pop("topic").collect(), observations, keep)
    papers = _with_abstracts(
        papers, observations, paper.select("sha256", "paper_index", "abstract"), keep
    )
    return {
        "author": authors,
        "paper": papers,
        "authorship": authorship,
        "paper_topic": topics,
        "paper_citation": citations,
        "author_source_id": _source_ids(crosswalk),
        "profile_snapshot": _snapshots(profiles).with_columns(as_text),
        "profile_paper": profile_paper_rows(profile_paper),
        "paper_observation": paper_observation,
    }


def loaded_contents(files: pl.DataFrame) -> pl.DataFrame:
    """One row per content (sha256, path, captured_at): a content seen at several paths
    counts once, at its first path."""
    return (
        files.select("sha256", "path", pl.col("captured_at").cast(pl.Datetime("us")))
        .sort("path", "captured_at", nulls_last=True)
        .unique("sha256", keep="first", maintain_order=True)
    )


def observation_rows(observations: pl.DataFrame) -> pl.DataFrame:
    """`paper_observation` of `observations`, in its order."""
    # The columns first, then the order: sorting carries every column along.
    return (
        observations.select(
            "paper_id", "sha256", "path", "line", "source", "source_paper_id", "title",
            "published_on", "published_year", "date_text", "category_raw", "has_code",
            "n_citations", "n_authors_listed", "authors_truncated", "affiliation",
            "captured_at", "flags", "paper_index",
        )
        .sort(_order("paper_id", "sha256", "line", "paper_index"))
        .drop("paper_index")
    )  # fmt: skip


def profile_paper_rows(profile_paper: pl.DataFrame) -> pl.DataFrame:
    """`profile_paper` of the papers of each page (sha256, profile_index, paper_id, line,
    snapshot_id, author_id): a paper once per snapshot, at its first line."""
    # One sort of integers, each pair's first line first (at 10^5 profiles 0.2 s, against 0.4
    # s for a window, a unique and a sort on the ids).
    return (
        profile_paper.select(
            "snapshot_id", "author_id", "paper_id", "line",
            pair=_pair_number("snapshot_id", "paper_id"),
        )
        .sort("pair", "line", nulls_last=True)
        .unique("pair", keep="first", maintain_order=True)
        .drop("pair")
    )  # fmt: skip


def _keep_nothing(name: str, frame: pl.DataFrame | pl.LazyFrame) -> None:
    """The `keep` of a normalisation whose memo nobody asked for."""


def _profiles(profile: pl.DataFrame, files: pl.DataFrame) -> pl.DataFrame:
    return profile.join(files, on="sha256").with_columns(
        captured_at=pl.coalesce("stated_captured_at", "captured_at"),
        snapshot_id=pl.lit(None, pl.String),
    )


def _resolve_dates(papers: pl.DataFrame) -> pl.DataFrame:
    """Stated dates as given; yearless dates are the latest such day not after the capture.

    Computed in steps: each step's columns are evaluated once (one expression holding them
    all would evaluate the capture's base year once per leap-year candidate)."""
    capture = pl.col("captured_at").dt.date()
    cap_year = capture.dt.year().cast(pl.Int32)
    on_or_before = (pl.col("month") < capture.dt.month()) | (
        (pl.col("month") == capture.dt.month()) & (pl.col("day") <= capture.dt.day())
    )
    papers = papers.with_columns(
        _base_year=pl.when(on_or_before).then(cap_year).otherwise(cap_year - 1)
    )
    base_year = pl.col("_base_year")

    def is_leap(year: pl.Expr) -> pl.Expr:
        return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))

    leap_year = pl.coalesce([pl.when(is_leap(base_year - k)).then(base_year - k) for k in range(9)])
    inferred_year = (
        pl.when((pl.col("month") == 2) & (pl.col("day") == 29)).then(leap_year).otherwise(base_year)
    )
    papers = papers.with_columns(
        _year=pl.coalesce(
            pl.col("year"), pl.when(pl.col("month").is_not_null()).then(inferred_year)
        )
    )
    published_on = pl.format("{}-{}-{}", "_year", pl.col("month"), pl.col("day")).str.to_date(
        "%Y-%m-%d", strict=False
    )
    papers = papers.with_columns(
        published_on=published_on,
        is_year_inferred=pl.col("year").is_null() & pl.col("month").is_not_null(),
    ).drop("_base_year", "_year")
    impossible = pl.col("month").is_not_null() & pl.col("published_on").is_null()
    after_capture = pl.col("published_on") > capture
    no_flag = pl.lit([], pl.List(pl.String))
    return papers.with_columns(
        # A stated year stands even when the day is impossible; an inferred one does not.
        published_year=pl.coalesce(pl.col("published_on").dt.year().cast(pl.Int32), pl.col("year")),
        # Lists are built only for the rows that gain a flag.
        flags=pl.when(impossible | after_capture)
        .then(
            pl.concat_list(
                "flags",
                pl.when(impossible).then(pl.lit(["impossible_date"])).otherwise(no_flag),
                pl.when(after_capture).then(pl.lit(["date_after_capture"])).otherwise(no_flag),
            )
        )
        .otherwise("flags"),
    )


def _paper_observations(
    paper: pl.DataFrame, files: pl.DataFrame, profiles: pl.DataFrame, first_row: int = 0
) -> pl.DataFrame:
    """The observations of `paper`, each with its profile's row (`profile_row`, null for a
    paper on no profile's page): `profiles` are the rows from `first_row` on of the profiles
    the observations go with (an addition's new profiles come after the old ones)."""
    # Every paper's content is in `files` (the caller keeps only loaded contents).
    stated = profiles.select(
        "sha256", "profile_index", "stated_captured_at",
        profile_row=pl.int_range(first_row, first_row + pl.len(), dtype=pl.UInt32),
    )  # fmt: skip
    observations = _looked_up(
        _looked_up(paper, files, ["sha256"]), stated, ["sha256", "profile_index"]
    ).with_columns(captured_at=pl.coalesce("stated_captured_at", "captured_at"))
    observations = _resolve_dates(observations)
    categories = category_table().select(
        category_raw="code", category="category", is_category_known="is_known",
        is_category_ambiguous="is_ambiguous",
    )  # fmt: skip
    code = pl.col("category_code").str.strip_chars()
    observations = observations.with_columns(
        category_raw=pl.when(code != "").then(code),
        doi=pl.col("doi").str.strip_chars().str.to_lowercase(),
        source_rank=pl.col("source").replace_strict(
            SOURCE_PRIORITY, default=9, return_dtype=pl.Int32
        ),
    )
    return _looked_up(observations, categories, ["category_raw"]).with_columns(
        category=pl.coalesce("category", "category_raw"),
        is_category_known=pl.when(pl.col("category_raw").is_null())
        .then(None)
        .otherwise(pl.col("is_category_known").fill_null(False)),
        is_category_ambiguous=pl.col("is_category_ambiguous").fill_null(False),
    )


def _assign_paper_ids(observations: pl.DataFrame, keep: Keep) -> pl.DataFrame:
    """Group observations that share any identifying key; id from the group's smallest key.

    Keeps `paper_keys`: every key with the paper id of its group."""
    pairs = paper_key_pairs(observations)
    # Keys numbered in their sorted order: the groups are found, and joined, on integers, and a
    # group's smallest number is its smallest key. At 10^5 profiles 1.3 s, against 1.9 s on
    # the keys' texts.
    keys = pairs.select(pl.col("key").unique().sort()).with_row_index("number")
    pairs = pairs.join(keys, on="key", maintain_order="left").select("observation", "number")
    # Each key joined to its observation's first key: the same groups as joining every pair
    # of an observation's keys, with one edge per key.
    edges = pairs.select(a=pl.col("number").first().over("observation"), b="number").filter(
        pl.col("a") != pl.col("b")
    )
    labels = connected_labels(edges.unique(), keys["number"])
    # Each group's id, hashed once from its smallest key.
    ids = labels.select("label").unique()
    ids = ids.with_columns(paper_id=stable_ids(keys["key"].gather(ids["label"]), "P"))
    labels = labels.join(ids, on="label").select("node", "paper_id")
    keep(
        "paper_keys", keys.join(labels, left_on="number", right_on="node").select("key", "paper_id")
    )
    # An observation's keys are all in its group: one id per observation, in their order, added
    # as a column (a join would copy every other column).
    paper_id = (
        pairs.join(labels, left_on="number", right_on="node")
        .group_by("observation")
        .agg(pl.col("paper_id").first())
        .sort("observation")["paper_id"]
    )
    return observations.with_columns(paper_id=paper_id)


def paper_key_pairs(observations: pl.DataFrame) -> pl.DataFrame:
    """(observation, key): every identifying key of each observation, observations numbered
    in their order. Keys, strongest first: DOI, arXiv id, source paper id, title with year."""
    observation = pl.format("{}:{}", "sha256", "paper_index")
    title_year = pl.when(pl.col("title_key").str.len_chars() > 0).then(
        pl.format("t:{}|{}", "title_key", pl.col("published_year").cast(pl.String).fill_null("?"))
    )
    keys = (
        pl.format("doi:{}", "doi"),
        pl.format("arxiv:{}", pl.col("arxiv_id").str.to_lowercase()),
        pl.format("{}:{}", "source", "source_paper_id"),
        # An untitled observation must not merge with other untitled ones.
        pl.coalesce(title_year, pl.format("obs:{}", observation)),
    )
    # Observations are numbered for the joins that group them (integers, not their text
    # keys). One row per (observation, key), built as one frame per kind of key: lists would
    # cost 5x more.
    numbered = observations.select(
        "sha256", "paper_index", "doi", "arxiv_id", "source", "source_paper_id", "title_key",
        "published_year",
    ).with_row_index("observation")  # fmt: skip
    return pl.concat([numbered.select("observation", key=key) for key in keys]).drop_nulls("key")


def _with_latest_rank(observations: pl.DataFrame) -> pl.DataFrame:
    """Add `latest_rank`: 0 for the latest observation, then onwards. Latest capture first,
    then the preferred source; file, line and index break ties, so the order never depends on
    the input's row order (formats without lines give line 0). Ranked once here, so that
    each later choice of "the latest" sorts one integer, not five columns."""
    keys = ["captured_at", "source_rank", "sha256", "line", "paper_index"]
    order = (
        observations.select(keys)
        .with_row_index("row")
        .sort(keys, descending=[True] + [False] * (len(keys) - 1), nulls_last=True)
        .with_row_index("latest_rank")
        .sort("row")
    )
    return observations.with_columns(order["latest_rank"])


def _papers(observations: pl.DataFrame) -> pl.DataFrame:
    """One row per paper; each attribute from the latest observation that states it."""
    stated = (
        "title", "title_key", "published_on", "published_year", "is_year_inferred",
        "category", "category_raw", "is_category_known", "is_category_ambiguous",
        "has_code", "abstract", "doi", "arxiv_id",
    )  # fmt: skip
    # Only the columns read here: sorting carries every column along.
    ordered = observations.select(
        "paper_id", *(c for c in stated if c != "abstract"), "n_citations", "source",
        "n_authors_listed", "authors_truncated", "captured_at", "latest_rank",
    ).sort("latest_rank")  # fmt: skip
    cited = ordered.filter(pl.col("n_citations").is_not_null())
    latest_citation = cited.group_by("paper_id", maintain_order=True).agg(
        n_citations=pl.col("n_citations").first(),
        n_citations_source=pl.col("source").first(),
        n_citations_observed_at=pl.col("captured_at").first(),
    )
    # Abstracts are added last (`_with_abstracts`): they are most of the text.
    first_stated = [
        pl.lit(None, pl.String).alias(column)
        if column == "abstract"
        else pl.col(column).drop_nulls().first()
        for column in stated
    ]
    papers = ordered.group_by("paper_id", maintain_order=True).agg(
        *first_stated,
        n_authors_listed=pl.col("n_authors_listed").max(),
        is_author_list_truncated=pl.col("authors_truncated").all(),
        n_observations=pl.len().cast(pl.Int32),
        first_seen_at=pl.col("captured_at").min(),
        last_seen_at=pl.col("captured_at").max(),
    )
    return papers.join(latest_citation, on="paper_id", how="left").sort(_order("paper_id"))


def _with_abstracts(
    papers: pl.DataFrame, observations: pl.DataFrame, abstracts: pl.LazyFrame, keep: Keep
) -> pl.DataFrame:
    """Each paper's abstract from the latest observation that states one (as `_papers` takes
    every other attribute), read only now from `abstracts` (sha256, paper_index, abstract).
    Keeps `abstract_from`: the observation each paper's abstract is taken from.

    The stated texts are read once, at the end of the normalisation, when the frames of the
    listed names have gone: at 10^5 profiles 0.7 s, against 1.0-1.1 s finding the observations
    that state one first and reading only the texts chosen (a second scan), with the same peak
    memory."""
    key = ["sha256", "paper_index"]
    texts = abstracts.filter(pl.col("abstract").is_not_null()).collect()
    order = observations.select(*key, "paper_id", "latest_rank")
    chosen = (
        texts.select(key)
        .join(order, on=key)
        .sort("latest_rank")
        .group_by("paper_id", maintain_order=True)
        .agg(pl.col("sha256").first(), pl.col("paper_index").first())
    )
    keep("abstract_from", chosen.with_columns(pl.col("sha256").cast(pl.String)))
    latest = chosen.join(texts, on=key, how="left").select("paper_id", "abstract")
    found = papers.select("paper_id").join(latest, on="paper_id", how="left", maintain_order="left")
    return papers.with_columns(found["abstract"])


def _citation_observations(observations: pl.DataFrame) -> pl.DataFrame:
    return (
        observations.filter(pl.col("n_citations").is_not_null())
        .group_by("paper_id", "source", observed_at="captured_at")
        .agg(n_citations=pl.col("n_citations").max(), sha256=pl.col("sha256").min())
        .sort(_order("paper_id", "source", "observed_at"))
    )


def _profile_papers(observations: pl.DataFrame) -> pl.DataFrame:
    """(sha256, profile_index, paper_id, line) of each observation on a profile's page, with
    the row of that profile (`profile_row`, see `with_owners`), which the observation holds
    since it was made (`_paper_observations`): an addition reads it from the memo, where
    joining 10^6 observations to their pages again took 0.1 s."""
    return observations.filter(pl.col("profile_row").is_not_null()).select(
        "sha256", "profile_index", "paper_id", "line", "profile_row"
    )


def with_owners(profile_paper: pl.DataFrame, profiles: pl.DataFrame) -> pl.DataFrame:
    """`profile_paper` with the snapshot id and author id of each row's profile: `profiles`
    are the profiles its `profile_row` numbers (`_paper_observations`), in that order, with
    those ids added. Taken by row number (at 10^5 profiles, 0.04 s against 0.08 s joining
    the pages again)."""
    rows = profile_paper["profile_row"]
    return profile_paper.with_columns(
        snapshot_id=profiles["snapshot_id"].gather(rows),
        author_id=profiles["author_id"].gather(rows),
    )


def _source_mentions(mention: pl.DataFrame, observations: pl.DataFrame) -> pl.DataFrame:
    """Listed authors that carry a source's own id (`mention` holds only those):
    (node, name_key, orcid, paper_id)."""
    with_ids = mention.join(
        observations.select("sha256", "paper_index", "paper_id", "source"),
        on=["sha256", "paper_index"],
    )
    return with_ids.select(
        node=pl.format("{}:id:{}", "source", "source_author_id"),
        source="source",
        source_author_id="source_author_id",
        name_key="name_key",
        orcid="orcid",
        paper_id="paper_id",
    )


def _assign_owner_ids(
    profiles: pl.DataFrame, profile_paper: pl.DataFrame, source_mentions: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Group the identities of one person; the author id comes from the group's smallest node.

    Nodes are captured profiles (a source id, or a page with its capture) and the source ids
    that author lists carry. Two nodes are one person when they share an ORCID, or when they
    have the same name key and at least half of the smaller paper list in common — except two
    different ids of one source, which that source has already told apart.
    Returns the profiles with `node`, `snapshot_id` and `author_id`, and the crosswalk
    node → author_id.
    """
    profiles = with_nodes(profiles)
    crosswalk = group_nodes(
        owner_identity(profiles, source_mentions),
        papers_of_nodes(profiles, profile_paper, source_mentions),
    )
    return with_author_ids(profiles, crosswalk), crosswalk


def with_nodes(profiles: pl.DataFrame) -> pl.DataFrame:
    """Each profile's identity node and snapshot id."""
    return profiles.with_columns(
        node=pl.when(pl.col("source_author_id").is_not_null())
        .then(pl.format("{}:id:{}", "source", "source_author_id"))
        .otherwise(
            pl.format(
                "{}:page:{}:{}:{}:{}",
                "source", "name_key", pl.col("captured_at").dt.to_string("%Y-%m-%dT%H:%M:%S%.6f").fill_null("?"),
                "sha256", "profile_index",
            )
        ),
        snapshot_id=stable_ids(
            profiles.select(pl.format("{}:{}", "sha256", "profile_index").alias("k"))["k"], "S"
        ),
    )  # fmt: skip


def with_author_ids(profiles: pl.DataFrame, crosswalk: pl.DataFrame) -> pl.DataFrame:
    return profiles.join(
        crosswalk.select("node", "author_id"), on="node", how="left", maintain_order="left"
    )


def owner_identity(profiles: pl.DataFrame, source_mentions: pl.DataFrame) -> pl.DataFrame:
    """What each profile and each listed source id says of its node."""
    return pl.concat(
        [
            profiles.select(
                "node", "source", "source_author_id", "name_key", "orcid",
                has_id=pl.col("source_author_id").is_not_null(),
            ),
            source_mentions.select(
                "node", "source", "source_author_id", "name_key", "orcid", has_id=pl.lit(True)
            ),
        ]
    )  # fmt: skip


def papers_of_nodes(
    profiles: pl.DataFrame, profile_paper: pl.DataFrame, source_mentions: pl.DataFrame
) -> pl.DataFrame:
    """(node, paper_id): the papers of each node's pages and of the lists that name it."""
    return pl.concat(
        [
            profile_paper.join(
                profiles.select("sha256", "profile_index", "node"), on=["sha256", "profile_index"]
            ).select("node", "paper_id"),
            source_mentions.select("node", "paper_id"),
        ]
    ).unique()


def group_nodes(identity: pl.DataFrame, papers_of: pl.DataFrame) -> pl.DataFrame:
    """The crosswalk of the nodes of `identity` (each with all its rows, and all its papers in
    `papers_of`): node, its source, source id, name key and ORCID, and its author id."""
    nodes = identity.group_by("node").agg(
        pl.col("source").first(),
        pl.col("source_author_id").drop_nulls().first(),
        pl.col("name_key").drop_nulls().mode().sort().first(),
        pl.col("has_id").any(),
    )
    sizes = papers_of.group_by("node").agg(n=pl.len())
    keyed = papers_of.join(nodes.select("node", "name_key", "source", "has_id"), on="node")
    shared = (
        keyed.join(keyed, on=["paper_id", "name_key"], suffix="_b")
        .filter(pl.col("node") < pl.col("node_b"))
        .filter(~(pl.col("has_id") & pl.col("has_id_b") & (pl.col("source") == pl.col("source_b"))))
        .group_by("node", "node_b")
        .agg(n_shared=pl.len())
        .join(sizes, on="node")
        .join(sizes, left_on="node_b", right_on="node", suffix="_b")
        .filter(pl.col("n_shared") >= OVERLAP_FOR_SAME_PROFILE * pl.min_horizontal("n", "n_b"))
        .select(a="node", b="node_b")
    )
    orcids = node_orcids(identity)
    same_orcid = (
        orcids.join(orcids.group_by("orcid").agg(b=pl.col("node").min()), on="orcid")
        .filter(pl.col("node") != pl.col("b"))
        .select(a="node", b="b")
    )
    labels = connected_labels(pl.concat([shared, same_orcid]), nodes["node"])
    crosswalk = nodes.join(labels, on="node", how="left")
    crosswalk = crosswalk.with_columns(author_id=stable_ids(crosswalk["label"], "A")).drop("label")
    return crosswalk.join(orcids.group_by("node").agg(pl.col("orcid").min()), on="node", how="left")


def node_orcids(identity: pl.DataFrame) -> pl.DataFrame:
    """(node, orcid): every ORCID stated for each node."""
    return identity.filter(pl.col("orcid").is_not_null()).select("node", "orcid").unique()


def _source_ids(crosswalk: pl.DataFrame) -> pl.DataFrame:
    """One row per (author, id scheme, id): the source ids and ORCIDs known for each author."""
    ids = crosswalk.filter(pl.col("source_author_id").is_not_null()).select(
        "author_id", scheme="source", source_id="source_author_id"
    )
    orcid = crosswalk.filter(pl.col("orcid").is_not_null()).select(
        "author_id", scheme=pl.lit("orcid"), source_id="orcid"
    )
    return pl.concat([ids, orcid]).unique().sort(_order("author_id", "scheme", "source_id"))


def _resolve_mentions(
    mention: pl.LazyFrame,
    observations: pl.DataFrame,
    profiles: pl.DataFrame,
    profile_paper: pl.DataFrame,
    crosswalk: pl.DataFrame,
    keep: Keep,
) -> pl.DataFrame:
    """Give every listed name an author id (see the module docstring for the rule).

    A name carrying a source's own id is that id's author (see `_assign_owner_ids`).

    A name that is not the listing page's owner is resolved once per (paper, name key), over
    every page that shows the paper, so one paper never names one person twice.
    """
    mentions = mention.select(
        "sha256", "paper_index", "position", "name", "name_key", "source_author_id"
    ).collect().join(
        observations.select(
            "sha256", "paper_index", "paper_id", "profile_index", "latest_rank", "source",
        ),
        on=["sha256", "paper_index"],
    )  # fmt: skip
    owners = profiles.select("sha256", "profile_index", "name_key", own_author_id="author_id")
    # A page's own owner, listed under their own name.
    own = _looked_up(mentions, owners, ["sha256", "profile_index", "name_key"])
    del mentions
    # Names no page owner claims, resolved once per (paper, name key).
    unresolved = (
        own.filter(pl.col("own_author_id").is_null()).select("paper_id", "name_key").unique()
    )
    keep("unresolved", unresolved)
    others = _other_owners(unresolved, profiles, profile_paper)
    del unresolved
    resolved = _looked_up(own, others, ["paper_id", "name_key"])
    del own, others
    name_only = _name_only_authors(
        resolved.select("source", "source_author_id", "name_key").unique(), crosswalk
    )
    resolved = _looked_up(
        resolved, name_only, ["source", "source_author_id", "name_key"], nulls_equal=True
    )
    # Only what authorships and authors read: this frame has a row per listed name.
    return resolved.select(
        "position", "name", "name_key", "paper_id", "latest_rank",
        author_id=pl.coalesce(
            "id_author_id", "own_author_id", "other_author_id", "name_only_author_id"
        ),
    )  # fmt: skip


def _other_owners(
    wanted: pl.DataFrame, profiles: pl.DataFrame, profile_paper: pl.DataFrame
) -> pl.DataFrame:
    """For each wanted (paper_id, name_key): the profile owner of that name key whose pages
    share papers with a page that shows the paper (the owner holding the paper first, then
    the most shared papers, then the smallest id), as `other_author_id`; none when no owner
    qualifies. A function of its own, so its large intermediate frames go when it returns."""
    # A page is its profile's row number (`_profile_papers`), a paper or an owner the number
    # its id's digits spell (`_id_number`), and a name key its number among the owners' name
    # keys; the pairs compared below are those numbers packed into one (`_packed`). The joins
    # and uniques compare integers, not 64-character content hashes, 17-character ids or
    # names (at 10^5 profiles 1.4 s, against 1.7 s with the name keys and pairs of columns,
    # and 2.2-2.5 s with the texts).
    page = "profile_row"
    # Only a name key some owner has can find one: at 10^5 profiles, 0.46 of 10^6 wanted
    # names (the rest are coauthors without a page), so the steps below take half the rows.
    names = profiles.select(pl.col("name_key").unique()).with_row_index("name")
    wanted = wanted.join(names, on="name_key").with_columns(paper=_id_number("paper_id"))
    rows = profile_paper.select(page, paper=_id_number("paper_id"), owner=_id_number("author_id"))
    # Only two kinds of rows take part: those of a page that shows a wanted paper, and those
    # of an owner with a wanted name key (after an addition, a few thousand of 10^6).
    showing = rows.filter(pl.col("paper").is_in(wanted["paper"].implode()))[page]
    named_owners = (
        profiles.select("name_key", "author_id")
        .join(names.filter(pl.col("name").is_in(wanted["name"].implode())), on="name_key")
        .select("name", "author_id", candidate=_id_number("author_id"))
    )
    page_papers = pl.concat(
        [
            rows.filter(pl.col(page).is_in(showing.implode())),
            rows.filter(pl.col("owner").is_in(named_owners["candidate"].implode())),
        ]
    ).unique()
    # Owners with the name key of an unresolved name, on each page that shows its paper...
    named = (
        wanted.select("paper", "name")
        .join(named_owners.select("name", "candidate").unique(), on="name")
        .join(page_papers.select("paper", page), on="paper")
        .with_columns(pair=_packed(page, "candidate"))
    )
    # ... count the papers that page shares with the owner's pages: from the papers each
    # page shows that the owner holds (joining every paper of a page to every candidate
    # first would make 10^7 rows at 10^5 pages).
    candidate_papers = page_papers.select(candidate="owner", shared="paper").unique()
    shows = page_papers.select(page, "owner", shared="paper")
    pairs = named.select(page, "candidate", "pair").unique("pair")
    # Only the pages and candidates of some pair take part (the pair filter below implies
    # both); narrowing them first keeps the join from pairing every page with every holder.
    overlap = (
        shows.filter(pl.col(page).is_in(pairs[page].implode()))
        .join(
            candidate_papers.join(pairs.select("candidate").unique(), on="candidate", how="semi"),
            on="shared",
        )
        .filter(pl.col("owner") != pl.col("candidate"))
        .with_columns(pair=_packed(page, "candidate"))
        .join(pairs.select("pair"), on="pair", how="semi")
        .group_by("pair")
        .agg(n_shared=pl.col("shared").n_unique())
    )
    holds = candidate_papers.select("candidate", paper="shared", holds=pl.lit(True))
    # Ids sort as the numbers their digits spell (`_order`).
    chosen = (
        named.join(overlap, on="pair")
        .group_by("candidate", wanted=_packed("paper", "name"))
        .agg(pl.col("n_shared").max(), pl.col("paper").first())
        .join(holds, on=["candidate", "paper"], how="left")
        .sort(
            ["wanted", "holds", "n_shared", "candidate"],
            descending=[False, True, True, False],
            nulls_last=True,
        )
        .group_by("wanted", maintain_order=True)
        .agg(pl.col("candidate").first())
    )
    return (
        chosen.join(
            wanted.select("paper_id", "name_key", wanted=_packed("paper", "name")), on="wanted"
        )
        .join(
            named_owners.select("candidate", other_author_id="author_id").unique("candidate"),
            on="candidate",
        )
        .select("paper_id", "name_key", "other_author_id")
    )


def _packed(high: str | pl.Expr, low: str | pl.Expr) -> pl.Expr:
    """Two numbers (of at most 64 bits, columns or expressions) as one 128-bit number: equal,
    and ordered, as the pairs are."""
    high, low = (pl.col(e) if isinstance(e, str) else e for e in (high, low))
    return high.cast(pl.UInt128) * 2**64 + low.cast(pl.UInt128)


def _id_number(column: str) -> pl.Expr:
    """The number the hex digits of an id spell (`stable_ids`): two ids are equal, and sort
    alike, as their numbers."""
    return pl.col(column).str.slice(1).str.to_integer(base=16, dtype=pl.UInt64)


def _name_only_authors(names: pl.DataFrame, crosswalk: pl.DataFrame) -> pl.DataFrame:
    """For each distinct (source, source_author_id, name_key) of a listed name: the author of
    the source's id (`id_author_id`, see `_assign_owner_ids`) and the name-only author of the
    name key (`name_only_author_id`), decided once per distinct name, not per listing."""
    by_source_id = pl.when(pl.col("source_author_id").is_not_null()).then(
        pl.format("{}:id:{}", pl.col("source"), "source_author_id")
    )
    names = _looked_up(
        names.with_columns(
            name_only_key=pl.coalesce(by_source_id, pl.format("name:{}", "name_key"))
        ),
        crosswalk.select(name_only_key="node", id_author_id="author_id"),
        ["name_only_key"],
    )
    return names.with_columns(name_only_author_id=stable_ids(names["name_only_key"], "A")).drop(
        "name_only_key"
    )


def _looked_up(
    frame: pl.DataFrame, table: pl.DataFrame, on: list[str], *, nulls_equal: bool = False
) -> pl.DataFrame:
    """`frame` with the other columns of `table` (one row per `on`) added, null where none
    matches: the join reads only the key columns, so the frame's other columns are not
    copied (some frames here have a row per listed name)."""
    found = frame.select(on).join(
        table, on=on, how="left", nulls_equal=nulls_equal, maintain_order="left"
    )
    return frame.hstack(found.drop(on))


def _authorships(mentions: pl.DataFrame, profile_paper: pl.DataFrame) -> pl.DataFrame:
    """Listed authors, plus each page owner on every paper of their page (position unknown)."""
    # The position on the latest listing: each name's (latest_rank, position) as one integer
    # that orders alike (positions are 1-based, below 2^31), the pair's smallest taken after
    # one sort of integers. At 10^5 profiles 0.7 s, against 1.4 s sorting on two columns and
    # grouping on the ids' texts.
    rank_then_position = pl.col("latest_rank").cast(pl.Int64) * 2**32 + pl.col("position")
    listed = (
        mentions.select("paper_id", "author_id", pair=_pair_number(), key=rank_then_position)
        .sort("pair", "key")
        .unique("pair", keep="first", maintain_order=True)
        .select(
            "pair",
            "paper_id",
            "author_id",
            author_position=(pl.col("key") % 2**32).cast(pl.Int32),
            is_inferred=pl.lit(False),
        )
    )
    inferred = (
        profile_paper.select("paper_id", "author_id", pair=_pair_number())
        .join(listed.select("pair"), on="pair", how="anti")
        .unique("pair")
        .select(
            "pair",
            "paper_id",
            "author_id",
            author_position=pl.lit(None, pl.Int32),
            is_inferred=pl.lit(True),
        )
    )
    return pl.concat([listed, inferred]).sort("pair").drop("pair")


def _pair_number(first: str = "paper_id", second: str = "author_id") -> pl.Expr:
    """A pair of ids as one 128-bit number (`_id_number` of each): two pairs are equal, and
    sort alike (as `_order(first, second)`), as their numbers."""
    return _packed(_id_number(first), _id_number(second))


def name_spellings(mentions: pl.DataFrame) -> pl.DataFrame:
    """How often each paper lists each author under each spelling: (paper_id, author_id,
    name, name_key, n). A name's key is folded from the name, so it follows the name."""
    return mentions.group_by("paper_id", "author_id", "name", "name_key").agg(
        n=pl.len().cast(pl.Int64)
    )


def _authors(
    spellings: pl.DataFrame, profiles: pl.DataFrame, among: pl.Series | None = None
) -> pl.DataFrame:
    """Owners named as on their latest capture; others by their most frequent spelling
    (`spellings`, see `name_spellings`). With `among`, those author ids only."""
    if among is not None:
        inside = pl.col("author_id").is_in(among.implode())
        spellings, profiles = spellings.filter(inside), profiles.filter(inside)
    owners = (
        profiles.sort(["captured_at", "sha256", "profile_index"], descending=[True, False, False])
        .group_by("author_id", maintain_order=True)
        .agg(
            display_name=pl.col("display_name").first(),
            name_key=pl.col("name_key").first(),
            n_profiles=pl.col("snapshot_id").n_unique().cast(pl.Int32),
        )
        .with_columns(kind=pl.lit("profile_owner"))
    )
    others = (
        spellings.join(owners.select("author_id"), on="author_id", how="anti")
        .group_by("author_id", "name")
        .agg(pl.col("n").sum(), name_key=pl.col("name_key").min())
        .sort(["n", "name"], descending=[True, False])
        .group_by("author_id", maintain_order=True)
        .agg(display_name=pl.col("name").first(), name_key=pl.col("name_key").first())
        .with_columns(n_profiles=pl.lit(0, pl.Int32), kind=pl.lit("name_only"))
    )
    columns = ["author_id", "display_name", "name_key", "kind", "n_profiles"]
    return pl.concat([owners.select(columns), others.select(columns)]).sort(_order("author_id"))


def _paper_topics(
    papers: pl.DataFrame, topic: pl.DataFrame, observations: pl.DataFrame, keep: Keep
) -> pl.DataFrame:
    """Each paper's arXiv category and the topics its observations state; keeps the stated
    ones as `stated_topics`."""
    stated = (
        topic.join(
            observations.select("sha256", "paper_index", "paper_id"), on=["sha256", "paper_index"]
        )
        .select("paper_id", "scheme", "topic")
        .unique()
    )
    keep("stated_topics", stated)
    return paper_topics(papers, stated)


def paper_topics(papers: pl.DataFrame, stated: pl.DataFrame) -> pl.DataFrame:
    """`paper_topic` of `papers`: the arXiv category of each and the `stated` topics."""
    arxiv = papers.filter(pl.col("category").is_not_null()).select(
        "paper_id", scheme=pl.lit("arxiv"), topic="category"
    )
    return pl.concat([arxiv, stated]).unique().sort(_order("paper_id", "scheme", "topic"))


def with_papers_read(profiles: pl.DataFrame, observations: pl.DataFrame) -> pl.DataFrame:
    """`profiles` with how many papers were read of each (`n_papers_read`): the observations
    of its page. A page's papers come from its own content, so a profile's count never
    changes; the memo keeps it with the profile."""
    read = (
        observations.filter(pl.col("profile_index").is_not_null())
        .group_by("sha256", "profile_index")
        .agg(n_papers_read=pl.len().cast(pl.Int32))
    )
    return _looked_up(profiles, read, ["sha256", "profile_index"]).with_columns(
        pl.col("n_papers_read").fill_null(0)
    )


def _snapshots(profiles: pl.DataFrame) -> pl.DataFrame:
    """`profile_snapshot`: one row per profile (`with_papers_read`), as of its capture."""
    return profiles.select(
        "snapshot_id", "author_id", "captured_at", "source", "display_name", "h_index",
        "i10_index", n_papers="n_papers_declared", n_citations="n_citations",
        novelty_pct="novelty_pct", ai_score="ai_score", n_papers_listed="n_papers_listed",
        n_papers_read="n_papers_read", primary_category="primary_category",
        source_author_id="source_author_id", sha256="sha256", path="path", line="line",
    ).sort(_order("author_id", "captured_at", "snapshot_id"))  # fmt: skip
