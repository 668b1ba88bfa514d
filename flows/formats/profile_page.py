"""Reader for Scholar Feed profile pages saved as text (FORMAT.md §1).

Split first, then interpret: the page is cut into a header and one block per paper, each block
keeping its first line; every block is then read on its own. A block that cannot be read
becomes a `BlockFailure` with a reason and the rest of the page still loads. Values are kept
as the page shows them (yearless dates keep `year=None`, categories keep their short code).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from typing import Final

from flows.formats.decode import decode_text, split_lines
from flows.formats.records import (
    AuthorMention,
    BlockFailure,
    PaperRecord,
    ParsedFile,
    ProfileRecord,
    Quarantine,
)

FORMAT: Final = "scholarfeed_profile"
SOURCE: Final = "scholarfeed"
MAX_LINE_CHARS: Final = 100_000
_FAILURE_TEXT_CHARS: Final = 500
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_META: Final = re.compile(
    r"(?P<score>[0-9]{1,3}(?:\.[0-9]{1,3})?)?"
    r"(?P<cat>[A-Z][A-Z-]{0,15}?)??"
    r"(?P<mon>" + "|".join(_MONTHS) + r") (?P<day>[0-9]{1,2})"
    r"(?:, (?P<year>[0-9]{4}))?"
    r"(?P<code>Code)?"
)
_HEADING: Final = re.compile(r"(?P<n>[0-9][0-9,]*) Papers")
_NUMBER: Final = r"(?P<n>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
_HEADER_FIELDS: Final = (
    ("h_index", re.compile(r"h-index\s*" + _NUMBER, re.I), re.compile(r"h-index", re.I)),
    ("n_papers_declared", re.compile(_NUMBER + r"\s*papers", re.I), re.compile(r".*papers$", re.I)),
    ("n_citations", re.compile(_NUMBER + r"\s*citations?", re.I), re.compile(r".*citations?$", re.I)),
    ("novelty_pct", re.compile(r"Novelty\s*" + _NUMBER + r"\s*%", re.I), re.compile(r"novelty", re.I)),
    ("ai_score", re.compile(r"AI Score\s*" + _NUMBER, re.I), re.compile(r"ai score", re.I)),
)
_CATEGORY_LINE: Final = re.compile(r"[A-Z][A-Z-]{0,15}|[a-z-]+\.[A-Z]{2}|[a-z-]+")
_ET_AL: Final = re.compile(r"[\s,]*\bet\.? al\.?,?\s*$", re.I)
_AFFILIATION: Final = re.compile(r"\s*·\s*")
_NAME_SPLIT: Final = re.compile(r"\s*[,;]\s*")
_NOT_IN_NAMES: Final = re.compile(r"[0-9:!?()\[\]{}\"“”=<>/\\|@#$%^&*+_~]")
_PARTICLES: Final = frozenset(
    "van von der den de del della di da do dos das du la le lo bin binti ibn al el y e "
    "ten ter zu af av st".split()
)
_SENTENCE_END: Final = re.compile(r"[.!?]$")
_INITIAL_OR_SUFFIX: Final = re.compile(r"(?:\b\w\.|\bJr\.|\bSr\.|\bal\.)$")


def read_profile_page_bytes(data: bytes) -> ParsedFile:
    """Read a profile page from raw bytes; Quarantine when it is not a readable page."""
    return read_profile_page(decode_text(data))


def looks_like_profile_page(text: str) -> bool:
    """True when the first lines hold a profile header line or a paper meta line."""
    for line in split_lines(text[:20_000])[:30]:
        stripped = line.strip()
        if any(pattern.fullmatch(stripped) for _, pattern, _ in _HEADER_FIELDS):
            return True
        if _HEADING.fullmatch(stripped) or _META.fullmatch(stripped):
            return True
    return False


def read_profile_page(text: str) -> ParsedFile:
    """Read a decoded profile page: header, then one block per paper."""
    lines = [line.rstrip() for line in split_lines(text)]
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_CHARS:
            raise Quarantine(
                f"line {number} is {len(line):,} characters long "
                f"(limit {MAX_LINE_CHARS:,} for a profile page)"
            )
    if not looks_like_profile_page(text):
        raise Quarantine(
            "not a profile page: no header line (h-index, papers) and no paper meta line "
            "in the first 30 lines"
        )
    failures: list[BlockFailure] = []
    name_index = _first_non_blank(lines, 0)
    name = lines[name_index].strip()
    if _is_header_line(name) or _META.fullmatch(name):
        raise Quarantine(
            f"profile page without a display name: line {name_index + 1} is a header or "
            "paper line"
        )
    starts = _block_starts(lines, name_index + 1)
    body_start = starts[0] if starts else len(lines)
    profile, header_failures = _read_header(lines, name_index, body_start)
    failures.extend(header_failures)
    papers: list[PaperRecord] = []
    bounds = [*starts, len(lines)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        paper, failure = _read_block(lines, start, end)
        if paper is not None:
            papers.append(paper)
        if failure is not None:
            failures.append(failure)
    return ParsedFile(format=FORMAT, profiles=(profile,), papers=tuple(papers), failures=tuple(failures))


def _first_non_blank(lines: list[str], start: int) -> int:
    for index in range(start, len(lines)):
        if lines[index].strip():
            return index
    return len(lines)


def _is_header_line(line: str) -> bool:
    return bool(_HEADING.fullmatch(line)) or any(
        pattern.fullmatch(line) or loose.match(line) for _, pattern, loose in _HEADER_FIELDS
    )


def _block_starts(lines: list[str], first: int) -> list[int]:
    """Indices of meta lines that open a paper block.

    A meta line opens a block when the line before it is blank (or the heading) and a title
    follows without a blank line; an abstract that happens to look like a meta line is
    followed by a blank line and stays text. A meta line closing the file opens a (truncated)
    block, so it is reported rather than glued to the previous abstract.
    """
    last = len(lines) - 1
    while last >= 0 and not lines[last].strip():
        last -= 1
    starts = []
    for index in range(first, last + 1):
        stripped = lines[index].strip()
        if not _META.fullmatch(stripped):
            continue
        before = lines[index - 1].strip() if index > 0 else ""
        after = lines[index + 1].strip() if index < len(lines) - 1 else ""
        opens_after_blank = not before or bool(_HEADING.fullmatch(before)) or index == first
        if opens_after_blank and (after or index == last):
            starts.append(index)
    return starts


def _read_header(
    lines: list[str], name_index: int, body_start: int
) -> tuple[ProfileRecord, list[BlockFailure]]:
    values: dict[str, int] = {}
    failures: list[BlockFailure] = []
    category: str | None = None
    listed: int | None = None
    for index in range(name_index + 1, body_start):
        line = lines[index].strip()
        if not line:
            continue
        number = index + 1
        heading = _HEADING.fullmatch(line)
        if heading:
            if listed is None:
                listed = _to_int(heading["n"])
            else:
                failures.append(_failure(number, "repeated '<n> Papers' heading (the first is kept)", line))
            continue
        field = _match_header_field(line)
        if field is not None:
            key, value = field
            if value is None:
                failures.append(_failure(number, _malformed_reason(key, line), line))
            elif key in values:
                failures.append(
                    _failure(number, f"repeated header line {key} (the first value is kept)", line)
                )
            else:
                values[key] = value
            continue
        if category is None and not values and _CATEGORY_LINE.fullmatch(line):
            category = line
            continue
        failures.append(_failure(number, "unrecognised line before the first paper block", line))
    profile = ProfileRecord(
        line=name_index + 1,
        source=SOURCE,
        display_name=lines[name_index].strip(),
        primary_category=category,
        h_index=values.get("h_index"),
        n_papers_declared=values.get("n_papers_declared"),
        n_papers_listed=listed,
        n_citations=values.get("n_citations"),
        novelty_pct=values.get("novelty_pct"),
        ai_score=values.get("ai_score"),
    )
    return profile, failures


def _match_header_field(line: str) -> tuple[str, int | None] | None:
    """(field, value) for a header line; value None when the line is that field, malformed."""
    for key, pattern, loose in _HEADER_FIELDS:
        match = pattern.fullmatch(line)
        if match:
            return key, _to_int(match["n"])
    for key, _, loose in _HEADER_FIELDS:
        if loose.match(line) and len(line) <= 60:
            return key, None
    return None


def _malformed_reason(key: str, line: str) -> str:
    if any(char.isdigit() and not char.isascii() for char in line):
        return f"malformed header line {key}: non-ASCII digits"
    return f"malformed header line {key}: no plain number (digits with optional thousands commas)"


def _to_int(text: str) -> int:
    return int(text.replace(",", ""))


def _failure(line: int, reason: str, text: str) -> BlockFailure:
    return BlockFailure(line=line, reason=reason, text=text[:_FAILURE_TEXT_CHARS])


def _paragraphs(lines: list[str], start: int, end: int) -> list[list[str]]:
    paragraphs: list[list[str]] = [[]]
    for index in range(start, end):
        line = lines[index].strip()
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [paragraph for paragraph in paragraphs if paragraph]


def _read_block(
    lines: list[str], start: int, end: int
) -> tuple[PaperRecord | None, BlockFailure | None]:
    number = start + 1
    paragraphs = _paragraphs(lines, start, end)
    meta_line, *title_lines = paragraphs[0]
    others = paragraphs[1:]
    if not title_lines:
        return None, _failure(number, "paper block ends after its meta line: no title", meta_line)
    meta = _META.fullmatch(meta_line)
    assert meta is not None  # _block_starts only opens blocks on meta lines
    flags: list[str] = []
    layout = "standard"
    authors: _AuthorLine | None = None
    if len(title_lines) >= 2 and (authors := _parse_author_line(title_lines[-1])) is not None:
        title_lines = title_lines[:-1]
        layout = "no_blank_before_authors"
    elif others and len(others[0]) == 1 and (authors := _parse_author_line(others[0][0])):
        others = others[1:]
    elif (compact := _split_compact(title_lines[-1])) is not None:
        title_lines = [*title_lines[:-1], compact[0]]
        authors = compact[1]
        layout = "compact"
        if compact[2]:
            flags.append("title_split_guessed")
    elif others and len(others[0]) == 1 and (authors := _parse_author_line(others[0][0], strict=False)):
        others = others[1:]
        flags.append("author_names_unusual")
    else:
        flags.append("authors_missing")
    if len(title_lines) > 1:
        flags.append("title_on_several_lines")
    title = " ".join(title_lines)
    abstract = "\n".join(" ".join(paragraph) for paragraph in others) or None
    date_text = f"{meta['mon']} {meta['day']}" + (f", {meta['year']}" if meta["year"] else "")
    mentions: tuple[AuthorMention, ...] = ()
    truncated = False
    affiliation = None
    if authors is not None:
        mentions = tuple(
            AuthorMention(position=position, name=name)
            for position, name in enumerate(authors.names, start=1)
        )
        truncated = authors.truncated
        affiliation = authors.affiliation
        flags.extend(authors.flags)
    paper = PaperRecord(
        line=number,
        source=SOURCE,
        title=title,
        profile_index=0,
        category_code=meta["cat"],
        year=int(meta["year"]) if meta["year"] else None,
        month=_MONTHS.index(meta["mon"]) + 1,
        day=int(meta["day"]),
        date_text=date_text,
        has_code=meta["code"] is not None,
        abstract=abstract,
        authors=mentions,
        authors_truncated=truncated,
        affiliation=affiliation,
        score=float(meta["score"]) if meta["score"] else None,
        layout=layout,
        flags=tuple(flags),
    )
    return paper, None


@dataclass(frozen=True, slots=True)
class _AuthorLine:
    names: tuple[str, ...]
    truncated: bool
    affiliation: str | None
    flags: tuple[str, ...]


def _parse_author_line(line: str, *, strict: bool = True) -> _AuthorLine | None:
    """`Name, Name, Name[ et al.][ · affiliation]`, or None when the line is not one."""
    if len(line) > 2_000:
        return None
    names_part, affiliation = line, None
    pieces = _AFFILIATION.split(line, maxsplit=1)
    if len(pieces) == 2:
        names_part, affiliation = pieces[0], pieces[1].strip() or None
    truncated = bool(_ET_AL.search(names_part))
    if truncated:
        names_part = _ET_AL.sub("", names_part)
    raw_names = _NAME_SPLIT.split(names_part.strip())
    names = tuple(" ".join(name.split()) for name in raw_names if name.strip())
    flags = ("stray_author_separator",) if len(names) != len(raw_names) else ()
    if not names:
        return None
    check = _is_name if strict else _is_loose_name
    if not all(check(name) for name in names):
        return None
    return _AuthorLine(names=names, truncated=truncated, affiliation=affiliation, flags=flags)


def _is_name(name: str) -> bool:
    tokens = name.split()
    if not 1 <= len(tokens) <= 6 or len(name) > 80 or _NOT_IN_NAMES.search(name):
        return False
    if _SENTENCE_END.search(name) and not _INITIAL_OR_SUFFIX.search(name):
        return False
    return all(
        not token[0].islower() or token.lower().strip(".'") in _PARTICLES for token in tokens
    )


def _is_loose_name(name: str) -> bool:
    tokens = name.split()
    return (
        1 <= len(tokens) <= 8
        and len(name) <= 100
        and not (_SENTENCE_END.search(name) and not _INITIAL_OR_SUFFIX.search(name))
    )


_COMPACT_SEPARATOR: Final = re.compile(r"\t+|\s{2,}|\s+[|—–]\s+")
_GLUED: Final = re.compile(r"(?<=[a-z0-9)?!.'’])(?=[A-Z])")


def _split_compact(line: str) -> tuple[str, _AuthorLine, bool] | None:
    """Split a compact `<title><authors>` line; the flag says the split point was guessed.

    Separators are tried in order of trust: a tab, two spaces or a dash (certain), a glued
    lower-to-upper case boundary, then a single space. Among several candidates of one kind the
    first author's name length closest to the others' decides, then the leftmost.
    """
    kinds = (
        [(m.start(), m.end()) for m in _COMPACT_SEPARATOR.finditer(line)],
        [(m.start(), m.start()) for m in _GLUED.finditer(line)],
        [(m.start(), m.end()) for m in re.finditer(r" ", line)],
    )
    for rank, cuts in enumerate(kinds):
        candidates = []
        for title_end, authors_start in cuts:
            title = line[:title_end].strip()
            authors = _parse_author_line(line[authors_start:])
            if title and authors is not None:
                candidates.append((_first_name_misfit(authors.names), title_end, title, authors))
        if candidates:
            _, _, title, authors = min(candidates, key=lambda c: (c[0], c[1]))
            return title, authors, rank > 0 or len(candidates) > 1
    return None


def _first_name_misfit(names: tuple[str, ...]) -> float:
    typical = statistics.median(len(name.split()) for name in names[1:]) if len(names) > 1 else 2
    return abs(len(names[0].split()) - typical)
