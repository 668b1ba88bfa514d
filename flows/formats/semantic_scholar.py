"""Semantic Scholar Graph API JSON: authors (with or without their papers), papers, list pages.

One decoded JSON object in, records out; `flows.formats.jsondump` finds the objects in a file.
An author becomes one profile and its `papers[]` become papers listed on that profile. A paper
response becomes one paper; its `citations[]` and `references[]` are real papers too, but only
those that carry a title and an author list become records (flagged by their relation), since
the rest say too little to place in the warehouse. Counts stay as stated (None when absent).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from flows.formats.jsonvalues import count as _count
from flows.formats.jsonvalues import text as _text
from flows.formats.openalex import arxiv_id_from_doi, bare_arxiv_id, bare_doi, bare_orcid
from flows.formats.records import (
    AuthorMention,
    BlockFailure,
    PaperRecord,
    ParsedFile,
    ProfileRecord,
)

SOURCE: Final = "semantic_scholar"
TOPIC_SCHEME: Final = "s2_field"

# Related papers inside a paper response, and the flag each kind of relation gets.
_RELATED: Final = (("citations", "s2_citing_paper"), ("references", "s2_referenced_paper"))
# Envelope keys of the Graph API's paged responses (`/author/{id}/papers`, searches, ...).
_PAGE_KEYS: Final = frozenset({"offset", "next", "total"})
_DATE: Final = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
# year, month, day, and the date as the source wrote it
_DateParts = tuple[int | None, int | None, int | None, str | None]


def detect(obj: Mapping[str, Any]) -> str | None:
    """The kind of Graph API object this is (`paper`, `author`, `list`), or None."""
    if "paperId" in obj:
        return "paper"
    if "authorId" in obj:
        return "author"
    if isinstance(obj.get("data"), list) and _PAGE_KEYS & obj.keys():
        return "list"
    return None


def list_items(obj: Mapping[str, Any]) -> list[Any]:
    """The objects of a paged response (`offset`/`next`/`total` + `data[]`), in order."""
    return list(obj["data"])


def read_object(obj: Mapping[str, Any], line: int) -> ParsedFile:
    """Read one author or paper object; ValueError when it is one but cannot be read."""
    kind = detect(obj)
    if kind == "author":
        return read_author(obj, line)
    if kind == "paper":
        return read_paper_response(obj, line)
    raise ValueError("not a Semantic Scholar author or paper object")


def read_author(obj: Mapping[str, Any], line: int) -> ParsedFile:
    """An author as one profile; its `papers[]`, when present, as papers listed on it."""
    author_id = _text(obj.get("authorId"))
    name = _text(obj.get("name"))
    if name is None:
        raise ValueError(f"semantic scholar author {author_id} has no name")
    papers_value = obj.get("papers")
    papers = papers_value if isinstance(papers_value, list) else None
    external = obj.get("externalIds")
    external = external if isinstance(external, Mapping) else {}
    profile = ProfileRecord(
        line=line,
        source=SOURCE,
        display_name=name,
        source_author_id=author_id,
        h_index=_count(obj.get("hIndex")),
        n_papers_declared=_count(obj.get("paperCount")),
        n_papers_listed=len(papers) if papers is not None else None,
        n_citations=_count(obj.get("citationCount")),
        orcid=bare_orcid(external.get("ORCID")),
        affiliation=_affiliations(obj.get("affiliations")),
    )
    records: list[PaperRecord] = []
    failures: list[BlockFailure] = []
    for index, paper in enumerate(papers or ()):
        try:
            records.append(read_paper(paper, line, profile_index=0))
        except ValueError as error:
            failures.append(BlockFailure(line=line, reason=f"papers[{index}]: {error}"))
    return ParsedFile(
        format=f"{SOURCE}_author",
        profiles=(profile,),
        papers=tuple(records),
        failures=tuple(failures),
    )


def read_paper_response(obj: Mapping[str, Any], line: int) -> ParsedFile:
    """A paper, then the citing and referenced papers that carry a title and authors."""
    papers = [read_paper(obj, line)]
    for key, flag in _RELATED:
        related = obj.get(key)
        for item in related if isinstance(related, list) else ():
            if isinstance(item, Mapping) and _text(item.get("title")) and _has_authors(item):
                papers.append(read_paper(item, line, flags=(flag,)))
    return ParsedFile(format=f"{SOURCE}_paper", papers=tuple(papers))


def read_paper(
    obj: object,
    line: int,
    *,
    profile_index: int | None = None,
    flags: tuple[str, ...] = (),
) -> PaperRecord:
    """One Graph API paper object as a paper record."""
    if not isinstance(obj, Mapping):
        raise ValueError("semantic scholar paper is not a JSON object")
    found_flags = list(flags)
    title = _text(obj.get("title"))
    if title is None:
        title = ""
        found_flags.append("title_missing")
    authors, author_flags = _authors(obj.get("authors"))
    found_flags.extend(author_flags)
    external = obj.get("externalIds")
    external = external if isinstance(external, Mapping) else {}
    doi = bare_doi(external.get("DOI"))
    year, month, day, date_text = _date(obj)
    return PaperRecord(
        line=line,
        source=SOURCE,
        title=title,
        profile_index=profile_index,
        source_paper_id=_text(obj.get("paperId")),
        doi=doi,
        arxiv_id=bare_arxiv_id(external.get("ArXiv")) or arxiv_id_from_doi(doi),
        year=year,
        month=month,
        day=day,
        date_text=date_text,
        abstract=_text(obj.get("abstract")),
        n_citations=_count(obj.get("citationCount")),
        authors=authors,
        topics=_fields(obj),
        flags=tuple(found_flags),
    )


def _authors(value: object) -> tuple[tuple[AuthorMention, ...], list[str]]:
    # `authors: null` (and an absent key) means S2 did not say who wrote it, not "nobody".
    if not isinstance(value, list) or not value:
        return (), ["authors_missing"]
    mentions: list[AuthorMention] = []
    flags: list[str] = []
    for position, author in enumerate(value, start=1):
        author = author if isinstance(author, Mapping) else {}
        name = _text(author.get("name"))
        if name is None:
            if "author_name_missing" not in flags:
                flags.append("author_name_missing")
            continue
        mentions.append(
            AuthorMention(
                position=position, name=name, source_author_id=_text(author.get("authorId"))
            )
        )
    return tuple(mentions), flags


def _has_authors(obj: Mapping[str, Any]) -> bool:
    authors = obj.get("authors")
    return isinstance(authors, list) and any(
        isinstance(author, Mapping) and _text(author.get("name")) for author in authors
    )


def _date(obj: Mapping[str, Any]) -> _DateParts:
    date_text = _text(obj.get("publicationDate"))
    stated_year = _count(obj.get("year"))
    if date_text is not None:
        match = _DATE.match(date_text)
        if match and (stated_year is None or stated_year == int(match.group(1))):
            month = int(match.group(2)) if match.group(2) else None
            day = int(match.group(3)) if match.group(3) else None
            return int(match.group(1)), month, day, date_text
    if stated_year is not None:
        return stated_year, None, None, date_text or str(stated_year)
    return None, None, None, date_text


def _fields(obj: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    # Only the curated fieldsOfStudy: s2FieldsOfStudy mixes in S2's own classifier's guesses.
    fields = obj.get("fieldsOfStudy")
    fields = fields if isinstance(fields, list) else []
    names = [name.strip() for name in fields if isinstance(name, str) and name.strip()]
    return tuple((TOPIC_SCHEME, name) for name in dict.fromkeys(names))


def _affiliations(value: object) -> str | None:
    if not isinstance(value, list):
        return None
    names = [name.strip() for name in value if isinstance(name, str) and name.strip()]
    return "; ".join(dict.fromkeys(names)) or None
