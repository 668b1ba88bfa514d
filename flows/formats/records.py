"""The records every raw-format reader produces: plain frozen data, no I/O, no DuckDB.

A reader turns one file's bytes into a `ParsedFile`. Records keep the line they start on
(1-based; 0 for formats without lines), so every fact in the warehouse can be traced back to
its place in a raw file. Values are kept as the dump states them: a yearless date keeps
`year=None`, a category keeps its raw code; interpretation happens in `flows.normalise`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class Quarantine(Exception):
    """The whole file cannot be read as any known format; `reason` says why, specifically."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AuthorMention:
    """One name in a paper's author list, in the order shown (position is 1-based)."""

    position: int
    name: str
    source_author_id: str | None = None
    orcid: str | None = None


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    """A profile's header: who it is and the metrics the source reports for it."""

    line: int
    source: str
    display_name: str
    source_author_id: str | None = None
    primary_category: str | None = None
    h_index: int | None = None
    i10_index: int | None = None
    n_papers_declared: int | None = None
    n_papers_listed: int | None = None
    n_citations: int | None = None
    novelty_pct: int | None = None
    ai_score: int | None = None
    orcid: str | None = None
    affiliation: str | None = None
    # When the dump itself says when it was taken; None means "the file's capture time".
    captured_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PaperRecord:
    """One paper as one file shows it. `profile_index` names the profile whose page lists it."""

    line: int
    source: str
    title: str
    profile_index: int | None = None
    source_paper_id: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    category_code: str | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    date_text: str | None = None
    has_code: bool | None = None
    abstract: str | None = None
    n_citations: int | None = None
    authors: tuple[AuthorMention, ...] = ()
    authors_truncated: bool = False
    affiliation: str | None = None
    score: float | None = None
    layout: str | None = None
    topics: tuple[tuple[str, str], ...] = ()
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BlockFailure:
    """A part of a file that could not be read; the rest of the file still loads."""

    line: int
    reason: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """Everything one raw file says, in the order it says it."""

    format: str
    profiles: tuple[ProfileRecord, ...] = ()
    papers: tuple[PaperRecord, ...] = ()
    failures: tuple[BlockFailure, ...] = field(default=())
