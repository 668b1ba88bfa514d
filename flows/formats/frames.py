"""Records to columnar frames: the fixed schemas the read stage writes and the build reads.

One set of frames holds many files; every row carries the `sha256` of the file content it came
from, so parsed content can be cached by content and joined back to any path that holds it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import polars as pl

from flows.formats.keys import KEY_SOURCES, with_keys
from flows.formats.records import ParsedFile, Quarantine

# The columns the readers state, table by table.
RECORD_SCHEMAS: Final[dict[str, dict[str, pl.DataType]]] = {
    "parsed_file": {
        "sha256": pl.String(),
        "format": pl.String(),
        "status": pl.String(),
        "reason": pl.String(),
        "n_papers": pl.Int32(),
        "n_failures": pl.Int32(),
    },
    "profile": {
        "sha256": pl.String(),
        "profile_index": pl.Int32(),
        "line": pl.Int32(),
        "source": pl.String(),
        "source_author_id": pl.String(),
        "display_name": pl.String(),
        "primary_category": pl.String(),
        "h_index": pl.Int32(),
        "i10_index": pl.Int32(),
        "n_papers_declared": pl.Int32(),
        "n_papers_listed": pl.Int32(),
        "n_citations": pl.Int64(),
        "novelty_pct": pl.Int32(),
        "ai_score": pl.Int32(),
        "orcid": pl.String(),
        "affiliation": pl.String(),
        "stated_captured_at": pl.Datetime("us"),
    },
    "paper": {
        "sha256": pl.String(),
        "paper_index": pl.Int32(),
        "profile_index": pl.Int32(),
        "line": pl.Int32(),
        "source": pl.String(),
        "source_paper_id": pl.String(),
        "doi": pl.String(),
        "arxiv_id": pl.String(),
        "title": pl.String(),
        "year": pl.Int32(),
        "month": pl.Int32(),
        "day": pl.Int32(),
        "date_text": pl.String(),
        "category_code": pl.String(),
        "has_code": pl.Boolean(),
        "abstract": pl.String(),
        "n_citations": pl.Int64(),
        "n_authors_listed": pl.Int32(),
        "authors_truncated": pl.Boolean(),
        "affiliation": pl.String(),
        "score": pl.Float64(),
        "layout": pl.String(),
        "flags": pl.List(pl.String()),
    },
    "mention": {
        "sha256": pl.String(),
        "paper_index": pl.Int32(),
        "position": pl.Int32(),
        "name": pl.String(),
        "source_author_id": pl.String(),
        "orcid": pl.String(),
    },
    "topic": {
        "sha256": pl.String(),
        "paper_index": pl.Int32(),
        "scheme": pl.String(),
        "topic": pl.String(),
    },
    "failure": {
        "sha256": pl.String(),
        "line": pl.Int32(),
        "reason": pl.String(),
        "text": pl.String(),
    },
}

# What the read stage stores: the readers' columns, then the folded keys (`flows.formats.keys`).
SCHEMAS: Final[dict[str, dict[str, pl.DataType]]] = {
    name: {**schema, **dict.fromkeys(KEY_SOURCES.get(name, {}), pl.String())}
    for name, schema in RECORD_SCHEMAS.items()
}

# Separates the items of a list of flags in one text (flags are names: never this, never empty).
_UNIT: Final = "\x1f"


def to_frames(results: Iterable[tuple[str, ParsedFile | Quarantine]]) -> dict[str, pl.DataFrame]:
    """Flatten (sha256, parsed file or quarantine) pairs into one frame per schema, keys
    included."""
    rows: dict[str, list[tuple[object, ...]]] = {name: [] for name in RECORD_SCHEMAS}
    files, profiles, papers = rows["parsed_file"], rows["profile"], rows["paper"]
    mentions, topics, failures = rows["mention"], rows["topic"], rows["failure"]
    for sha256, result in results:
        if isinstance(result, Quarantine):
            files.append((sha256, None, "quarantined", result.reason, 0, 0))
            continue
        files.append(
            (sha256, result.format, "loaded", None, len(result.papers), len(result.failures))
        )
        profiles.extend(
            (
                sha256, index, p.line, p.source, p.source_author_id, p.display_name,
                p.primary_category, p.h_index, p.i10_index, p.n_papers_declared,
                p.n_papers_listed, p.n_citations, p.novelty_pct, p.ai_score, p.orcid,
                p.affiliation, p.captured_at,
            )
            for index, p in enumerate(result.profiles)
        )  # fmt: skip
        for index, paper in enumerate(result.papers):
            papers.append(
                (
                    sha256, index, paper.profile_index, paper.line, paper.source,
                    paper.source_paper_id, paper.doi, paper.arxiv_id, paper.title, paper.year,
                    paper.month, paper.day, paper.date_text, paper.category_code,
                    paper.has_code, paper.abstract, paper.n_citations, len(paper.authors),
                    paper.authors_truncated, paper.affiliation, paper.score, paper.layout,
                    list(paper.flags),
                )
            )  # fmt: skip
            mentions.extend(
                (sha256, index, a.position, a.name, a.source_author_id, a.orcid)
                for a in paper.authors
            )
            topics.extend((sha256, index, scheme, topic) for scheme, topic in paper.topics)
        failures.extend((sha256, f.line, f.reason, f.text) for f in result.failures)
    return with_keys({name: _frame(rows[name], schema) for name, schema in RECORD_SCHEMAS.items()})


def _frame(rows: list[tuple[object, ...]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows to a frame, one column at a time (polars would build a Series per row of a list
    column: those are built from one column of text)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    series = []
    for (name, dtype), values in zip(schema.items(), columns, strict=True):
        if dtype == pl.List(pl.String()):
            # Joined and split again: one column of text, not a Series per row.
            joined = pl.Series(name, [_UNIT.join(value) for value in values], dtype=pl.String())
            items = joined.str.split(_UNIT).list.filter(pl.element() != "")
            series.append(items.cast(dtype))
        else:
            series.append(pl.Series(name, list(values), dtype=dtype, strict=False))
    return pl.DataFrame(series)


def empty_frames() -> dict[str, pl.DataFrame]:
    """One empty frame per schema."""
    return {name: pl.DataFrame(schema=schema) for name, schema in SCHEMAS.items()}
