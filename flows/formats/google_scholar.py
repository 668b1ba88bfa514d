"""Google Scholar profiles as the `scholarly` package dumps them (its `Author` dict).

One profile per dump, with the metrics Scholar shows (h-index, i10-index, citations) and the
profile's publication list with per-publication citation counts. A profile's publication
list names no coauthors, so papers carry `authors=()` and the flag `authors_not_listed`
unless `scholarly` filled a publication's `bib.author` string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from flows.formats.jsonvalues import count as _count
from flows.formats.jsonvalues import text as _text
from flows.formats.jsonvalues import timestamp as _timestamp
from flows.formats.records import (
    AuthorMention,
    BlockFailure,
    PaperRecord,
    ParsedFile,
    ProfileRecord,
)

SOURCE: Final = "google_scholar"
_CONTAINER: Final = "Author"
# `scholarly` joins a filled publication's authors with " and " (BibTeX style).
_AUTHOR_SEPARATOR: Final = " and "
# Scholar shows a four-digit year; anything else is kept as text and flagged.
_YEAR: Final = re.compile(r"\d{4}", re.ASCII)


def detect(obj: Mapping[str, Any]) -> str | None:
    """`author` for a `scholarly` Author dict, else None."""
    if obj.get("container_type") == _CONTAINER:
        return "author"
    # Older dumps and hand-made exports drop container_type but keep the profile's id.
    if "scholar_id" in obj and ("publications" in obj or "hindex" in obj):
        return "author"
    return None


def read_object(obj: Mapping[str, Any], line: int) -> ParsedFile:
    """One profile and the publications listed on it."""
    if detect(obj) != "author":
        raise ValueError("not a scholarly Author dict")
    name = _text(obj.get("name"))
    scholar_id = _text(obj.get("scholar_id"))
    if name is None:
        raise ValueError(f"google scholar profile {scholar_id} has no name")
    entries = _publications(obj.get("publications"))
    papers: list[PaperRecord] = []
    failures: list[BlockFailure] = []
    for key, publication in entries or ():
        try:
            papers.append(_paper(key, publication, line))
        except ValueError as error:
            failures.append(BlockFailure(line=line, reason=f"publications[{key}]: {error}"))
    profile = ProfileRecord(
        line=line,
        source=SOURCE,
        display_name=name,
        source_author_id=scholar_id,
        h_index=_count(obj.get("hindex")),
        i10_index=_count(obj.get("i10index")),
        n_papers_listed=len(entries) if entries is not None else None,
        n_citations=_count(obj.get("citedby")),
        affiliation=_text(obj.get("affiliation")),
        captured_at=_timestamp(obj.get("updated")),
    )
    return ParsedFile(
        format=f"{SOURCE}_author",
        profiles=(profile,),
        papers=tuple(papers),
        failures=tuple(failures),
    )


def _publications(value: object) -> list[tuple[str, object]] | None:
    # The acad-homepage action re-keys the list by author_pub_id; `scholarly` itself
    # returns a list. None means the profile was dumped without its publications.
    if isinstance(value, Mapping):
        return [(str(key), publication) for key, publication in value.items()]
    if isinstance(value, list):
        return [(str(index), publication) for index, publication in enumerate(value)]
    return None


def _paper(key: str, publication: object, line: int) -> PaperRecord:
    if not isinstance(publication, Mapping):
        raise ValueError("publication is not a JSON object")
    bib = publication.get("bib")
    bib = bib if isinstance(bib, Mapping) else {}
    title = _text(bib.get("title"))
    if title is None:
        raise ValueError("publication has no bib.title")
    stated_year = bib.get("pub_year")
    year_text = str(stated_year) if _count(stated_year) is not None else _text(stated_year)
    year = int(year_text) if year_text is not None and _YEAR.fullmatch(year_text) else None
    flags: list[str] = []
    if year_text is not None and year is None:
        flags.append("year_unreadable")
    authors = _bib_authors(bib.get("author"))
    if not authors:
        flags.append("authors_not_listed")
    return PaperRecord(
        line=line,
        source=SOURCE,
        title=title,
        profile_index=0,
        source_paper_id=_text(publication.get("author_pub_id")) or key,
        year=year,
        date_text=year_text,
        n_citations=_count(publication.get("num_citations")),
        authors=authors,
        flags=tuple(flags),
    )


def _bib_authors(value: object) -> tuple[AuthorMention, ...]:
    text = _text(value)
    if text is None:
        return ()
    names = [name.strip() for name in text.split(_AUTHOR_SEPARATOR) if name.strip()]
    return tuple(
        AuthorMention(position=position, name=name) for position, name in enumerate(names, 1)
    )
