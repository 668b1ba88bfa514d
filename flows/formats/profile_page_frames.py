"""Profile pages read many at a time with polars: the site's usual layout, read exactly as
`flows.formats.profile_page` reads it, about three times faster per page.

The line-by-line reader handles every variant of FORMAT.md §1 and costs about half a
millisecond per page in Python. Most pages are in the usual layout: a header of known lines,
then blocks of meta line, title, author line on its own, abstract; some put title and
author line on one line, cut at a tab or two spaces (compact). This module reads a batch
of such pages with column expressions, one pass per step over all their lines, and gives the
same rows `flows.formats.frames.to_frames` makes from the line-by-line reader's records.

A page it cannot vouch for is handed back untouched, for the line-by-line reader: anything
that reader would quarantine, flag or record as a failure, or read in another layout. The
tests hold the two readers to the same frames on every page this one takes.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from typing import Final

import polars as pl

from flows.formats import MAX_FILE_BYTES
from flows.formats import profile_page as line_by_line
from flows.formats.frames import RECORD_SCHEMAS, SCHEMAS
from flows.formats.keys import with_keys
from flows.formats.profile_page import (
    _COMPACT_AUTHORS_CHARS,
    _COMPACT_LINE_CHARS,
    _MAX_AFFILIATION_CHARS,
    _MONTHS,
    _SNIFF_LINES,
    FORMAT,
    MAX_AUTHOR_LINE_CHARS,
    MAX_LINE_CHARS,
    SOURCE,
    _display_name_index,
)
from flows.formats.records import Quarantine

_BOM: Final = codecs.BOM_UTF8
# Tab, line end and printable ASCII: every byte from space to tilde.
_PLAIN_BYTES: Final = bytes([0x09, 0x0A, *range(0x20, 0x7F)])
# A character no page read here holds (no control character but tabs and line ends).
_CUT: Final = "\x01"

# The patterns of `flows.formats.profile_page`, anchored for polars (its `fullmatch`).
_META: Final = f"^{line_by_line._META.pattern}$"
# (column, pattern with {n} for the number, loose pattern (a prefix), case-insensitive, fits
# Int32): `profile_page._HEADER_FIELDS`, in the order that reader tries them.
_HEADER_FIELDS: Final = (
    ("n_papers_listed", "{n} Papers?", r".{{0,40}} Papers?$", False, True),
    ("h_index", r"h-index\s*{n}", "h-index", True, True),
    ("n_papers_declared", r"{n}\s*papers?", r".{{0,40}}papers?$", True, True),
    ("n_citations", r"{n}\s*citations?", r".{{0,40}}citations?$", True, False),
    ("novelty_pct", r"Novelty\s*{n}\s*%", "novelty", True, True),
    ("ai_score", r"AI Score\s*{n}", "ai score", True, True),
)


def _alternatives(patterns: list[tuple[str, bool]]) -> str:
    return "|".join(f"(?i:{p})" if insensitive else f"(?:{p})" for p, insensitive in patterns)


_NUMBER: Final = r"(?P<{key}>[0-9]{{1,3}}(?:,[0-9]{{3}}){{1,6}}|[0-9]{{1,18}})"
# One pattern for every field: the first alternative that matches the whole line wins, as
# the other reader tries one field after another.
_STRICT_FIELDS: Final = (
    "^(?:"
    + _alternatives(
        [(p.format(n=_NUMBER.format(key=key)), i) for key, p, _loose, i, _s in _HEADER_FIELDS]
    )
    + ")$"
)
_LOOSE_FIELDS: Final = (
    "^(?:" + _alternatives([(loose.format(), i) for _k, _p, loose, i, _s in _HEADER_FIELDS]) + ")"
)
_CATEGORY_LINE: Final = f"^(?:{line_by_line._CATEGORY_LINE.pattern})$"
_CATEGORY_CODE: Final = f"^(?:{line_by_line._CATEGORY_CODE.pattern})$"
# Every header line, strict or loose, holds one of these (case aside).
_FURNITURE_WORDS: Final = r"(?i)paper|h-index|citation|novelty|ai score"
_SNIFF_CHARS: Final = 20_000
_INT32_MAX: Final = 2**31 - 1
# Word boundaries written out as "no letter, digit or underscore before": the same as
# Python's `\b` on the text the names may hold (letters and printable ASCII), and many
# times faster in polars than its Unicode `\b`.
_ET_AL: Final = r"(^|[^\p{L}0-9_])[Ee]t\.? al\.?,?$"
# The marks no name holds, and (so that word boundaries and cases are alike in both
# readers) any character but a letter or printable ASCII.
_NOT_IN_NAMES_OR_UNSURE: Final = line_by_line._NOT_IN_NAMES.pattern + r"|[^\t\x20-\x7e\p{L}]"
_PARTICLE: Final = f"^(?:{line_by_line._PARTICLE.pattern})$"
_INITIAL_OR_SUFFIX: Final = r"(?:^|[^\p{L}0-9_])(?:[\p{L}--a-z]\.|Jr\.|Sr\.|al\.)$"
_WIDE_SPACE: Final = line_by_line._WIDE_SPACE.pattern
_MAX_NAME_CHARS: Final = 80
_MAX_NAME_WORDS: Final = 6


def read_profile_pages(
    contents: Sequence[tuple[str, bytes]],
) -> tuple[dict[str, pl.DataFrame], list[int]]:
    """Read the (sha256, bytes) contents that are profile pages in the usual layout.

    Returns their frames (the schemas of `flows.formats.frames`) and the positions in
    `contents` of the others, which the line-by-line reader must read.
    """
    pages: list[tuple[int, str, str]] = []
    others: list[int] = []
    for position, (sha256, data) in enumerate(contents):
        text = _usual_text(data)
        if text is None:
            others.append(position)
        else:
            pages.append((position, sha256, text))
    if not pages:
        return _empty(), others
    frame = pl.DataFrame(
        pages, schema={"page": pl.Int32, "sha256": pl.String, "text": pl.String}, orient="row"
    )
    frames, refused = _read(frame)
    return frames, sorted([*others, *refused])


def _usual_text(data: bytes) -> str | None:
    """The text of a content that may be a page in the usual layout: UTF-8 without a
    byte-order mark, lines ending in LF, not JSON, and printable but for tabs and line ends.

    Printable text holds no control or format character (quarantined, or read as they are,
    by the other reader), no whitespace but the space (Python and polars agree on stripping
    and splitting at spaces and tabs, not at every space), and no character newer than
    Python's Unicode tables (polars' are newer: a letter to one would be none to the other).
    (The rest is checked in `_read`.)"""
    if len(data) > MAX_FILE_BYTES or data.startswith(_BOM) or b"\r" in data:
        return None
    # The bytes that are not plain (`_PLAIN_BYTES`): none in an ASCII page; else the other
    # characters' UTF-8 sequences, whole (a sequence holds no ASCII byte), or a control byte.
    # Only those are judged by Python's Unicode tables: a fifth of the time of judging the
    # whole text.
    rest = data.translate(None, _PLAIN_BYTES)
    if not rest:
        text = data.decode("ascii")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if not rest.decode("utf-8").isprintable():
            return None
    return None if text.lstrip()[:1] in ("{", "[") else text


def _read(frame: pl.DataFrame) -> tuple[dict[str, pl.DataFrame], list[int]]:
    """Frames of the pages in `frame` (page, sha256, text) that hold only the usual layout,
    and the pages that hold anything else."""
    lines = _lines(frame)
    refused = set(lines.filter(pl.col("too_long"))["page"].to_list())
    opening = _opening(lines)
    # A page with no display name, or no line at all, is quarantined by the other reader.
    refused |= set(frame["page"].to_list()) - set(opening["page"].to_list())
    lines = lines.join(opening, on="page").filter(pl.col("index") > pl.col("name_index"))
    lines, paragraphs = _paragraphs(lines)
    # A meta line alone in its paragraph opens no block in the usual layout: it is a paper
    # without a title, or an abstract that looks like a meta line.
    refused |= set(
        paragraphs.filter(pl.col("is_meta") & (pl.col("n_lines") == 1))["page"].to_list()
    )
    header, header_refused = _header(lines.filter((pl.col("block") == 0) & ~pl.col("is_blank")))
    refused |= header_refused
    # The sniff of `looks_like_profile_page`: a header or meta line among the first 30
    # non-blank lines, whole within the first 20,000 characters.
    sniffed = (
        pl.concat(
            [
                lines.filter(pl.col("is_meta")).select("page", "rank", "end"),
                header.select("page", rank="first_field_rank", end="first_field_end"),
            ]
        )
        .filter((pl.col("rank") <= _SNIFF_LINES) & (pl.col("end") <= _SNIFF_CHARS))["page"]
        .unique()
    )
    refused |= set(frame["page"].to_list()) - set(sniffed.to_list())
    papers, mentions, paper_refused = _papers(paragraphs)
    refused |= paper_refused
    kept = frame.filter(
        ~pl.col("page").is_in(pl.Series(list(refused), dtype=pl.Int32).implode())
    ).join(opening, on="page")
    is_kept = pl.col("page").is_in(kept["page"].implode())
    papers = papers.filter(is_kept)
    n_papers = papers.group_by("page").agg(n_papers=pl.len().cast(pl.Int32))
    pages = kept.join(n_papers, on="page", how="left").join(header, on="page", how="left")
    sha = frame.select("page", "sha256")
    frames = {
        "parsed_file": _in_schema(
            pages,
            "parsed_file",
            format=pl.lit(FORMAT),
            status=pl.lit("loaded"),
            n_papers=pl.col("n_papers").fill_null(0),
            n_failures=pl.lit(0),
        ),
        "profile": _in_schema(
            pages,
            "profile",
            profile_index=pl.lit(0),
            line=pl.col("name_index") + 1,
            source=pl.lit(SOURCE),
        ),
        "paper": _in_schema(
            papers.join(sha, on="page"),
            "paper",
            profile_index=pl.lit(0),
            source=pl.lit(SOURCE),
        ),
        "mention": _in_schema(mentions.filter(is_kept).join(sha, on="page"), "mention"),
        "topic": pl.DataFrame(schema=RECORD_SCHEMAS["topic"]),
        "failure": pl.DataFrame(schema=RECORD_SCHEMAS["failure"]),
    }
    return with_keys(frames), sorted(refused)


def _in_schema(frame: pl.DataFrame, table: str, **values: pl.Expr) -> pl.DataFrame:
    """`frame` as a row of `table` (`flows.formats.frames.RECORD_SCHEMAS`): each column the
    value given, else the frame's column of that name, else null (what the layout never
    states)."""
    columns = []
    for name, dtype in RECORD_SCHEMAS[table].items():
        if name in values:
            value = values[name]
        else:
            value = pl.col(name) if name in frame.columns else pl.lit(None)
        columns.append(value.cast(dtype).alias(name))
    return frame.select(columns)


def _running(values: pl.Expr, starts: pl.Expr) -> pl.Expr:
    """Running sum of `values` that restarts on every row where `starts` is true (rows in
    order; a plain cumulative sum less its value where the run began, without a window)."""
    total = values.cum_sum()
    return total - pl.when(starts).then(total - values).forward_fill()


def _lines(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per line, in page order: page, index (0-based), `text` (the line stripped),
    `is_blank`, `too_long`, `rank` (its number among the page's non-blank lines) and `end`
    (the offset just past its line end); a last empty line (the text's final line end) is
    no line. Lengths are counted in bytes, never fewer than characters: a line that may be
    too long, or may end past the sniffed part, counts as one (the page is handed back)."""
    split = frame.select("page", line=pl.col("text").str.split("\n")).with_columns(
        line=pl.when(pl.col("line").list.last() == "")
        .then(pl.col("line").list.head(pl.col("line").list.len() - 1))
        .otherwise("line")
    )
    lines = split.with_columns(index=pl.int_ranges(0, pl.col("line").list.len(), dtype=pl.Int32))
    lines = lines.explode("line", "index").with_columns(text=pl.col("line").str.strip_chars())
    first = pl.col("index") == 0
    return lines.select(
        "page",
        "index",
        "text",
        is_blank=pl.col("text") == "",
        too_long=pl.col("line").str.len_bytes() > MAX_LINE_CHARS,
        rank=_running((pl.col("text") != "").cast(pl.Int32), first),
        end=_running(pl.col("line").str.len_bytes().cast(pl.Int64) + 1, first),
    )


def _opening(lines: pl.DataFrame) -> pl.DataFrame:
    """(page, name_index, display_name) of the pages whose first non-blank line is a display
    name, as `profile_page._display_name_index` judges it (with the line under it)."""
    same_page = pl.col("index").shift(-1) == pl.col("index") + 1
    names = lines.with_columns(under=pl.when(same_page).then(pl.col("text").shift(-1))).filter(
        pl.col("rank").eq(1) & ~pl.col("is_blank")
    )
    # Only a name that might be page furniture is judged line by line, by that reader's own
    # function: one with a word of a header line, a meta or category line, or not ASCII.
    name = pl.col("text")
    doubtful = (
        name.str.contains(_FURNITURE_WORDS)
        | name.str.contains(_META)
        | name.str.contains(_CATEGORY_CODE)
        | (name.str.len_bytes() != name.str.len_chars())
    )
    judged = names.filter(doubtful)
    furniture = []
    for page, text, line_under in judged.select("page", "text", "under").iter_rows():
        try:
            _display_name_index([text, line_under or ""])
        except Quarantine:
            furniture.append(page)
    return names.filter(
        ~pl.col("page").is_in(pl.Series(furniture, dtype=pl.Int32).implode())
    ).select("page", name_index="index", display_name="text")


def _paragraphs(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The lines after the display name with `is_meta` and `block` (0 in the header, then the
    number of the paper block), and one row per paragraph: a run of non-blank lines, or a
    meta line with text right under it (`profile_page._paragraph_spans`), with page, first
    line index, n_lines, is_meta (its first line is one), texts, block and its place in
    the block."""
    first = pl.col("index") == pl.col("name_index") + 1
    # Lines are in page order: the next row is another page's when it is a first line.
    next_blank = (pl.col("is_blank") | first).shift(-1).fill_null(True)
    previous_blank = pl.col("is_blank").shift(1).fill_null(True)
    lines = lines.with_columns(is_meta=pl.col("text").str.contains(_META)).with_columns(
        starts=~pl.col("is_blank") & (first | previous_blank | (pl.col("is_meta") & ~next_blank))
    )
    lines = lines.with_columns(
        paragraph=pl.col("starts").cum_sum(),
        block=_running((pl.col("starts") & pl.col("is_meta")).cast(pl.Int32), first),
    )
    paragraphs = (
        lines.filter(~pl.col("is_blank"))
        .group_by("paragraph", maintain_order=True)
        .agg(
            pl.col("page").first(),
            pl.col("block").first(),
            start=pl.col("index").first(),
            n_lines=pl.len(),
            is_meta=pl.col("is_meta").first(),
            texts=pl.col("text"),
        )
        .with_row_index("row")
    )
    new_page = pl.col("page") != pl.col("page").shift(1).fill_null(-1)
    block_row = pl.when(pl.col("is_meta") | new_page).then(pl.col("row")).forward_fill()
    paragraphs = paragraphs.with_columns(place=(pl.col("row") - block_row).cast(pl.Int32))
    return lines, paragraphs.drop("row", "paragraph")


def _header(lines: pl.DataFrame) -> tuple[pl.DataFrame, set[int]]:
    """The header values of each page (`profile_page._read_header`) with the rank and end of
    its first field line, and the pages whose header holds anything but known lines of
    ASCII text, each once, with a plain number."""
    # One pattern for all fields, tried in order (the first alternative that matches the
    # whole line wins, as the other reader tries one field after another).
    numbers = lines["text"].str.extract_groups(_STRICT_FIELDS).struct.unnest()
    keys = [key for key, *_ in _HEADER_FIELDS]
    matched = pl.coalesce(pl.when(pl.col(key).is_not_null()).then(pl.lit(key)) for key in keys)
    fields = (
        lines.select("page", "text", "rank", "end")
        .hstack(numbers)
        .select(
            "page",
            "text",
            "rank",
            "end",
            field=matched,
            value=pl.coalesce(keys).str.replace_all(",", "").cast(pl.Int64),
            is_category=~pl.col("text").str.contains(_LOOSE_FIELDS)
            & pl.col("text").str.contains(_CATEGORY_LINE),
            is_ascii=pl.col("text").str.len_bytes() == pl.col("text").str.len_chars(),
        )
    )
    small = [key for key, _pattern, _loose, _insensitive, is_small in _HEADER_FIELDS if is_small]
    too_large = pl.col("field").is_in(small) & (pl.col("value") > _INT32_MAX)
    unknown = ~pl.col("is_ascii") | (pl.col("field").is_null() & ~pl.col("is_category"))
    repeated = pl.len().over("page", "field", "is_category") > 1
    refused = fields.filter(unknown | repeated | too_large)["page"].unique()
    fields = fields.filter(~pl.col("page").is_in(refused.implode()))
    known = fields.filter(pl.col("field").is_not_null())
    values = known.pivot(
        on="field", index="page", values="value", on_columns=[k for k, *_ in _HEADER_FIELDS]
    )
    first_field = known.group_by("page").agg(
        first_field_rank=pl.col("rank").min(), first_field_end=pl.col("end").min()
    )
    category = fields.filter(pl.col("is_category")).select("page", primary_category="text")
    header = values.join(first_field, on="page").join(
        category, on="page", how="full", coalesce=True
    )
    return header, set(refused.to_list())


def _papers(paragraphs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, set[int]]:
    """Paper rows and their listed names from the blocks (`profile_page._read_block` in the
    usual layout, or compact at a certain cut), and the pages with a block in any other."""
    blocks = paragraphs.filter(pl.col("block") > 0)
    heads = blocks.filter(pl.col("place") == 0).select(
        "page",
        "block",
        line=pl.col("start") + 1,
        meta=pl.col("texts").list.first(),
        title_lines=pl.col("texts").list.slice(1),
        several_title_lines=pl.col("n_lines") > 2,
    )
    author_lines = blocks.filter(pl.col("place") == 1).select(
        "page", "block", alone=pl.when(pl.col("n_lines") == 1).then(pl.col("texts").list.first())
    )
    authors, names = _author_lines(author_lines.filter(pl.col("alone").is_not_null()))
    # A block whose author line is not on its own may be compact (`_compact_splits`).
    compact, compact_names = _compact_splits(heads.join(authors, on=["page", "block"], how="anti"))
    authors = pl.concat(
        [
            authors.with_columns(compact_title=pl.lit(None, pl.String)),
            compact.select(*authors.columns, "compact_title"),
        ]
    )
    names = pl.concat([names, compact_names])
    # The abstract is the paragraphs after the author line's: after the title's in a
    # compact block.
    in_compact = _block_key().is_in(compact.select(_block_key()).to_series().implode())
    abstracts = _abstracts(
        blocks.filter((pl.col("place") >= 2) | ((pl.col("place") == 1) & in_compact))
    )
    papers = (
        heads.join(authors, on=["page", "block"], how="left")
        .join(abstracts, on=["page", "block"], how="left")
        .sort("page", "block")
        .with_columns(
            title=pl.coalesce("compact_title", pl.col("title_lines").list.join(" ")),
            layout=pl.when(pl.col("compact_title").is_not_null())
            .then(pl.lit("compact"))
            .otherwise(pl.lit("standard")),
        )
    )
    refused = set(papers.filter(pl.col("n_authors_listed").is_null())["page"].to_list())
    meta = papers["meta"].str.extract_groups(_META).struct.unnest()
    papers = papers.hstack(meta).with_columns(
        paper_index=(pl.col("block") - 1).cast(pl.Int32),
        category_code="cat",
        year=pl.col("year").cast(pl.Int32),
        month=pl.col("mon").replace_strict(
            {month: number for number, month in enumerate(_MONTHS, start=1)},
            return_dtype=pl.Int32,
        ),
        day=pl.col("day").cast(pl.Int32),
        date_text=pl.concat_str(
            "mon",
            pl.lit(" "),
            "day",
            pl.when(pl.col("year").is_not_null()).then(pl.lit(", ") + pl.col("year")),
            ignore_nulls=True,
        ),
        has_code=pl.col("code").is_not_null(),
        score=pl.col("score").cast(pl.Float64),
        flags=pl.concat_list(
            pl.when(pl.col(flag).fill_null(False))
            .then(pl.lit([name]))
            .otherwise(pl.lit([], pl.List(pl.String)))
            for flag, name in (
                ("stray_separator", "stray_author_separator"),
                ("several_title_lines", "title_on_several_lines"),
                ("several_abstract_paragraphs", "abstract_on_several_paragraphs"),
            )
        ),
    )
    mentions = names.join(papers.select("page", "block", "paper_index"), on=["page", "block"])
    return papers, mentions, refused


def _abstracts(paragraphs: pl.DataFrame) -> pl.DataFrame:
    """(page, block, abstract, several_abstract_paragraphs) of the abstract paragraphs, in
    page order: each paragraph's lines joined by spaces, the paragraphs of a block by line
    ends. Most blocks have one: only the blocks with several are grouped (a group over every
    block took three quarters of this)."""
    rows = paragraphs.select(
        "page", "block", abstract=pl.col("texts").list.join(" "), key=_block_key()
    )
    # A block's paragraphs are consecutive rows.
    several = (pl.col("key") == pl.col("key").shift(1)) | (pl.col("key") == pl.col("key").shift(-1))
    rows = rows.with_columns(several_abstract_paragraphs=several.fill_null(False)).drop("key")
    joined = (
        rows.filter("several_abstract_paragraphs")
        .group_by("page", "block", maintain_order=True)
        .agg(pl.col("abstract").str.join("\n"), several_abstract_paragraphs=pl.lit(True))
    )
    return pl.concat([rows.filter(~pl.col("several_abstract_paragraphs")), joined])


def _block_key() -> pl.Expr:
    """A block's page and number as one integer (a filter on it reads one column)."""
    return (pl.col("page").cast(pl.Int64) * 2**32 + pl.col("block")).alias("block_key")


def _compact_splits(heads: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`profile_page._split_compact(line, "certain")` of each block's last title line, where
    that line has one wide space (a tab or two spaces) and the cut there is the reader's
    only candidate: the blocks that split (as `_author_lines` gives them, with
    `compact_title`, the title with the lines above it) and their listed names.

    A line with two wide spaces, or whose one cut the reader would not take, is left out:
    its page is read line by line."""
    last = pl.col("title_lines").list.last()
    lines = heads.filter(
        (last.str.count_matches(_WIDE_SPACE) == 1) & (last.str.len_chars() <= _COMPACT_LINE_CHARS)
    )
    parts = (
        lines.select(
            "page",
            "block",
            "title_lines",
            cut=last.str.extract_groups(f"^(.*?)(?:{_WIDE_SPACE})(.*)$"),
        )
        .unnest("cut")
        .with_columns(title_part=pl.col("1").str.strip_chars(), alone=pl.col("2"))
    )
    lines = parts.filter(
        (pl.col("title_part") != "") & (pl.col("alone").str.len_chars() <= _COMPACT_AUTHORS_CHARS)
    ).select(
        "page",
        "block",
        "alone",
        compact_title=pl.concat_list(
            pl.col("title_lines").list.head(pl.col("title_lines").list.len() - 1), "title_part"
        ).list.join(" "),
    )
    authors, names = _author_lines(lines.select("page", "block", "alone"))
    first_words = names.filter(pl.col("position") == 1).select(
        "page", "block", first_words=pl.col("name").str.count_matches(" ") + 1
    )
    # A certain cut needs a list, `et al.`, an affiliation, or at least a full name.
    plausible = (
        authors.join(first_words, on=["page", "block"])
        .filter(
            (pl.col("n_authors_listed") > 1)
            | pl.col("authors_truncated")
            | pl.col("affiliation").is_not_null()
            | (pl.col("first_words") > 1)
        )
        .join(lines.select("page", "block", "compact_title"), on=["page", "block"])
        .drop("first_words")
    )
    return plausible, names.join(plausible, on=["page", "block"], how="semi")


def _author_lines(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`profile_page._parse_author_line` (strict) of each `alone` line: one row per line that
    is an author line (n_authors_listed, authors_truncated, affiliation, stray_separator),
    and one per listed name (page, block, position, name)."""
    # Cut at the first whitespace before a middle dot: marked there by a control character
    # (a page in the usual layout holds none, `_usual_text`), then split there, which is half
    # the time of extracting both sides with a lazy pattern.
    # (Each step its own `with_columns`: an eager expression computes a shared part anew at
    # every use, and the cut is the costly part.)
    line = pl.col("alone")
    cut = line.str.replace(r"\s·", _CUT, n=1).str.split_exact(_CUT, 1)
    parsed = (
        lines.filter(line.str.len_chars() <= MAX_AUTHOR_LINE_CHARS)
        .with_columns(cut=cut)
        .with_columns(
            names_part=pl.col("cut").struct.field("field_0").str.strip_chars(),
            affiliation=pl.col("cut").struct.field("field_1").str.strip_chars(),
        )
        .with_columns(affiliation=pl.when(pl.col("affiliation") != "").then("affiliation"))
        .drop("cut")
    )
    parsed = parsed.filter(
        pl.col("affiliation").is_null()
        | (pl.col("affiliation").str.len_chars() <= _MAX_AFFILIATION_CHARS)
    )
    names_part = pl.col("names_part")
    parsed = (
        parsed.with_columns(authors_truncated=names_part.str.contains(_ET_AL))
        .with_columns(
            names_part=pl.when("authors_truncated")
            .then(names_part.str.replace(_ET_AL, "$1").str.strip_chars_end(", \t"))
            .otherwise(names_part)
        )
        .filter(~pl.col("names_part").str.contains(_NOT_IN_NAMES_OR_UNSURE))
    )
    raw_names = pl.col("names_part").str.replace_all(";", ",", literal=True).str.split(",")
    parsed = parsed.with_columns(raw=raw_names).with_columns(
        n_raw=pl.col("raw").list.len(), line_id=pl.int_range(pl.len())
    )
    names = (
        parsed.select("line_id", "page", "block", name="raw")
        .explode("name")
        # A run of spaces and tabs as one space: only runs of two or more, and tabs, are
        # replaced (a pattern that matched every space took twice the time).
        .with_columns(pl.col("name").str.replace_all(r"[ \t]{2,}|\t", " ").str.strip_chars(" "))
        .filter(pl.col("name") != "")
        .with_columns(
            position=_running(
                pl.col("name").is_not_null().cast(pl.Int32),
                pl.col("line_id") != pl.col("line_id").shift(1).fill_null(-1),
            )
        )
    )
    bad_lines = names.filter(~_strict_names(names))["line_id"].unique()
    counted = names.group_by("line_id").agg(n_authors_listed=pl.len().cast(pl.Int32))
    authors = (
        parsed.join(counted, on="line_id")
        .filter(~pl.col("line_id").is_in(bad_lines.implode()))
        .select(
            "page",
            "block",
            "n_authors_listed",
            "authors_truncated",
            "affiliation",
            stray_separator=pl.col("n_authors_listed") != pl.col("n_raw"),
        )
    )
    names = names.filter(~pl.col("line_id").is_in(bad_lines.implode())).select(
        "page", "block", "position", "name"
    )
    return authors, names


def _strict_names(names: pl.DataFrame) -> pl.Series:
    """Which of the `name`s (words separated by single spaces) `profile_page._is_name`
    takes: a loose name of at most six words, each capitalised unless it is a particle."""
    name = pl.col("name")
    n_words = name.str.count_matches(" ") + 1
    ends_sentence = name.str.contains(r"[.!?]$") & ~name.str.contains(_INITIAL_OR_SUFFIX)
    shaped = (
        (name.str.len_chars() <= _MAX_NAME_CHARS) & (n_words <= _MAX_NAME_WORDS) & ~ends_sentence
    )
    # A word that starts in lower case must be a particle (van, de), case and dots aside;
    # few names have one, so only their words are looked at.
    numbered = names.select(shaped=shaped, lower=name.str.extract_all(r"(?:^| )\p{Lowercase}[^ ]*"))
    numbered = numbered.with_row_index("row")
    lower = (
        numbered.filter(pl.col("lower").list.len() > 0).select("row", word="lower").explode("word")
    )
    not_particle = lower.filter(
        ~pl.col("word")
        .str.strip_chars(" ")
        .str.to_lowercase()
        .str.strip_chars(".'")
        .str.contains(_PARTICLE)
    )["row"]
    return numbered.select(pl.col("shaped") & ~pl.col("row").is_in(not_particle.implode()))[
        "shaped"
    ]


def _empty() -> dict[str, pl.DataFrame]:
    return {name: pl.DataFrame(schema=schema) for name, schema in SCHEMAS.items()}
