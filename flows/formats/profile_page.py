"""Reader for Scholar Feed profile pages saved as text (FORMAT.md §1).

Split first, then interpret. The decoded page is cut into lines and the lines into paragraphs
(runs of non-blank lines; a meta line with text right under it also starts one, so a lost
blank line cannot glue two papers together). A paper block opens at every paragraph that
starts with a meta line (`[score]CATMon d[, yyyy][Code]`), with one exception that keeps an
abstract which happens to look like a meta line: a lone meta line standing where an abstract
stands (at most two paragraphs into a block) with the next block right after it stays text.
Everything between the display name and the first block is the header.

Each block is then read on its own: meta line, title, author line, abstract. The author line
is looked for in the layouts the site uses, most trusted first: its own paragraph after the
title; a compact title line with a tab or two spaces before the authors; the title's last
line; a compact line with the names glued to the title; its own paragraph with unusual
names; a compact line split at a single space. A block that cannot be read becomes a
`BlockFailure` with a reason and the rest of the page still loads; what had to be guessed is
recorded in `PaperRecord.layout` and `PaperRecord.flags`. A file is quarantined only when it
is not a profile page at all.

Values are kept as the page shows them: a yearless date keeps `year=None`, a category keeps
its short code, an impossible day such as Feb 30 stays as shown (`flows.normalise` judges it).

Time is linear in the file's size: lines are capped at `MAX_LINE_CHARS`, numbers and codes
have bounded repetition, author lists are split with plain string operations, and the search
for a compact line's split point only looks at short lines.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from itertools import pairwise
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
MAX_AUTHOR_LINE_CHARS: Final = 2_000
# The site shows at most three names, `et al.` and an affiliation: a compact line's author
# part is short. Bounding both keeps the search for the split point cheap on any line.
_COMPACT_AUTHORS_CHARS: Final = 400
_COMPACT_LINE_CHARS: Final = 2_000
# Three names, `et al.` and an affiliation hold far fewer spaces than this.
_MAX_SPACE_CUTS: Final = 40
_MAX_AFFILIATION_CHARS: Final = 200
_FAILURE_TEXT_CHARS: Final = 500
_SNIFF_LINES: Final = 30
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)

_META: Final = re.compile(
    r"(?P<score>[0-9]{1,3}(?:\.[0-9]{1,3})?)?"
    r"(?P<cat>[A-Z][A-Z-]{0,15}?)??"
    r"(?P<mon>" + "|".join(_MONTHS) + r") (?P<day>[0-9]{1,2})"
    r"(?:, (?P<year>[0-9]{4}))?"
    r"(?P<code>Code)?"
)
# Bounded, so that a line of ten thousand digits is a malformed line, not a huge integer.
_NUMBER: Final = r"(?P<n>[0-9]{1,3}(?:,[0-9]{3}){1,6}|[0-9]{1,18})"
_HEADING: Final = re.compile(_NUMBER + " Papers?")


@dataclass(frozen=True, slots=True)
class _HeaderField:
    """One header line kind: its value's pattern, and a loose pattern for a malformed one.

    The loose pattern is a prefix or a short line's suffix, so prose is not taken for it.
    """

    key: str
    label: str
    pattern: re.Pattern[str]
    loose: re.Pattern[str]


# The heading comes first: `22 Papers` also fits the case-insensitive `<n>papers` pattern.
_HEADER_FIELDS: Final = (
    _HeaderField(
        "n_papers_listed", "'<n> Papers' heading", _HEADING, re.compile(r".{0,40} Papers?$")
    ),
    _HeaderField(
        "h_index", "h-index", re.compile(r"h-index\s*" + _NUMBER, re.I), re.compile("h-index", re.I)
    ),
    _HeaderField(
        "n_papers_declared",
        "papers",
        re.compile(_NUMBER + r"\s*papers?", re.I),
        re.compile(r".{0,40}papers?$", re.I),
    ),
    _HeaderField(
        "n_citations",
        "citations",
        re.compile(_NUMBER + r"\s*citations?", re.I),
        re.compile(r".{0,40}citations?$", re.I),
    ),
    _HeaderField(
        "novelty_pct",
        "Novelty",
        re.compile(r"Novelty\s*" + _NUMBER + r"\s*%", re.I),
        re.compile("novelty", re.I),
    ),
    _HeaderField(
        "ai_score",
        "AI Score",
        re.compile(r"AI Score\s*" + _NUMBER, re.I),
        re.compile("ai score", re.I),
    ),
)
_CATEGORY_LINE: Final = re.compile(r"[A-Z][A-Z-]{0,15}|[a-z-]{1,20}\.[A-Z]{2}")
_CATEGORY_CODE: Final = re.compile(r"[A-Z][A-Z-]{1,15}")

# `al` in lower case, as the site writes it: a name such as `Et Al` is not a truncation mark.
_ET_AL: Final = re.compile(r"\b[Ee]t\.? al\.?,?$")
# The affiliation follows a middle dot with a space before it; a dot inside a name
# (a transliterated name such as 买买提·艾力) has none.
_AFFILIATION: Final = re.compile(r"\s·")
_NOT_IN_NAMES: Final = re.compile(r"[0-9:!?()\[\]{}\"“”=<>/\\|@#$%^&*+_~]")
_PARTICLE: Final = re.compile(
    r"van|von|der|den|de|del|della|di|da|do|dos|das|du|la|le|lo|bin|binti|ibn|al|el|y|e"
    r"|ten|ter|zu|af|av|st"
)
# A name may end in a full stop only after an initial (upper case) or a suffix.
_INITIAL_OR_SUFFIX: Final = re.compile(r"(?:\b[^\W\d_a-z]\.|\bJr\.|\bSr\.|\bal\.)$")

_NAME_SEPARATOR: Final = re.compile("[,;]")
_WIDE_SPACE: Final = re.compile(r"\t+|\s{2,}")
_GLUED: Final = re.compile(r"(?<=[a-z0-9)?!.'’])(?=[A-Z])")
# A capital inside a name (McDonald, LeCun, O'Brien) is not where a title and a name met.
_NAME_PREFIX: Final = re.compile(r"Mc|Mac|Le|La|De|Di|Du|Da|Van|Von|[A-Z]['’]")
_SPACE: Final = re.compile(" ")
_TITLE_CANNOT_END: Final = tuple(",;:·&/-–—")


def read_profile_page_bytes(data: bytes) -> ParsedFile:
    """Read a profile page from raw bytes; Quarantine when it is not a readable page."""
    return read_profile_page(decode_text(data))


def looks_like_profile_page(text: str) -> bool:
    """True when the first non-blank lines hold a profile header line or a paper meta line."""
    lines = [line.strip() for line in split_lines(text.lstrip()[:20_000])]
    for line in [line for line in lines if line][:_SNIFF_LINES]:
        if any(field.pattern.fullmatch(line) for field in _HEADER_FIELDS):
            return True
        if _META.fullmatch(line) or line.lower().startswith("h-index"):
            return True
    return False


def read_profile_page(text: str) -> ParsedFile:
    """Read a decoded profile page: header, then one block per paper."""
    lines = _checked_lines(text)
    if not looks_like_profile_page(text):
        raise Quarantine(
            "not a profile page: no header line (h-index, papers) and no paper meta line "
            f"in the first {_SNIFF_LINES} non-blank lines"
        )
    name_index = _display_name_index(lines)
    starts = _block_starts(lines, name_index + 1)
    profile, failures = _read_header(lines, name_index, starts[0] if starts else len(lines))
    papers: list[PaperRecord] = []
    for start, end in pairwise([*starts, len(lines)]):
        result = _read_block(lines, start, end)
        if isinstance(result, PaperRecord):
            papers.append(result)
        else:
            failures.append(result)
    return ParsedFile(
        format=FORMAT, profiles=(profile,), papers=tuple(papers), failures=tuple(failures)
    )


def _checked_lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in split_lines(text)]
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_CHARS:
            raise Quarantine(
                f"line {number} is {len(line):,} characters long "
                f"(limit {MAX_LINE_CHARS:,} for a profile page)"
            )
    return lines


def _display_name_index(lines: list[str]) -> int:
    """Index of the display name line: the first non-blank line, unless it is page furniture."""
    index = _first_non_blank(lines, 0)
    name = lines[index].strip()
    furniture = _match_header_field(name) is not None or _META.fullmatch(name)
    # A bare category code directly above a header line is the category line of a page whose
    # name is missing (on a real page a blank line separates the name from the header).
    next_line = lines[index + 1].strip() if index + 1 < len(lines) else ""
    if furniture or (_CATEGORY_CODE.fullmatch(name) and _match_header_field(next_line)):
        raise Quarantine(
            f"profile page without a display name: line {index + 1} is a header or paper "
            f"line ({name[:60]!r})"
        )
    return index


def _first_non_blank(lines: list[str], start: int) -> int:
    for index in range(start, len(lines)):
        if lines[index].strip():
            return index
    return len(lines)


def _paragraph_spans(lines: list[str], first: int) -> list[tuple[int, int]]:
    """[start, end) of each paragraph from `first` on.

    A paragraph is a run of non-blank lines; a meta line with a non-blank line right under it
    starts a new one even without a blank line before it.
    """
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for index in range(first, len(lines) + 1):
        blank = index == len(lines) or not lines[index].strip()
        opens = not blank and start is not None and _opens_block_in_place(lines, index)
        if start is not None and (blank or opens):
            spans.append((start, index))
            start = None
        if not blank and start is None:
            start = index
    return spans


def _opens_block_in_place(lines: list[str], index: int) -> bool:
    following = lines[index + 1].strip() if index + 1 < len(lines) else ""
    return bool(following) and bool(_META.fullmatch(lines[index].strip()))


def _block_starts(lines: list[str], first: int) -> list[int]:
    """Indices of the meta lines that open paper blocks (see the module docstring)."""
    spans = _paragraph_spans(lines, first)
    starts: list[int] = []
    block_paragraphs = 0
    for position, (start, end) in enumerate(spans):
        block_paragraphs += 1
        if not _META.fullmatch(lines[start].strip()):
            continue
        lone = end - start == 1 and (end == len(lines) or not lines[end].strip())
        next_opens = position + 1 < len(spans) and _META.fullmatch(
            lines[spans[position + 1][0]].strip()
        )
        in_abstract_slot = bool(starts) and 2 <= block_paragraphs <= 3
        if lone and in_abstract_slot and next_opens:
            continue
        starts.append(start)
        block_paragraphs = 1
    return starts


def _read_header(
    lines: list[str], name_index: int, body_start: int
) -> tuple[ProfileRecord, list[BlockFailure]]:
    values: dict[str, int] = {}
    failures: list[BlockFailure] = []
    category: str | None = None
    for index in range(name_index + 1, body_start):
        line = lines[index].strip()
        if not line:
            continue
        failure = None
        field = _match_header_field(line)
        if field is not None:
            failure = _record_header_value(values, *field, line)
        elif category is None and _CATEGORY_LINE.fullmatch(line):
            category = line
        elif _CATEGORY_LINE.fullmatch(line):
            failure = "repeated primary category line (the first is kept)"
        else:
            failure = "unrecognised line before the first paper block"
        if failure is not None:
            failures.append(_failure(index + 1, failure, line))
    profile = ProfileRecord(
        line=name_index + 1,
        source=SOURCE,
        display_name=lines[name_index].strip(),
        primary_category=category,
        h_index=values.get("h_index"),
        n_papers_declared=values.get("n_papers_declared"),
        n_papers_listed=values.get("n_papers_listed"),
        n_citations=values.get("n_citations"),
        novelty_pct=values.get("novelty_pct"),
        ai_score=values.get("ai_score"),
    )
    return profile, failures


def _record_header_value(
    values: dict[str, int], field: _HeaderField, value: int | None, line: str
) -> str | None:
    """Store a header value; the reason it was not stored, if it was not."""
    if value is None:
        return _malformed_reason(field, line)
    if field.key in values:
        return f"repeated {field.label} line (the first value is kept)"
    values[field.key] = value
    return None


def _match_header_field(line: str) -> tuple[_HeaderField, int | None] | None:
    """(field, value) for a header line; value None when the line is that field, malformed."""
    for field in _HEADER_FIELDS:
        match = field.pattern.fullmatch(line)
        if match:
            return field, _to_int(match["n"])
    for field in _HEADER_FIELDS:
        if field.loose.match(line):
            return field, None
    return None


def _malformed_reason(field: _HeaderField, line: str) -> str:
    if any(char.isdigit() and not char.isascii() for char in line):
        return f"malformed {field.label} line: non-ASCII digits"
    return (
        f"malformed {field.label} line: no plain number "
        "(up to 18 digits, optionally with thousands commas)"
    )


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


@dataclass(frozen=True, slots=True)
class _AuthorLine:
    names: tuple[str, ...]
    truncated: bool
    affiliation: str | None
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Located:
    """Where a block's author line was found, and what is left for title and abstract."""

    title_lines: list[str]
    authors: _AuthorLine | None
    others: list[list[str]]
    layout: str
    flags: tuple[str, ...] = ()


def _read_block(lines: list[str], start: int, end: int) -> PaperRecord | BlockFailure:
    paragraphs = _paragraphs(lines, start, end)
    meta_line, *title_lines = paragraphs[0]
    if not title_lines:
        return _failure(start + 1, f"meta line without a title: {_after(lines, start)}", meta_line)
    meta = _META.fullmatch(meta_line)
    assert meta is not None  # _block_starts only opens blocks on meta lines
    found = _locate_authors(title_lines, paragraphs[1:])
    authors = found.authors or _AuthorLine(names=(), truncated=False, affiliation=None, flags=())
    flags = [*found.flags, *authors.flags]
    if len(found.title_lines) > 1:
        flags.append("title_on_several_lines")
    if len(found.others) > 1:
        flags.append("abstract_on_several_paragraphs")
    return PaperRecord(
        line=start + 1,
        source=SOURCE,
        title=" ".join(found.title_lines),
        profile_index=0,
        category_code=meta["cat"],
        year=int(meta["year"]) if meta["year"] else None,
        month=_MONTHS.index(meta["mon"]) + 1,
        day=int(meta["day"]),
        date_text=f"{meta['mon']} {meta['day']}" + (f", {meta['year']}" if meta["year"] else ""),
        has_code=meta["code"] is not None,
        abstract="\n".join(" ".join(paragraph) for paragraph in found.others) or None,
        authors=tuple(
            AuthorMention(position=position, name=name)
            for position, name in enumerate(authors.names, start=1)
        ),
        authors_truncated=authors.truncated,
        affiliation=authors.affiliation,
        score=float(meta["score"]) if meta["score"] else None,
        layout=found.layout,
        flags=tuple(flags),
    )


def _after(lines: list[str], index: int) -> str:
    following = lines[index + 1].strip() if index + 1 < len(lines) else None
    if following is None:
        return "the file ends after it"
    return "another meta line follows it" if following else "a blank line follows it"


def _locate_authors(title_lines: list[str], others: list[list[str]]) -> _Located:
    """Find the author line in the layouts the site uses, most trusted first."""
    alone = others[0][0] if others and len(others[0]) == 1 else None
    head, last = title_lines[:-1], title_lines[-1]
    guessed = ("title_split_guessed",)
    if alone is not None and (authors := _parse_author_line(alone)):
        return _Located(title_lines, authors, others[1:], "standard")
    if compact := _split_compact(last, "certain"):
        return _Located([*head, compact[0]], compact[1], others, "compact")
    if head and (authors := _parse_author_line(last)):
        return _Located(head, authors, others, "no_blank_before_authors")
    if compact := _split_compact(last, "glued"):
        return _Located([*head, compact[0]], compact[1], others, "compact", guessed)
    if alone is not None and (authors := _parse_author_line(alone, strict=False)):
        return _Located(title_lines, authors, others[1:], "standard", ("author_names_unusual",))
    if compact := _split_compact(last, "space"):
        return _Located([*head, compact[0]], compact[1], others, "compact", guessed)
    return _Located(title_lines, None, others, "standard", ("authors_missing",))


def _parse_author_line(line: str, *, strict: bool = True) -> _AuthorLine | None:
    """`Name, Name, Name[ et al.][ · affiliation]`, or None when the line is not one."""
    if len(line) > MAX_AUTHOR_LINE_CHARS:
        return None
    names_part, affiliation = line, None
    dot = _AFFILIATION.search(line)
    if dot:
        names_part, affiliation = line[: dot.start()], line[dot.end() :].strip() or None
    if affiliation is not None and len(affiliation) > _MAX_AFFILIATION_CHARS:
        return None  # a sentence with a middle dot in it, not an affiliation
    names_part = names_part.strip()
    et_al = _ET_AL.search(names_part)
    if et_al:
        names_part = names_part[: et_al.start()].rstrip(", \t")
    # A digit, bracket or other mark anywhere is one inside some name: not a list of names.
    if _NOT_IN_NAMES.search(names_part):
        return None
    raw_names = (
        names_part.split(",") if ";" not in names_part else _NAME_SEPARATOR.split(names_part)
    )
    names = tuple(" ".join(name.split()) for name in raw_names if name.strip())
    check = _is_name if strict else _is_loose_name
    if not names or not all(check(name) for name in names):
        return None
    flags = ("stray_author_separator",) if len(names) != len(raw_names) else ()
    return _AuthorLine(names=names, truncated=bool(et_al), affiliation=affiliation, flags=flags)


def _is_loose_name(name: str) -> bool:
    """A name in any case and script, but not a sentence. (Digits, brackets and other marks,
    `_NOT_IN_NAMES`, are refused for the whole line by `_parse_author_line`.)"""
    return len(name) <= 100 and _is_loose_name_of(name, name.split())


def _is_loose_name_of(name: str, words: list[str]) -> bool:
    ends_sentence = name.endswith((".", "!", "?")) and not _INITIAL_OR_SUFFIX.search(name)
    return 1 <= len(words) <= 8 and not ends_sentence


def _is_name(name: str) -> bool:
    """A loose name of at most six words, each capitalised unless it is a particle (van, de)."""
    if len(name) > 80:
        return False
    words = name.split()
    return (
        len(words) <= 6
        and _is_loose_name_of(name, words)
        and all(
            not token[0].islower() or _PARTICLE.fullmatch(token.lower().strip(".'"))
            for token in words
        )
    )


def _split_compact(line: str, kind: str) -> tuple[str, _AuthorLine] | None:
    """Split a compact `<title><authors>` line into title and author line.

    `kind` says where to cut: "certain" (at a tab or two spaces), "glued" (at a glue point,
    as in `...NetworksXiaorui Liu`) or "space" (at any single space). A guessed author part
    must look like a list (two names, `et al.` or an affiliation), a certain one at least
    like a full name. Among the candidates the least doubtful wins (`_split_doubt`), then
    the leftmost.
    """
    guessed = kind != "certain"
    if len(line) > _COMPACT_LINE_CHARS or (guessed and not _has_list_mark(line)):
        return None
    glue = _glue_points(line)
    candidates = []
    for start, end in _cuts(line, glue, kind):
        if len(line) - end > _COMPACT_AUTHORS_CHARS:
            continue
        title = line[:start].strip()
        authors = _parse_author_line(line[end:])
        # A guessed title does not end on a comma or the like (`Attention,|Please`).
        ends_badly = guessed and title.endswith(_TITLE_CANNOT_END)
        if title and not ends_badly and _plausible(authors, guessed):
            assert authors is not None
            doubt = _split_doubt(line, glue, (start, end), authors.names)
            candidates.append((doubt, start, title, authors))
    if not candidates:
        return None
    _, _, title, authors = min(candidates, key=lambda c: (c[0], c[1]))
    return title, authors


def _cuts(line: str, glue: list[tuple[int, int]], kind: str) -> list[tuple[int, int]]:
    if kind == "glued":
        return [(point, point) for point, word in glue if _is_glue(line, point, word)]
    if kind == "space":
        return [match.span() for match in _SPACE.finditer(line)][-_MAX_SPACE_CUTS:]
    return [match.span() for match in _WIDE_SPACE.finditer(line)]


def _has_list_mark(line: str) -> bool:
    """Whether the line's end holds what a guessed author part needs: `,`, `et al.` or `·`."""
    tail = line[-_COMPACT_AUTHORS_CHARS:]
    return any(mark in tail for mark in (",", ";", "et al", "·"))


def _glue_points(line: str) -> list[tuple[int, int]]:
    """(position, start of its word) of each capital after a lower-case letter, digit or mark."""
    return [
        (
            match.start(),
            max(line.rfind(" ", 0, match.start()), line.rfind("\t", 0, match.start())) + 1,
        )
        for match in _GLUED.finditer(line)
    ]


def _is_glue(line: str, point: int, word_start: int) -> bool:
    """A capital after a name prefix (Mc, Le, O') is part of a name, not where two texts met."""
    return not _NAME_PREFIX.fullmatch(line, word_start, point)


def _plausible(authors: _AuthorLine | None, guessed: bool) -> bool:
    if authors is None:
        return False
    if len(authors.names) > 1 or authors.truncated or authors.affiliation:
        return True
    return not guessed and len(authors.names[0].split()) > 1


def _split_doubt(
    line: str, glue: list[tuple[int, int]], cut: tuple[int, int], names: tuple[str, ...]
) -> tuple[int, int, float]:
    """How doubtful a cut is; smaller is better.

    A cut at the wrong place leaves the real glue point inside a word: among the names (a
    name does not hold one; its words start at the cut at the earliest) or else in the
    title. Then a first name about as long as the others (in words) is likelier than one
    that took in title words.
    """
    start, end = cut
    in_authors = sum(
        point >= end and point != start and _is_glue(line, point, max(word, end))
        for point, word in glue
    )
    in_title = sum(point < start and _is_glue(line, point, word) for point, word in glue)
    first = len(names[0].split())
    typical = statistics.median(len(name.split()) for name in names[1:]) if len(names) > 1 else 2
    return in_authors, in_title, abs(first - typical)
