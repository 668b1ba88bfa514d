"""Tiny inputs for the normalisation tests: profile pages written as text, read and normalised.

A test states pages as `Page` values (or raw text), each with a capture date; `normalise_pages`
runs them through the real reader (`flows.formats.read_dump`), `to_frames` and `normalise`,
so every rule is checked on the path the ingest flow takes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl
from polars.testing import assert_frame_equal

from flows.formats import read_dump
from flows.formats.frames import to_frames
from flows.formats.records import ParsedFile, Quarantine
from flows.normalise import normalise

Tables = dict[str, pl.DataFrame]


@dataclass(frozen=True)
class Paper:
    """One paper block of a page, in the page's own spelling."""

    title: str
    authors: tuple[str, ...] = ()
    date: str = "Jan 5, 2024"
    category: str = "LG"
    has_code: bool = False
    et_al: bool = False
    affiliation: str | None = None
    abstract: str | None = "An abstract."


@dataclass(frozen=True)
class Page:
    """One profile page: the owner's display name, header metrics and paper blocks."""

    name: str
    papers: tuple[Paper, ...] = ()
    h_index: int = 3
    n_papers: int | None = None
    heading: int | None = None
    extra_header: tuple[str, ...] = field(default=())


def meta_line(paper: Paper) -> str:
    return f"{paper.category}{paper.date}{'Code' if paper.has_code else ''}"


def author_line(paper: Paper) -> str:
    line = ", ".join(paper.authors) + (" et al." if paper.et_al else "")
    return line + (f" · {paper.affiliation}" if paper.affiliation else "")


def page_text(page: Page) -> str:
    """The page as Scholar Feed's saved text shows it (FORMAT.md §1)."""
    n_papers = len(page.papers) if page.n_papers is None else page.n_papers
    heading = len(page.papers) if page.heading is None else page.heading
    lines = [page.name, "", f"h-index{page.h_index}", f"{n_papers}papers", *page.extra_header]
    lines += ["", f"{heading} Papers", ""]
    for paper in page.papers:
        lines += [meta_line(paper), paper.title, "", author_line(paper), ""]
        if paper.abstract:
            lines += [paper.abstract, ""]
    return "\n".join(lines)


def as_datetime(day: date | datetime) -> datetime:
    return day if isinstance(day, datetime) else datetime(day.year, day.month, day.day)


def read_texts(
    texts: Sequence[tuple[str, date | datetime]],
) -> tuple[list[tuple[str, ParsedFile | Quarantine]], pl.DataFrame]:
    """Read texts as the landing zone would: (sha256, parsed) once per content, and one
    files row per text (path `<capture date>/<hash>.txt`)."""
    parsed: dict[str, ParsedFile | Quarantine] = {}
    rows: dict[str, list[object]] = {"sha256": [], "path": [], "captured_at": []}
    for text, captured in texts:
        data = text.encode()
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 not in parsed:
            try:
                parsed[sha256] = read_dump(data)
            except Quarantine as quarantine:
                parsed[sha256] = quarantine
        when = as_datetime(captured)
        rows["sha256"].append(sha256)
        rows["path"].append(f"{when:%Y-%m-%d}/{sha256[:16]}.txt")
        rows["captured_at"].append(when)
    files = pl.DataFrame(
        rows, schema={"sha256": pl.String, "path": pl.String, "captured_at": pl.Datetime("us")}
    )
    return list(parsed.items()), files


def loaded_files(
    parsed: Sequence[tuple[str, ParsedFile | Quarantine]], files: pl.DataFrame
) -> pl.DataFrame:
    """The files whose content was read; a content at several paths keeps every path (as a
    careless caller might pass it: `normalise` counts each content once, at its first path)."""
    ok = [sha256 for sha256, result in parsed if not isinstance(result, Quarantine)]
    return files.filter(pl.col("sha256").is_in(ok))


def normalise_texts(texts: Sequence[tuple[str, date | datetime]]) -> Tables:
    """Page texts with capture dates → the normalised core tables."""
    parsed, files = read_texts(texts)
    return normalise(to_frames(parsed), loaded_files(parsed, files))


def normalise_pages(pages: Sequence[tuple[Page, date | datetime]]) -> Tables:
    """Pages with capture dates → the normalised core tables."""
    return normalise_texts([(page_text(page), captured) for page, captured in pages])


def one_paper(
    date_text: str, captured: date | datetime, *, category: str = "LG", title: str = "A Paper"
) -> pl.DataFrame:
    """The `paper` table of a one-paper page with the given meta date and capture date."""
    paper = Paper(title=title, authors=("Ann Lee",), date=date_text, category=category)
    return normalise_pages([(Page("Ann Lee", (paper,)), captured)])["paper"]


def canonical(tables: Tables) -> Tables:
    """Every table with its rows in one fixed order, for comparing runs."""
    out = {}
    for name, frame in tables.items():
        sortable = [c for c, t in frame.schema.items() if not isinstance(t, pl.List)]
        out[name] = frame.sort(sortable, nulls_last=True)
    return out


def assert_same_tables(left: Tables, right: Tables) -> None:
    """Identical tables (same columns, same rows), whatever the row order."""
    assert left.keys() == right.keys()
    a, b = canonical(left), canonical(right)
    for name in a:
        try:
            assert_frame_equal(a[name], b[name])
        except AssertionError as error:
            raise AssertionError(f"table {name} differs: {error}") from None


def author_id_of(tables: Tables, name: str, *, kind: str | None = None) -> list[str]:
    """The author ids whose display name is `name` (optionally of one kind), sorted."""
    authors = tables["author"].filter(pl.col("display_name") == name)
    if kind is not None:
        authors = authors.filter(pl.col("kind") == kind)
    return sorted(authors["author_id"].to_list())


def authors_of(tables: Tables, title: str) -> pl.DataFrame:
    """The authorship rows of the paper with this title, with the authors' display names."""
    paper_ids = tables["paper"].filter(pl.col("title") == title)["paper_id"]
    assert paper_ids.len() == 1, f"{title!r} is {paper_ids.len()} papers"
    return (
        tables["authorship"]
        .filter(pl.col("paper_id") == paper_ids[0])
        .join(tables["author"].select("author_id", "display_name", "kind"), on="author_id")
        .sort("display_name", "author_id")
    )
