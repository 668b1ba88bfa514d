"""A corpus of bad inputs for the landing zone: one named class per way a raw file goes wrong.

Every class writes its files under `bad/<class>/` of a landing zone and states what the
ingest must make of them: `loaded`, `duplicate` or `quarantined` (with a reason that says
what is wrong), or `any` where the outcome depends on the machine (a file without read
permission is readable by root). Text classes start from a synthetic profile page cut from
the real sample (`pages.page`), each with its own owner and titles, so that no class can
change the facts of the real sample.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from flows.formats import MAX_FILE_BYTES
from flows.formats.profile_page import MAX_LINE_CHARS
from tests.conftest import SAMPLE
from tests.reliability.pages import owner_name, page

BAD: Final = "bad"
_META_CATEGORY: Final = re.compile(
    r"(?P<cat>[A-Z][A-Z-]*?)(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
)
_CITATIONS_LINE: Final = re.compile(r"^[0-9,]+citations$", re.M)
# Each class with a page of its own: the owner and titles differ from every other class.
_FIRST_PAGE: Final = 5000


@dataclass(frozen=True)
class Expect:
    """What the ledger must say about every file of a class."""

    status: str  # loaded, duplicate, quarantined, any
    reason: str | None = None  # a lower-case fragment the quarantine reason must contain
    # Papers a loaded file yields: this many times those of the class's clean page, or
    # exactly `papers` (None: not checked).
    page_papers: int = 0
    papers: int | None = None
    failure: str | None = None  # a lower-case fragment of one of the file's ingest_failure reasons


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    expect: Expect
    write: Callable[[Path, Path], None]  # (class folder, folder outside the landing zone)


def text_of(number: int) -> str:
    return page(_FIRST_PAGE + number)


def owner_of(name: str) -> str:
    """The profile owner of a class's page."""
    return owner_name(_FIRST_PAGE + _NUMBERS[name])


def clean_text_of(name: str) -> str:
    """A class's page before the class's damage."""
    return text_of(_NUMBERS[name])


def _put(folder: Path, name: str, data: bytes | str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    (folder / name).write_bytes(raw)


def _text_case(
    number: int, what: str, expect: Expect, mutate: Callable[[str], bytes | str]
) -> Callable[[Path, Path], None]:
    def write(folder: Path, outside: Path) -> None:
        _put(folder, "page.txt", mutate(text_of(number)))

    return write


def _header_line(text: str, prefix: str, replacement: str) -> str:
    lines = text.split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    lines[index] = replacement
    return "\n".join(lines)


def _first_block(text: str) -> tuple[str, str, str]:
    """(text before the first block's meta line, the meta line, the rest)."""
    head, _, body = text.partition(" Papers\n\n")
    meta, _, rest = body.partition("\n")
    return head + " Papers\n\n", meta, rest


def _with_title(text: str, title: str) -> str:
    head, meta, rest = _first_block(text)
    _, _, after_title = rest.partition("\n")
    return f"{head}{meta}\n{title}\n{after_title}"


def _with_date(text: str, date: str) -> str:
    head, meta, rest = _first_block(text)
    category = _META_CATEGORY.match(meta)
    assert category is not None, meta
    return f"{head}{category['cat']}{date}\n{rest}"


def _with_citations(text: str, line: str) -> str:
    return _CITATIONS_LINE.sub(line, text, count=1)


def _with_abstract(text: str, abstract: str) -> str:
    head, meta, rest = _first_block(text)
    title, _, after = rest.partition("\n\n")
    authors, _, after_authors = after.partition("\n\n")
    _, _, later_blocks = after_authors.partition("\n\n")
    return f"{head}{meta}\n{title}\n\n{authors}\n\n{abstract}\n\n{later_blocks}"


def _with_authors(text: str, authors: str) -> str:
    head, meta, rest = _first_block(text)
    title, _, after = rest.partition("\n\n")
    _, _, after_authors = after.partition("\n\n")
    return f"{head}{meta}\n{title}\n\n{authors}\n\n{after_authors}"


def _mixed_line_ends(text: str) -> str:
    ends = ("\n", "\r\n", "\r")
    return "".join(line + ends[i % 3] for i, line in enumerate(text.split("\n")))


def _still_being_written(text: str) -> bytes:
    data = text.encode("utf-8")
    return data[: int(len(data) * 0.45)]


def still_being_written_rest(raw_dir: Path) -> None:
    """Finish writing the file of the `still_being_written` class (as a scraper would)."""
    number = _NUMBERS["still_being_written"]
    full = text_of(number).encode("utf-8")
    target = raw_dir / BAD / "still_being_written" / "page.txt"
    written = target.read_bytes()
    with target.open("ab") as handle:
        handle.write(full[len(written) :])


def _openalex_work(number: int, title: str, **extra: object) -> dict[str, object]:
    return {
        "id": f"https://openalex.org/W{900000 + number}",
        "title": title,
        "publication_year": 2021,
        "publication_date": "2021-03-04",
        "cited_by_count": 3 + number,
        "authorships": [
            {
                "author": {
                    "id": f"https://openalex.org/A{800000 + number}",
                    "display_name": "Ola Nordmann",
                }
            }
        ],
        **extra,
    }


def _write_symlink_inside(folder: Path, outside: Path) -> None:
    # To the real sample, two folders up: a file the landing zone holds anyway.
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "link.txt").symlink_to(Path("..", "..", SAMPLE.parent.name, SAMPLE.name))


def _write_symlink_outside(folder: Path, outside: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret_page.txt"
    secret.write_text(text_of(_NUMBERS["symlink_to_file_outside"]), encoding="utf-8")
    (folder / "link.txt").symlink_to(secret)


def _write_folder_link_inside(folder: Path, outside: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dated").symlink_to(Path("..", "..", SAMPLE.parent.name), target_is_directory=True)


def _write_folder_link_outside(folder: Path, outside: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (outside / "folder").mkdir(parents=True, exist_ok=True)
    page_text = text_of(_NUMBERS["symlink_to_folder_outside"])
    (outside / "folder" / "page.txt").write_text(page_text, encoding="utf-8")
    (folder / "elsewhere").symlink_to(outside / "folder", target_is_directory=True)


def _write_sparse(folder: Path, outside: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "huge.txt").open("wb") as handle:
        handle.write(b"Someone\n\nh-index1\n")
        handle.truncate(MAX_FILE_BYTES + 4096)


def _write_zero_permission(folder: Path, outside: Path) -> None:
    _put(folder, "page.txt", text_of(_NUMBERS["zero_permission"]))
    (folder / "page.txt").chmod(0)


def _write_fifo(folder: Path, outside: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "pipe.txt")


def _write_directory_like_file(folder: Path, outside: Path) -> None:
    (folder / "empty.json").mkdir(parents=True)
    _put(folder / "dump.txt", "page.txt", text_of(_NUMBERS["directory_named_like_file"]))


def _named(file_name: str, number_of: str) -> Callable[[Path, Path], None]:
    def write(folder: Path, outside: Path) -> None:
        _put(folder, file_name, text_of(_NUMBERS[number_of]))

    return write


def _write_invalid_utf8_name(folder: Path, outside: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = os.fsencode(folder) + b"/caf\xe9 \xff.txt"  # Latin-1 bytes: not UTF-8
    with open(name, "wb") as handle:  # noqa: PTH123  (a bytes path: pathlib cannot hold it)
        handle.write(text_of(_NUMBERS["file_name_invalid_utf8"]).encode())


def shown_name(path: str) -> str:
    """A path as the ledger shows it: bytes that are not UTF-8 as \\x escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _binary(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


_TEXT_CLASSES: Final[list[tuple[str, str, Expect, Callable[[str], bytes | str]]]] = [
    ("empty", "0 bytes", Expect("quarantined", "empty"), lambda t: b""),
    ("whitespace_only", "blanks, tabs and line ends", Expect("quarantined", "whitespace"),
     lambda t: " \n\t\r\n   \n"),
    ("bom_only", "a UTF-8 byte-order mark and nothing else", Expect("quarantined", "whitespace"),
     lambda t: codecs.BOM_UTF8),
    ("binary_random", "4 KiB of random bytes", Expect("quarantined"),
     lambda t: _binary(1, 4096)),
    ("nul_bytes", "a page with NUL bytes inside", Expect("quarantined", "nul"),
     lambda t: t[:200].encode() + b"\x00\x00" + t[200:].encode()),
    ("control_characters", "a page with a terminal escape sequence",
     Expect("quarantined", "control character"),
     lambda t: t.replace("h-index", "\x1b[31mh-index", 1)),
    ("invalid_utf8", "a stray continuation byte mid-page", Expect("quarantined", "not valid utf-8"),
     lambda t: t[:300].encode() + b"\xc3\x28" + t[300:].encode()),
    ("truncated_utf8", "the last character cut inside its bytes",
     Expect("quarantined", "truncated"), lambda t: (t + "é").encode()[:-1]),
    ("overlong_utf8", "an overlong encoding of '/'", Expect("quarantined", "not valid utf-8"),
     lambda t: t[:300].encode() + b"\xc0\xaf" + t[300:].encode()),
    ("surrogate_utf8", "an encoded UTF-16 surrogate (CESU-8)",
     Expect("quarantined", "not valid utf-8"),
     lambda t: t[:300].encode() + b"\xed\xa0\x80" + t[300:].encode()),
    ("latin1_text", "a page saved as Latin-1", Expect("quarantined", "not valid utf-8"),
     lambda t: t.replace("Papers", "Papérs", 1).encode("latin-1", errors="replace")),
    ("utf16_le_bom", "UTF-16 LE with its byte-order mark", Expect("loaded", page_papers=1),
     lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le")),
    ("utf16_be_bom", "UTF-16 BE with its byte-order mark", Expect("loaded", page_papers=1),
     lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be")),
    ("utf16_without_bom", "UTF-16 LE without a byte-order mark",
     Expect("quarantined", "byte-order mark"), lambda t: t.encode("utf-16-le")),
    ("utf32_bom", "UTF-32 with its byte-order mark", Expect("quarantined", "utf-32"),
     lambda t: t.encode("utf-32")),
    ("utf8_bom", "UTF-8 with a byte-order mark", Expect("loaded", page_papers=1),
     lambda t: codecs.BOM_UTF8 + t.encode()),
    ("mixed_line_ends", "LF, CRLF and CR in one page", Expect("loaded", page_papers=1),
     _mixed_line_ends),
    ("huge_single_line", "20 MB on one line", Expect("quarantined", "characters long"),
     lambda t: b"x" * (20 * 1024 * 1024)),
    ("line_over_limit", f"a title of {MAX_LINE_CHARS + 1:,} characters",
     Expect("quarantined", "characters long"),
     lambda t: _with_title(t, "T" * (MAX_LINE_CHARS + 1))),
    ("still_being_written", "cut mid-block while the scraper writes it (completed later)",
     Expect("loaded"), _still_being_written),
    ("header_malformed", "h-index without a number", Expect("loaded", page_papers=1, failure="malformed"),
     lambda t: _header_line(t, "h-index", "h-indexsixteen")),
    ("header_repeated", "the h-index line twice", Expect("loaded", page_papers=1, failure="repeated"),
     lambda t: t.replace("h-index16\n", "h-index16\nh-index17\n", 1)),
    ("header_out_of_order", "header lines in reverse order", Expect("loaded", page_papers=1),
     lambda t: t.replace("h-index16\n", "", 1).replace("AI Score49\n", "AI Score49\nh-index16\n", 1)),
    ("header_missing", "no header lines at all, name then papers", Expect("loaded", page_papers=1),
     lambda t: t.split("\n", 1)[0] + "\n\n" + t.partition(" Papers\n\n")[2]),
    ("number_dot_separator", "1.248citations", Expect("loaded", page_papers=1, failure="citations"),
     lambda t: _with_citations(t, "1.248citations")),
    ("number_space_separator", "1 248citations", Expect("loaded", page_papers=1, failure="citations"),
     lambda t: _with_citations(t, "1 248citations")),
    ("number_arabic_indic_digits", "h-index١٦", Expect("loaded", page_papers=1, failure="non-ascii"),
     lambda t: _header_line(t, "h-index", "h-index١٦")),
    ("number_too_many_digits", "h-index of 30 digits", Expect("loaded", page_papers=1, failure="h-index"),
     lambda t: _header_line(t, "h-index", "h-index" + "9" * 30)),
    ("impossible_date", "Feb 30, 2023", Expect("loaded", page_papers=1),
     lambda t: _with_date(t, "Feb 30, 2023")),
    ("future_date", "Dec 31, 2099", Expect("loaded", page_papers=1),
     lambda t: _with_date(t, "Dec 31, 2099")),
    ("abstract_like_meta_line", "an abstract that reads 'IRMay 29'", Expect("loaded", page_papers=1),
     lambda t: _with_abstract(t, "IRMay 29")),
    ("abstract_like_header_line", "an abstract that reads 'h-index16'", Expect("loaded", page_papers=1),
     lambda t: _with_abstract(t, "h-index16")),
    ("author_stray_separators", "'A, , B,, C et al.'", Expect("loaded", page_papers=1),
     lambda t: _with_authors(t, "Ann Lee, , Bo Chen,, Cara Diaz et al.")),
    ("cjk", "CJK owner name and title", Expect("loaded", page_papers=1),
     lambda t: _with_title(t.replace(t.split("\n", 1)[0], "李雅欣", 1), "深度学习中的图神经网络研究")),
    ("right_to_left", "Arabic and Hebrew names and title", Expect("loaded", page_papers=1),
     lambda t: _with_authors(_with_title(t, "تعلم الآلة العميق לימוד מכונה"), "محمد علي, דוד כהן")),
    ("zero_width", "zero-width spaces and joiners in names and title", Expect("loaded", page_papers=1),
     lambda t: _with_authors(_with_title(t, "Zero\u200bWidth\u200dTitle\ufeff Inside"), "Ze\u200bro Width, Jo\u200dined Name")),
    ("latex_title", "LaTeX in the title", Expect("loaded", page_papers=1),
     lambda t: _with_title(t, r"On $\mathcal{O}(n^{2})$ Bounds for \textbf{Sparse} Attention")),
    ("html_title", "HTML and script in the title", Expect("loaded", page_papers=1),
     lambda t: _with_title(t, "<b>Bold</b> <script>alert('x')</script> &amp; Friends")),
    ("sql_title", "SQL in the title", Expect("loaded", page_papers=1),
     lambda t: _with_title(t, "Robert'); drop table paper; -- and Friends")),
    ("duplicated_blocks", "every paper block twice", Expect("loaded", page_papers=2),
     lambda t: t + "\n\n" + t.partition(" Papers\n\n")[2]),
    ("truncated_last_block", "the file ends right after a meta line",
     Expect("loaded", page_papers=1, failure="meta line without a title"),
     lambda t: t + "\n\nCVJan 3, 2021"),
    ("heading_count_mismatch", "'99 Papers' above fewer blocks", Expect("loaded", page_papers=1),
     lambda t: t.replace(" Papers\n", "", 1).replace("\n\n", "\n\n99 Papers\n\n", 2)),
    ("prose_notes", "plain prose, no profile", Expect("quarantined", "not a profile page"),
     lambda t: "Meeting notes\n\nWe talked about the pipeline.\nNothing else.\n"),
    ("json_broken", "JSON cut off mid-object", Expect("quarantined", "invalid json"),
     lambda t: '{"id": "https://openalex.org/W1", "title": "Cut'),
    ("json_other_shape", "valid JSON of an unknown shape", Expect("quarantined", "not a recognised"),
     lambda t: json.dumps({"kind": "weather", "items": [1, 2, 3]})),
    ("json_scalar", "a JSON string at the top", Expect("quarantined", "not a profile page"),
     lambda t: '"just a string"'),
    ("json_empty_array", "[]", Expect("quarantined", "empty array"), lambda t: "[]"),
    ("jsonl_bad_line", "JSON Lines of OpenAlex works with one broken line",
     Expect("loaded", papers=2, failure="invalid json"),
     lambda t: "\n".join([
         json.dumps(_openalex_work(1, "Lines Work One")),
         '{"id": "https://openalex.org/W9", "title": ',
         json.dumps(_openalex_work(2, "Lines Work Two")),
     ]) + "\n"),
    ("json_huge_integer", "a citation count of 5,000 digits", Expect("quarantined", "cannot be read"),
     lambda t: '{"id": "https://openalex.org/W77", "title": "Big", "cited_by_count": '
     + "9" * 5000 + "}"),
    ("json_number_overflowing_int64", "a citation count of 30 digits (fits Python, not Int64)",
     Expect("loaded", papers=1),
     lambda t: json.dumps(_openalex_work(3, "Overflowing Count", cited_by_count=10**30))),
    ("json_huge_float", "a citation count of 1e999 (infinity)", Expect("loaded", papers=1),
     lambda t: json.dumps(_openalex_work(4, "Infinite Count")).replace('"cited_by_count": 7', '"cited_by_count": 1e999')),
    ("json_nan", "NaN where a number belongs", Expect("loaded", papers=1),
     lambda t: json.dumps(_openalex_work(5, "NaN Count")).replace('"cited_by_count": 8', '"cited_by_count": NaN')),
    ("json_deeply_nested", "arrays nested 100,000 deep", Expect("quarantined"),
     lambda t: _deep_json(100_000)),
    ("csv_file", "a CSV table", Expect("quarantined", "not a profile page"),
     lambda t: "title,year,citations\nA Paper,2021,3\nAnother,2022,5\n"),
    ("html_page", "a saved HTML page", Expect("quarantined"),
     lambda t: "<!doctype html>\n<html><head><title>Profile</title></head>\n<body><p>Yaxin Li</p></body></html>\n"),
    ("gzip_file", "the sample, gzip-compressed", Expect("quarantined"),
     lambda t: gzip.compress(SAMPLE.read_bytes(), mtime=0)),
    ("pdf_header", "a PDF file's start", Expect("quarantined"),
     lambda t: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + _binary(2, 512)),
]  # fmt: skip

_FILE_CLASSES: Final[list[tuple[str, str, Expect, Callable[[Path, Path], None]]]] = [
    ("directory_named_like_file", "folders named dump.txt and empty.json",
     Expect("loaded", page_papers=1), _write_directory_like_file),
    ("file_name_quotes_semicolons_spaces", "a name with quotes, semicolons and spaces",
     Expect("loaded", page_papers=1), _named("it's a \"page\"; drop table paper; --.txt", "file_name_quotes_semicolons_spaces")),
    ("file_name_newline", "a name with a line break", Expect("loaded", page_papers=1),
     _named("two\nlines.txt", "file_name_newline")),
    ("file_name_unicode", "a name in Japanese with accents", Expect("loaded", page_papers=1),
     _named("プロフィール ñandú.txt", "file_name_unicode")),
    ("file_name_invalid_utf8", "a name in Latin-1 bytes, not UTF-8",
     Expect("quarantined", "file name is not valid utf-8"), _write_invalid_utf8_name),
    ("symlink_to_file_inside", "a link to a page inside the landing zone",
     Expect("quarantined", "symbolic link: not followed"), _write_symlink_inside),
    ("symlink_to_file_outside", "a link to a page outside the landing zone",
     Expect("quarantined", "symbolic link: not followed"), _write_symlink_outside),
    ("symlink_to_folder_inside", "a link to a dated folder of the landing zone",
     Expect("quarantined", "symbolic link: not followed"), _write_folder_link_inside),
    ("symlink_to_folder_outside", "a link to a folder of pages outside the landing zone",
     Expect("quarantined", "symbolic link: not followed"), _write_folder_link_outside),
    ("oversize_sparse", f"a sparse file over {MAX_FILE_BYTES:,} bytes",
     Expect("quarantined", "limit"), _write_sparse),
    ("zero_permission", "chmod 000 (root may still read it)", Expect("any"),
     _write_zero_permission),
    ("named_pipe", "a FIFO named like a dump", Expect("quarantined", "not a regular file"),
     _write_fifo),
    ("copy_of_sample", "the real sample, byte for byte", Expect("duplicate", "same content as"),
     lambda folder, outside: _put(folder, "copy.txt", SAMPLE.read_bytes())),
]  # fmt: skip

_NUMBERS: Final = {
    name: number for number, (name, *_) in enumerate([*_TEXT_CLASSES, *_FILE_CLASSES])
}


def cases() -> list[Case]:
    """Every class of the corpus, in a stable order."""
    found = [
        Case(name, what, expect, _text_case(_NUMBERS[name], what, expect, mutate))
        for name, what, expect, mutate in _TEXT_CLASSES
    ]
    found += [Case(name, what, expect, write) for name, what, expect, write in _FILE_CLASSES]
    return found


def write_corpus(raw_dir: Path, outside: Path) -> list[Case]:
    """Write every class under `raw_dir/bad/<class>/`; returns the classes."""
    outside.mkdir(parents=True, exist_ok=True)
    written = cases()
    for case in written:
        case.write(raw_dir / BAD / case.name, outside)
    return written


def class_of(path: str) -> str | None:
    """The corpus class of a ledger path (`bad/<class>/...`), None outside the corpus."""
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == BAD else None
