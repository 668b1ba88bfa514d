"""Normalisation with polars: keys, dates, categories and the decisions of identity.

Input: the parsed frames of every loaded file (`flows.formats.frames`) and the capture time of
each file. Output: the core warehouse tables as frames. Everything here is a function of those
inputs alone, so the same raw files give the same rows and ids whatever the order they were
read in, in one run or many.

Identity rules (see README "Identity"):
- paper: observations sharing any key are one paper. Keys, strongest first: DOI, arXiv id,
  source paper ids, then the title key with the year. The paper id is derived from the smallest
  key of the connected group.
- profile owner: captures of one source id are one person; profile pages (no source id) with
  the same name key are one person when their paper lists overlap by at least half of the
  smaller list. The id is derived from the group's earliest capture.
- a listed coauthor resolves to a profile owner with the same name key whose pages share
  papers with the page that lists them; otherwise to the name-only author of that name key.
"""

from __future__ import annotations

import hashlib
from typing import Final

import polars as pl

from flows.categories import category_table

OVERLAP_FOR_SAME_PROFILE: Final = 0.5
_ID_HEX_CHARS: Final = 16
_MAX_PROPAGATION_ROUNDS: Final = 200
SOURCE_PRIORITY: Final = {"openalex": 0, "semantic_scholar": 1, "google_scholar": 2, "scholarfeed": 3}


def fold_key(text: pl.Expr) -> pl.Expr:
    """Unicode NFKC, accents folded, case folded, punctuation and spacing collapsed.

    NFC and NFD spellings of one name give one key; so do "Stylesinger" and "StyleSinger".
    """
    return (
        text.str.normalize("NFKC")
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}+", "")
        .str.to_lowercase()
        .str.replace_all("ß", "ss", literal=True)
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )


def stable_ids(keys: pl.Series, prefix: str) -> pl.Series:
    """Deterministic short ids: the first hex digits of the SHA-256 of each key."""
    unique = keys.unique().drop_nulls()
    digests = [
        prefix + hashlib.sha256(key.encode()).hexdigest()[:_ID_HEX_CHARS]
        for key in unique.to_list()
    ]
    table = pl.DataFrame({"key": unique, "id": digests}, schema={"key": pl.String, "id": pl.String})
    return keys.to_frame("key").join(table, on="key", how="left", maintain_order="left")["id"]


def connected_labels(edges: pl.DataFrame, nodes: pl.Series) -> pl.DataFrame:
    """Label every node with the smallest node of its connected component.

    `edges` has string columns `a` and `b`. Min-label propagation with pointer jumping: the
    number of rounds grows with the log of the component diameter, not its size.
    """
    labels = (
        pl.concat([nodes.to_frame("node"), edges.select(node="a"), edges.select(node="b")])
        .unique()
        .with_columns(label=pl.col("node"))
    )
    if edges.is_empty():
        return labels
    both_ways = pl.concat([edges, edges.select(a="b", b="a")]).unique()
    for _ in range(_MAX_PROPAGATION_ROUNDS):
        neighbour_min = (
            both_ways.join(labels, left_on="b", right_on="node")
            .group_by("a")
            .agg(pl.col("label").min().alias("neighbour"))
        )
        updated = (
            labels.join(neighbour_min, left_on="node", right_on="a", how="left")
            .with_columns(label=pl.min_horizontal("label", "neighbour"))
            .drop("neighbour")
        )
        # Pointer jumping: adopt the label of one's label.
        updated = (
            updated.join(updated.select(node="node", jump="label"), left_on="label", right_on="node", how="left")
            .with_columns(label=pl.min_horizontal("label", "jump"))
            .drop("jump")
        )
        changed = updated.join(labels, on="node", suffix="_old").filter(
            pl.col("label") != pl.col("label_old")
        )
        labels = updated
        if changed.is_empty():
            return labels
    raise RuntimeError("connected_labels did not converge")


def normalise(frames: dict[str, pl.DataFrame], files: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Build the core tables from the parsed frames of the loaded files.

    `files` has one row per loaded file content: `sha256`, `path`, `captured_at`.
    """
    files = files.select("sha256", "path", pl.col("captured_at").cast(pl.Datetime("us")))
    loaded = files["sha256"]
    profiles = _profiles(frames["profile"].filter(pl.col("sha256").is_in(loaded.implode())), files)
    observations = _paper_observations(
        frames["paper"].filter(pl.col("sha256").is_in(loaded.implode())), files, profiles
    )
    observations = _assign_paper_ids(observations)
    papers = _papers(observations)
    profile_paper = _profile_papers(observations, profiles)
    profiles = _assign_owner_ids(profiles, profile_paper)
    profile_paper = profile_paper.join(
        profiles.select("sha256", "profile_index", "snapshot_id", "author_id"),
        on=["sha256", "profile_index"],
    )
    mentions = _resolve_mentions(
        frames["mention"].filter(pl.col("sha256").is_in(loaded.implode())),
        observations,
        profiles,
        profile_paper,
    )
    authorship = _authorships(mentions, profile_paper, observations)
    authors = _authors(mentions, profiles)
    topics = _paper_topics(papers, frames["topic"], observations)
    citations = _citation_observations(observations)
    return {
        "author": authors,
        "paper": papers,
        "authorship": authorship,
        "paper_topic": topics,
        "paper_citation": citations,
        "profile_snapshot": _snapshots(profiles, observations),
        "profile_paper": profile_paper.select(
            "snapshot_id", "author_id", "paper_id", pl.col("line").min().over("snapshot_id", "paper_id")
        ).unique(["snapshot_id", "paper_id"]).sort("snapshot_id", "paper_id"),
        "paper_observation": observations.select(
            "paper_id", "sha256", "path", "line", "source", "source_paper_id", "title",
            "published_on", "published_year", "date_text", "category_raw", "has_code",
            "n_citations", "n_authors_listed", "authors_truncated", "captured_at", "flags",
        ).sort("paper_id", "sha256", "line"),
    }  # fmt: skip


def _profiles(profile: pl.DataFrame, files: pl.DataFrame) -> pl.DataFrame:
    return profile.join(files, on="sha256").with_columns(
        captured_at=pl.coalesce("stated_captured_at", "captured_at"),
        name_key=fold_key(pl.col("display_name")),
        snapshot_id=pl.lit(None, pl.String),
    )


def _resolve_dates(papers: pl.DataFrame) -> pl.DataFrame:
    """Stated dates as given; yearless dates are the latest such day not after the capture."""
    capture = pl.col("captured_at").dt.date()
    cap_year = capture.dt.year().cast(pl.Int32)
    on_or_before = (pl.col("month") < capture.dt.month()) | (
        (pl.col("month") == capture.dt.month()) & (pl.col("day") <= capture.dt.day())
    )
    base_year = pl.when(on_or_before).then(cap_year).otherwise(cap_year - 1)

    def is_leap(year: pl.Expr) -> pl.Expr:
        return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))

    leap_year = pl.coalesce(
        [pl.when(is_leap(base_year - k)).then(base_year - k) for k in range(9)]
    )
    inferred_year = (
        pl.when((pl.col("month") == 2) & (pl.col("day") == 29)).then(leap_year).otherwise(base_year)
    )
    year = pl.coalesce(pl.col("year"), pl.when(pl.col("month").is_not_null()).then(inferred_year))
    published_on = pl.format("{}-{}-{}", year, pl.col("month"), pl.col("day")).str.to_date(
        "%Y-%m-%d", strict=False
    )
    papers = papers.with_columns(
        published_on=published_on,
        is_year_inferred=pl.col("year").is_null() & pl.col("month").is_not_null(),
    )
    impossible = pl.col("month").is_not_null() & pl.col("published_on").is_null()
    return papers.with_columns(
        # A stated year stands even when the day is impossible; an inferred one does not.
        published_year=pl.coalesce(pl.col("published_on").dt.year().cast(pl.Int32), pl.col("year")),
        flags=pl.concat_list(
            "flags",
            pl.when(impossible).then(pl.lit(["impossible_date"])).otherwise(pl.lit([], pl.List(pl.String))),
            pl.when(pl.col("published_on") > capture)
            .then(pl.lit(["date_after_capture"]))
            .otherwise(pl.lit([], pl.List(pl.String))),
        ),
    )


def _paper_observations(
    paper: pl.DataFrame, files: pl.DataFrame, profiles: pl.DataFrame
) -> pl.DataFrame:
    stated = profiles.select("sha256", "profile_index", "stated_captured_at")
    observations = (
        paper.join(files, on="sha256")
        .join(stated, on=["sha256", "profile_index"], how="left")
        .with_columns(captured_at=pl.coalesce("stated_captured_at", "captured_at"))
    )
    observations = _resolve_dates(observations)
    categories = category_table().select(
        category_raw="code", category="category", is_category_known="is_known",
        is_category_ambiguous="is_ambiguous",
    )  # fmt: skip
    return (
        observations.with_columns(
            category_raw=pl.col("category_code").str.strip_chars(),
            title_key=fold_key(pl.col("title")),
            doi=pl.col("doi").str.strip_chars().str.to_lowercase(),
            source_rank=pl.col("source").replace_strict(SOURCE_PRIORITY, default=9, return_dtype=pl.Int32),
        )
        .join(categories, on="category_raw", how="left")
        .with_columns(
            category=pl.coalesce("category", "category_raw"),
            is_category_known=pl.when(pl.col("category_raw").is_null())
            .then(None)
            .otherwise(pl.col("is_category_known").fill_null(False)),
            is_category_ambiguous=pl.col("is_category_ambiguous").fill_null(False),
        )
    )


def _assign_paper_ids(observations: pl.DataFrame) -> pl.DataFrame:
    """Group observations that share any identifying key; id from the group's smallest key."""
    observation = pl.format("{}:{}", "sha256", "paper_index")
    title_year = pl.when(pl.col("title_key").str.len_chars() > 0).then(
        pl.format("t:{}|{}", "title_key", pl.col("published_year").cast(pl.String).fill_null("?"))
    )
    keyed = observations.with_columns(
        observation=observation,
        keys=pl.concat_list(
            pl.format("doi:{}", "doi"),
            pl.format("arxiv:{}", pl.col("arxiv_id").str.to_lowercase()),
            pl.format("{}:{}", "source", "source_paper_id"),
            # An untitled observation must not merge with other untitled ones.
            pl.coalesce(title_year, pl.format("obs:{}", observation)),
        ).list.drop_nulls(),
    )
    pairs = keyed.select("observation", key="keys").explode("key")
    edges = pairs.join(pairs, on="observation").filter(pl.col("key") < pl.col("key_right"))
    labels = connected_labels(
        edges.select(a="key", b="key_right").unique(), pairs["key"].unique()
    )
    group = (
        pairs.join(labels, left_on="key", right_on="node")
        .group_by("observation")
        .agg(pl.col("label").min())
    )
    keyed = keyed.join(group, on="observation", maintain_order="left")
    return keyed.with_columns(paper_id=stable_ids(keyed["label"], "P")).drop("label")


def _latest_first(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(
        ["captured_at", "source_rank", "sha256", "line"],
        descending=[True, False, False, False],
        nulls_last=True,
    )


def _papers(observations: pl.DataFrame) -> pl.DataFrame:
    """One row per paper; each attribute from the latest observation that states it."""
    ordered = _latest_first(observations)
    cited = ordered.filter(pl.col("n_citations").is_not_null())
    latest_citation = cited.group_by("paper_id", maintain_order=True).agg(
        n_citations=pl.col("n_citations").first(),
        n_citations_source=pl.col("source").first(),
        n_citations_observed_at=pl.col("captured_at").first(),
    )
    first_stated = [
        pl.col(column).drop_nulls().first()
        for column in (
            "title", "title_key", "published_on", "published_year", "is_year_inferred",
            "category", "category_raw", "is_category_known", "is_category_ambiguous",
            "has_code", "abstract", "doi", "arxiv_id",
        )
    ]  # fmt: skip
    papers = ordered.group_by("paper_id", maintain_order=True).agg(
        *first_stated,
        n_authors_listed=pl.col("n_authors_listed").max(),
        is_author_list_truncated=pl.col("authors_truncated").all(),
        n_observations=pl.len().cast(pl.Int32),
        first_seen_at=pl.col("captured_at").min(),
        last_seen_at=pl.col("captured_at").max(),
    )
    return papers.join(latest_citation, on="paper_id", how="left").sort("paper_id")


def _citation_observations(observations: pl.DataFrame) -> pl.DataFrame:
    return (
        observations.filter(pl.col("n_citations").is_not_null())
        .group_by("paper_id", "source", observed_at="captured_at")
        .agg(n_citations=pl.col("n_citations").max(), sha256=pl.col("sha256").min())
        .sort("paper_id", "source", "observed_at")
    )


def _profile_papers(observations: pl.DataFrame, profiles: pl.DataFrame) -> pl.DataFrame:
    return (
        observations.filter(pl.col("profile_index").is_not_null())
        .join(profiles.select("sha256", "profile_index"), on=["sha256", "profile_index"])
        .select("sha256", "profile_index", "paper_id", "line")
    )


def _assign_owner_ids(profiles: pl.DataFrame, profile_paper: pl.DataFrame) -> pl.DataFrame:
    """Group captures of one person; the author id comes from the group's earliest capture."""
    profiles = profiles.with_columns(
        node=pl.when(pl.col("source_author_id").is_not_null())
        .then(pl.format("{}:id:{}", "source", "source_author_id"))
        .otherwise(
            pl.format(
                "{}:page:{}:{}:{}:{}",
                "source", "name_key", pl.col("captured_at").dt.to_string("%Y-%m-%dT%H:%M:%S%.f"),
                "sha256", "profile_index",
            )
        ),
        snapshot_id=stable_ids(
            profiles.select(pl.format("{}:{}", "sha256", "profile_index").alias("k"))["k"], "S"
        ),
    )  # fmt: skip
    pages = profiles.filter(pl.col("source_author_id").is_null())
    papers_of = profile_paper.join(
        pages.select("sha256", "profile_index", "node", "name_key"), on=["sha256", "profile_index"]
    ).unique(["node", "paper_id"])
    sizes = papers_of.group_by("node").agg(n=pl.len())
    shared = (
        papers_of.join(papers_of, on=["paper_id", "name_key"], suffix="_b")
        .filter(pl.col("node") < pl.col("node_b"))
        .group_by("node", "node_b")
        .agg(n_shared=pl.len())
        .join(sizes, on="node")
        .join(sizes, left_on="node_b", right_on="node", suffix="_b")
        .filter(pl.col("n_shared") >= OVERLAP_FOR_SAME_PROFILE * pl.min_horizontal("n", "n_b"))
    )
    labels = connected_labels(shared.select(a="node", b="node_b"), profiles["node"])
    profiles = profiles.join(labels, on="node", how="left", maintain_order="left")
    return profiles.with_columns(author_id=stable_ids(profiles["label"], "A")).drop("label")


def _resolve_mentions(
    mention: pl.DataFrame,
    observations: pl.DataFrame,
    profiles: pl.DataFrame,
    profile_paper: pl.DataFrame,
) -> pl.DataFrame:
    """Give every listed name an author id (see the module docstring for the rule)."""
    mentions = mention.join(
        observations.select(
            "sha256", "paper_index", "paper_id", "profile_index", "captured_at", "source_rank", "line"
        ),
        on=["sha256", "paper_index"],
    ).with_columns(name_key=fold_key(pl.col("name")))
    owners = profiles.select("sha256", "profile_index", "author_id", "name_key")
    # A page's own owner, listed under their own name.
    own = mentions.join(
        owners, on=["sha256", "profile_index", "name_key"], how="left"
    ).rename({"author_id": "own_author_id"})
    # Owners of other pages with this name key, whose pages share papers with this page.
    page_papers = profile_paper.select("sha256", "profile_index", "paper_id", "author_id").unique()
    overlap = (
        page_papers.join(page_papers, on="paper_id", suffix="_other")
        .filter(pl.col("author_id") != pl.col("author_id_other"))
        .group_by("sha256", "profile_index", "author_id_other")
        .agg(n_shared=pl.len())
    )
    owner_names = profiles.select(author_id_other="author_id", name_key="name_key").unique()
    has_paper = page_papers.select(author_id_other="author_id", paper_id="paper_id", holds=pl.lit(True)).unique()
    candidates = (
        own.filter(pl.col("own_author_id").is_null())
        .select("sha256", "paper_index", "position", "profile_index", "paper_id", "name_key")
        .join(overlap, on=["sha256", "profile_index"])
        .join(owner_names, on=["author_id_other", "name_key"])
        .join(has_paper, on=["author_id_other", "paper_id"], how="left")
        .sort(
            ["holds", "n_shared", "author_id_other"],
            descending=[True, True, False],
            nulls_last=True,
        )
        .group_by("sha256", "paper_index", "position", maintain_order=True)
        .agg(other_author_id=pl.col("author_id_other").first())
    )
    resolved = own.join(candidates, on=["sha256", "paper_index", "position"], how="left")
    by_source_id = pl.when(pl.col("source_author_id").is_not_null()).then(
        pl.format("{}:id:{}", pl.col("source"), "source_author_id")
    )
    resolved = resolved.join(
        observations.select("sha256", "paper_index", "source"), on=["sha256", "paper_index"]
    ).with_columns(name_only_key=pl.coalesce(by_source_id, pl.format("name:{}", "name_key")))
    return resolved.with_columns(
        author_id=pl.coalesce(
            "own_author_id",
            "other_author_id",
            stable_ids(resolved["name_only_key"], "A"),
        ),
        kind=pl.when(pl.col("own_author_id").is_not_null() | pl.col("other_author_id").is_not_null())
        .then(pl.lit("profile_owner"))
        .otherwise(pl.lit("name_only")),
    )


def _authorships(
    mentions: pl.DataFrame, profile_paper: pl.DataFrame, observations: pl.DataFrame
) -> pl.DataFrame:
    """Listed authors, plus each page owner on every paper of their page (position unknown)."""
    listed = _latest_first(mentions).group_by("paper_id", "author_id", maintain_order=True).agg(
        author_position=pl.col("position").first(), is_inferred=pl.lit(False)
    )
    inferred = (
        profile_paper.select("paper_id", "author_id")
        .unique()
        .join(listed, on=["paper_id", "author_id"], how="anti")
        .with_columns(author_position=pl.lit(None, pl.Int32), is_inferred=pl.lit(True))
    )
    return pl.concat([listed, inferred]).sort("paper_id", "author_id")


def _authors(mentions: pl.DataFrame, profiles: pl.DataFrame) -> pl.DataFrame:
    """Owners named as on their latest capture; others by their most frequent spelling."""
    owners = (
        profiles.sort(["captured_at", "sha256"], descending=[True, False])
        .group_by("author_id", maintain_order=True)
        .agg(
            display_name=pl.col("display_name").first(),
            name_key=pl.col("name_key").first(),
            n_profiles=pl.col("snapshot_id").n_unique().cast(pl.Int32),
        )
        .with_columns(kind=pl.lit("profile_owner"))
    )
    others = (
        mentions.join(owners.select("author_id"), on="author_id", how="anti")
        .group_by("author_id", "name")
        .agg(n=pl.len(), name_key=pl.col("name_key").first())
        .sort(["n", "name"], descending=[True, False])
        .group_by("author_id", maintain_order=True)
        .agg(display_name=pl.col("name").first(), name_key=pl.col("name_key").first())
        .with_columns(n_profiles=pl.lit(0, pl.Int32), kind=pl.lit("name_only"))
    )
    columns = ["author_id", "display_name", "name_key", "kind", "n_profiles"]
    return pl.concat([owners.select(columns), others.select(columns)]).sort("author_id")


def _paper_topics(
    papers: pl.DataFrame, topic: pl.DataFrame, observations: pl.DataFrame
) -> pl.DataFrame:
    arxiv = papers.filter(pl.col("category").is_not_null()).select(
        "paper_id", scheme=pl.lit("arxiv"), topic="category"
    )
    stated = topic.join(
        observations.select("sha256", "paper_index", "paper_id"), on=["sha256", "paper_index"]
    ).select("paper_id", "scheme", "topic")
    return pl.concat([arxiv, stated]).unique().sort("paper_id", "scheme", "topic")


def _snapshots(profiles: pl.DataFrame, observations: pl.DataFrame) -> pl.DataFrame:
    read = (
        observations.filter(pl.col("profile_index").is_not_null())
        .group_by("sha256", "profile_index")
        .agg(n_papers_read=pl.len().cast(pl.Int32))
    )
    return (
        profiles.join(read, on=["sha256", "profile_index"], how="left")
        .select(
            "snapshot_id", "author_id", "captured_at", "source", "display_name", "h_index",
            "i10_index", n_papers="n_papers_declared", n_citations="n_citations",
            novelty_pct="novelty_pct", ai_score="ai_score",
            n_papers_listed="n_papers_listed",
            n_papers_read=pl.col("n_papers_read").fill_null(0),
            primary_category="primary_category", source_author_id="source_author_id",
            sha256="sha256", path="path", line="line",
        )
        .sort("author_id", "captured_at", "snapshot_id")
    )  # fmt: skip
