"""OpenAlex API JSON: Author and Work objects, and the list responses that hold them.

One decoded JSON object in, records out; `flows.formats.jsondump` finds the objects in a file
and decides which reader gets which. Counts are kept as OpenAlex states them (None when a
field is absent, never an invented 0); identifiers are shortened to OpenAlex's short ids
(`A5017898742`, `W2250748100`), DOIs to lower-case bare `10.x/...`, ORCIDs to bare iDs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from flows.formats.jsonvalues import count as _count
from flows.formats.jsonvalues import text as _text
from flows.formats.jsonvalues import timestamp as _timestamp
from flows.formats.records import AuthorMention, PaperRecord, ParsedFile, ProfileRecord

SOURCE: Final = "openalex"
TOPIC_SCHEME: Final = "openalex_topic"

_ENTITY_URL: Final = "https://openalex.org/"
_AUTHOR_ID: Final = re.compile(r"^(?:https?://openalex\.org/)?(A\d+)$", re.IGNORECASE)
_WORK_ID: Final = re.compile(r"^(?:https?://openalex\.org/)?(W\d+)$", re.IGNORECASE)
# OpenAlex states DOIs as https://doi.org/ URLs; other dumps write doi: or dx.doi.org forms.
_DOI_PREFIX: Final = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
# arXiv registers its papers under DataCite's 10.48550 prefix: 10.48550/arXiv.2108.04680.
_ARXIV_DOI: Final = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_ARXIV_PREFIX: Final = re.compile(r"^(?:https?://arxiv\.org/(?:abs|pdf)/|arxiv:\s*)", re.IGNORECASE)
_ORCID: Final = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$", re.IGNORECASE)
_DATE: Final = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
# year, month, day, and the date as the source wrote it
_DateParts = tuple[int | None, int | None, int | None, str | None]


def detect(obj: Mapping[str, Any]) -> str | None:
    """The kind of OpenAlex object this is (`author`, `work`, `list`), or None if not OpenAlex."""
    entity_id = obj.get("id")
    if isinstance(entity_id, str) and entity_id.startswith(_ENTITY_URL):
        if _AUTHOR_ID.match(entity_id):
            return "author"
        if _WORK_ID.match(entity_id):
            return "work"
        return None
    if isinstance(obj.get("meta"), Mapping) and isinstance(obj.get("results"), list):
        return "list"
    return None


def list_items(obj: Mapping[str, Any]) -> list[Any]:
    """The objects of a list response (`meta` + `results[]`), in the order given."""
    return list(obj["results"])


def read_object(obj: Mapping[str, Any], line: int) -> ParsedFile:
    """Read one Author or Work object; ValueError when it is one but cannot be read."""
    kind = detect(obj)
    if kind == "author":
        return ParsedFile(format=f"{SOURCE}_author", profiles=(read_author(obj, line),))
    if kind == "work":
        return ParsedFile(format=f"{SOURCE}_work", papers=(read_work(obj, line),))
    raise ValueError("not an OpenAlex Author or Work object")


def read_author(obj: Mapping[str, Any], line: int) -> ProfileRecord:
    """An Author object as the profile it describes, with the metrics OpenAlex reports."""
    author_id = short_id(obj.get("id"))
    name = _text(obj.get("display_name"))
    if name is None:
        raise ValueError(f"openalex author {author_id} has no display_name")
    stats = obj.get("summary_stats")
    stats = stats if isinstance(stats, Mapping) else {}
    return ProfileRecord(
        line=line,
        source=SOURCE,
        display_name=name,
        source_author_id=author_id,
        h_index=_count(stats.get("h_index")),
        i10_index=_count(stats.get("i10_index")),
        n_papers_declared=_count(obj.get("works_count")),
        n_citations=_count(obj.get("cited_by_count")),
        orcid=bare_orcid(obj.get("orcid")),
        affiliation=_institutions(obj),
        captured_at=_timestamp(obj.get("updated_date")),
    )


def read_work(obj: Mapping[str, Any], line: int) -> PaperRecord:
    """A Work object as one paper: its authorships in order, its topics, its citation count."""
    flags: list[str] = []
    title = _text(obj.get("title")) or _text(obj.get("display_name"))
    if title is None:
        title = ""
        flags.append("title_missing")
    authors, author_flags = _authorships(obj.get("authorships"))
    flags.extend(author_flags)
    year, month, day, date_text = _publication_date(obj)
    doi = bare_doi(obj.get("doi"))
    ids = obj.get("ids")
    ids = ids if isinstance(ids, Mapping) else {}
    if doi is None:
        doi = bare_doi(ids.get("doi"))
    arxiv_id = bare_arxiv_id(ids.get("arxiv")) or arxiv_id_from_doi(doi)
    if obj.get("is_retracted") is True:
        flags.append("retracted")
    if obj.get("is_paratext") is True:
        flags.append("paratext")
    return PaperRecord(
        line=line,
        source=SOURCE,
        title=title,
        source_paper_id=short_id(obj.get("id")),
        doi=doi,
        arxiv_id=arxiv_id,
        year=year,
        month=month,
        day=day,
        date_text=date_text,
        abstract=_abstract(obj.get("abstract_inverted_index")),
        n_citations=_count(obj.get("cited_by_count")),
        authors=authors,
        # OpenAlex cuts very long author lists and says so with this flag.
        authors_truncated=obj.get("is_authors_truncated") is True,
        topics=_topics(obj),
        flags=tuple(flags),
    )


def short_id(value: object) -> str | None:
    """`https://openalex.org/A5017898742` → `A5017898742` (the id OpenAlex's API accepts)."""
    text = _text(value)
    if text is None:
        return None
    match = _AUTHOR_ID.match(text) or _WORK_ID.match(text)
    if match:
        return match.group(1).upper()
    return text.removeprefix(_ENTITY_URL)


def bare_doi(value: object) -> str | None:
    """A DOI in any of its usual spellings → lower-case bare `10.x/...` (DOIs ignore case)."""
    text = _text(value)
    if text is None:
        return None
    doi = _DOI_PREFIX.sub("", text).strip().lower()
    return doi if doi.startswith("10.") and "/" in doi else None


def arxiv_id_from_doi(doi: str | None) -> str | None:
    """The arXiv id inside an arXiv DataCite DOI (`10.48550/arxiv.2108.04680` → `2108.04680`)."""
    if doi is None:
        return None
    match = _ARXIV_DOI.match(doi)
    return match.group(1) if match else None


def bare_arxiv_id(value: object) -> str | None:
    """An arXiv id without its URL or `arXiv:` prefix, otherwise as stated."""
    text = _text(value)
    if text is None:
        return None
    return _ARXIV_PREFIX.sub("", text).strip() or None


def bare_orcid(value: object) -> str | None:
    """`https://orcid.org/0000-0003-4063-6479` → `0000-0003-4063-6479`."""
    text = _text(value)
    if text is None:
        return None
    match = _ORCID.search(text)
    return match.group(1).upper() if match else None


def _authorships(value: object) -> tuple[tuple[AuthorMention, ...], list[str]]:
    if not isinstance(value, list):
        return (), ["authors_missing"]
    mentions: list[AuthorMention] = []
    flags: list[str] = []
    # Positions follow the list order: author_position only says first/middle/last.
    for position, authorship in enumerate(value, start=1):
        authorship = authorship if isinstance(authorship, Mapping) else {}
        author = authorship.get("author")
        author = author if isinstance(author, Mapping) else {}
        name = _text(author.get("display_name")) or _text(authorship.get("raw_author_name"))
        if name is None:
            if "author_name_missing" not in flags:
                flags.append("author_name_missing")
            continue
        mentions.append(
            AuthorMention(
                position=position,
                name=name,
                source_author_id=short_id(author.get("id")),
                orcid=bare_orcid(author.get("orcid")),
            )
        )
    if not value:
        flags.append("authors_missing")
    return tuple(mentions), flags


def _publication_date(obj: Mapping[str, Any]) -> _DateParts:
    date_text = _text(obj.get("publication_date"))
    stated_year = _count(obj.get("publication_year"))
    if date_text is not None:
        match = _DATE.match(date_text)
        if match:
            year = int(match.group(1))
            month = int(match.group(2)) if match.group(2) else None
            day = int(match.group(3)) if match.group(3) else None
            if stated_year is None or stated_year == year:
                return year, month, day, date_text
    if stated_year is not None:
        return stated_year, None, None, date_text or str(stated_year)
    return None, None, None, date_text


def _topics(obj: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    names: list[str] = []
    primary = obj.get("primary_topic")
    candidates = [primary] if isinstance(primary, Mapping) else []
    topics = obj.get("topics")
    if isinstance(topics, list):
        candidates.extend(topic for topic in topics if isinstance(topic, Mapping))
    for topic in candidates:
        name = _text(topic.get("display_name"))
        # The primary topic is repeated inside topics[]; keep each once, primary first.
        if name is not None and name not in names:
            names.append(name)
    return tuple((TOPIC_SCHEME, name) for name in names)


def _abstract(value: object) -> str | None:
    # OpenAlex ships abstracts as {word: [positions]} for licensing reasons; rebuild the text.
    if not isinstance(value, Mapping) or not value:
        return None
    placed: dict[int, str] = {}
    for word, positions in value.items():
        if not isinstance(word, str) or not isinstance(positions, list):
            return None
        for position in positions:
            if not isinstance(position, int) or isinstance(position, bool):
                return None
            placed[position] = word
    return " ".join(placed[position] for position in sorted(placed)) or None


def _institutions(obj: Mapping[str, Any]) -> str | None:
    institutions = obj.get("last_known_institutions")
    if not isinstance(institutions, list):
        # The pre-2023 schema had a single `last_known_institution` object.
        single = obj.get("last_known_institution")
        institutions = [single] if isinstance(single, Mapping) else []
    names = [
        name
        for institution in institutions
        if isinstance(institution, Mapping)
        and (name := _text(institution.get("display_name"))) is not None
    ]
    return "; ".join(dict.fromkeys(names)) or None
