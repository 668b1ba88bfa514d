"""API dumps in JSON or JSON Lines: split into objects, recognise each by its content, read it.

The shape decides the reader, never the file name: an OpenAlex Author or Work (an `id` under
`https://openalex.org/`), a Semantic Scholar author or paper (`authorId` / `paperId`), a
`scholarly` Google Scholar profile (`container_type: "Author"`), and the list responses that
hold them (OpenAlex `meta` + `results[]`, Semantic Scholar `offset`/`next` + `data[]`, and
Semantic Scholar's batch arrays). Split first, then interpret: in a list or a JSON Lines file,
an item that cannot be read becomes a `BlockFailure` and the rest still loads; a file in
which nothing can be read is quarantined with the reason.

Formats (`ParsedFile.format`): `<source>_<kind>` for one object (`openalex_author`,
`openalex_work`, `semantic_scholar_author`, `semantic_scholar_paper`, `google_scholar_author`),
`<source>_list` for a list response or array, `<source>_jsonl` for JSON Lines; `mixed_list` and
`mixed_jsonl` when several sources share one file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any, Final

from flows.formats import google_scholar, openalex, semantic_scholar
from flows.formats.records import BlockFailure, PaperRecord, ParsedFile, ProfileRecord, Quarantine

# Tried in this order; their shapes do not overlap, the order only fixes which reason wins.
_READERS: Final[tuple[ModuleType, ...]] = (openalex, semantic_scholar, google_scholar)
_LINE_END: Final = re.compile(r"\r\n|\r|\n")
# A failed block keeps its raw text for the ingest_failure table, but not a whole 3 MB line.
_FAILURE_TEXT_LIMIT: Final = 2000
_KEYS_SHOWN: Final = 20
# Structural surprises inside a recognised object: a failed block, not a lost file.
_OBJECT_ERRORS: Final = (ValueError, TypeError, KeyError, AttributeError)
_UNRECOGNISED: Final = "not a recognised OpenAlex, Semantic Scholar or Google Scholar shape"


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which reader a JSON object belongs to and what kind of object it is."""

    reader: ModuleType
    kind: str

    @property
    def source(self) -> str:
        return str(self.reader.SOURCE)


def read_json_dump(text: str) -> ParsedFile:
    """Read one JSON or JSON Lines API dump, or raise Quarantine saying why it cannot be."""
    body = text.removeprefix("\ufeff")
    if not body.strip():
        raise Quarantine("json: empty document")
    try:
        document = json.loads(body)
    except json.JSONDecodeError as error:
        if _looks_like_json_lines(body, error):
            return _read_json_lines(body, error)
        raise Quarantine(_invalid(error)) from None
    except (RecursionError, ValueError) as error:
        # Nesting deeper than the interpreter's stack, or an integer past Python's digit limit.
        raise Quarantine(f"json: cannot be read: {_plain(error)}") from None
    return _read_document(document)


def _read_document(document: object) -> ParsedFile:
    # A whole-file document: every record it yields is on line 1.
    if isinstance(document, list):
        if not document:
            raise Quarantine("json: an empty array, nothing to read")
        return _read_items(document, line=1, label="array", envelope=None)
    if not isinstance(document, dict):
        raise Quarantine(f"json: {_UNRECOGNISED} (top-level: {_kind_of(document)})")
    shape = _identify(document)
    if shape is None:
        raise Quarantine(f"json: {_UNRECOGNISED} ({_describe_keys(document, 'top-level keys')})")
    if shape.kind == "list":
        items = shape.reader.list_items(document)
        return _read_items(items, line=1, label=f"{shape.source} list", envelope=shape)
    try:
        return shape.reader.read_object(document, 1)
    except _OBJECT_ERRORS as error:
        raise Quarantine(f"json: {shape.source} {shape.kind}: {error}") from None


def _read_items(
    items: Sequence[object], *, line: int, label: str, envelope: _Shape | None
) -> ParsedFile:
    parts: list[tuple[str, ParsedFile]] = []
    failures: list[BlockFailure] = []
    for index, item in enumerate(items):
        # Semantic Scholar's batch endpoints answer null for an id they do not know.
        if item is None:
            continue
        try:
            parts.append(_read_one(item, line))
        except _ItemError as error:
            failures.append(BlockFailure(line, f"{label} item {index}: {error}", _excerpt(item)))
    if items and not parts:
        first = failures[0].reason if failures else "only nulls"
        raise Quarantine(f"json: no item of the {label} could be read (first: {first})")
    # A list response names its source; a bare array takes the sources of its items.
    sources = {envelope.source} if envelope else {source for source, _ in parts}
    single = next(iter(sources)) if len(sources) == 1 else "mixed"
    return _merge(f"{single}_list", [part for _, part in parts], failures)


def _read_json_lines(body: str, document_error: json.JSONDecodeError) -> ParsedFile:
    parts: list[tuple[str, ParsedFile]] = []
    failures: list[BlockFailure] = []
    any_object = False
    for number, raw in enumerate(_LINE_END.split(body), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            reason = f"invalid JSON at column {error.colno}: {error.msg}"
            failures.append(BlockFailure(number, reason, raw[:_FAILURE_TEXT_LIMIT]))
            continue
        except (RecursionError, ValueError) as error:
            reason = f"cannot be read: {_plain(error)}"
            failures.append(BlockFailure(number, reason, raw[:_FAILURE_TEXT_LIMIT]))
            continue
        any_object = any_object or isinstance(value, dict)
        try:
            parts.append(_read_one(value, number))
        except _ItemError as error:
            failures.append(BlockFailure(number, str(error), raw[:_FAILURE_TEXT_LIMIT]))
    if not parts:
        if not any_object:
            # Nothing here is even one JSON object per line: report the document's own error.
            raise Quarantine(_invalid(document_error))
        first = failures[0]
        raise Quarantine(
            f"json: JSON Lines, but no line could be read (line {first.line}: {first.reason})"
        )
    sources = {source for source, _ in parts}
    single = next(iter(sources)) if len(sources) == 1 else "mixed"
    return _merge(f"{single}_jsonl", [part for _, part in parts], failures)


class _ItemError(Exception):
    """One item (array element, list result, JSON Lines line) that cannot be read."""


def _read_one(value: object, line: int) -> tuple[str, ParsedFile]:
    if not isinstance(value, dict):
        raise _ItemError(f"not a JSON object ({_kind_of(value)})")
    shape = _identify(value)
    if shape is None:
        raise _ItemError(f"{_UNRECOGNISED} ({_describe_keys(value, 'keys')})")
    try:
        if shape.kind == "list":
            items = shape.reader.list_items(value)
            label = f"{shape.source} list"
            return shape.source, _read_items(items, line=line, label=label, envelope=shape)
        return shape.source, shape.reader.read_object(value, line)
    except Quarantine as error:
        raise _ItemError(error.reason.removeprefix("json: ")) from None
    except _OBJECT_ERRORS as error:
        raise _ItemError(f"{shape.source} {shape.kind}: {error}") from None


def _identify(obj: Mapping[str, Any]) -> _Shape | None:
    for reader in _READERS:
        kind = reader.detect(obj)
        if kind is not None:
            return _Shape(reader, kind)
    return None


def _merge(fmt: str, parts: Iterable[ParsedFile], failures: Iterable[BlockFailure]) -> ParsedFile:
    # Each part numbers its own profiles from 0; renumber them into the file's order.
    profiles: list[ProfileRecord] = []
    papers: list[PaperRecord] = []
    all_failures: list[BlockFailure] = []
    for part in parts:
        offset = len(profiles)
        profiles.extend(part.profiles)
        papers.extend(
            paper
            if paper.profile_index is None
            else replace(paper, profile_index=paper.profile_index + offset)
            for paper in part.papers
        )
        all_failures.extend(part.failures)
    all_failures.extend(failures)
    all_failures.sort(key=lambda failure: failure.line)
    return ParsedFile(
        format=fmt, profiles=tuple(profiles), papers=tuple(papers), failures=tuple(all_failures)
    )


def _looks_like_json_lines(body: str, error: json.JSONDecodeError) -> bool:
    # "Extra data": a complete first value was followed by more, as in JSON Lines. A broken
    # first line instead shows as most other lines being JSON objects on their own.
    if error.msg == "Extra data":
        return True
    lines = [raw for raw in _LINE_END.split(body) if raw.strip()]
    if len(lines) < 2:
        return False
    objects = sum(1 for raw in lines if _is_object_line(raw))
    return objects * 2 > len(lines)


def _is_object_line(raw: str) -> bool:
    stripped = raw.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return False
    try:
        return isinstance(json.loads(stripped), dict)
    except (RecursionError, ValueError):
        return False


def _invalid(error: json.JSONDecodeError) -> str:
    return f"json: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"


def _plain(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error)


def _describe_keys(obj: Mapping[str, Any], label: str) -> str:
    keys = [str(key) for key in obj]
    if not keys:
        return f"{label}: none, an empty object"
    shown = ", ".join(keys[:_KEYS_SHOWN])
    more = f", … {len(keys) - _KEYS_SHOWN} more" if len(keys) > _KEYS_SHOWN else ""
    return f"{label}: {shown}{more}"


def _kind_of(value: object) -> str:
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return type(value).__name__


def _excerpt(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text[:_FAILURE_TEXT_LIMIT]
