"""Golden files for the profile-page reader, in the style of tomli's test suite.

`fixtures/valid/X.txt` is read and compared with `fixtures/valid/X.json`: the whole
`ParsedFile` as `dataclasses.asdict` gives it (field order, non-ASCII kept, indent 1). Each
expected file was written once by the reader and then checked by hand against the page and
FORMAT.md §1. Every file in `fixtures/invalid/` must be quarantined, for the reason listed in
`INVALID_REASONS`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Final

import pytest

from flows.formats import read_dump
from flows.formats.records import ParsedFile, Quarantine

FIXTURES: Final = Path(__file__).resolve().parents[1] / "fixtures"
VALID: Final = sorted((FIXTURES / "valid").glob("*.txt"))
INVALID: Final = sorted(p for p in (FIXTURES / "invalid").iterdir() if not p.name.startswith("."))

# The same page in every accepted encoding and line end; all must read like the LF original.
SAME_PAGE: Final = (
    "line_ends_crlf.txt",
    "line_ends_cr.txt",
    "encoding_utf8_bom.txt",
    "encoding_utf8_bom_crlf.txt",
    "encoding_utf16le_bom.txt",
    "encoding_utf16be_bom_crlf.txt",
)

INVALID_REASONS: Final = {
    "empty.txt": "empty file (0 bytes)",
    "whitespace_only.txt": "no content: the file holds only whitespace",
    "binary_nul_bytes.bin": "binary content: NUL bytes",
    "control_characters.txt": "binary content: control character U+001B on line 3",
    "invalid_utf8_latin1.txt": "not valid UTF-8: invalid continuation byte at byte 3",
    "truncated_utf8_at_end.txt": "unexpected end of data at byte 233 (truncated at end of file)",
    "utf16le_without_bom.txt": "looks like UTF-16-LE without a byte-order mark",
    "utf32_with_bom.txt": "UTF-32 (byte-order mark at the start) is not a supported encoding",
    "not_a_profile_page.txt": "not a profile page",
    "no_display_name.txt": "profile page without a display name: line 1",
    "no_display_name_category_first.txt": "profile page without a display name: line 1",
    "line_too_long.txt": "line 9 is 100,001 characters long (limit 100,000",
}


def as_golden(parsed: ParsedFile) -> str:
    """The expected-file text for a parsed file: stable key order, UTF-8, indent 1."""
    return json.dumps(dataclasses.asdict(parsed), ensure_ascii=False, indent=1) + "\n"


def read_fixture(path: Path) -> ParsedFile:
    return read_dump(path.read_bytes())


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_page_reads_as_its_golden_json(path: Path):
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert json.loads(as_golden(read_fixture(path))) == expected


def test_every_valid_page_has_a_golden_json_and_no_json_is_orphaned():
    pages = {p.stem for p in VALID}
    goldens = {p.stem for p in (FIXTURES / "valid").glob("*.json")}
    assert pages == goldens


@pytest.mark.parametrize("name", SAME_PAGE)
def test_bom_utf16_crlf_and_cr_variants_read_exactly_like_the_lf_utf8_page(name: str):
    original = read_fixture(FIXTURES / "valid" / "line_ends_lf.txt")
    assert read_fixture(FIXTURES / "valid" / name) == original


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_file_is_quarantined_with_its_specific_reason(path: Path):
    with pytest.raises(Quarantine) as caught:
        read_fixture(path)
    assert INVALID_REASONS[path.name] in caught.value.reason


def test_every_listed_invalid_reason_has_its_fixture():
    assert set(INVALID_REASONS) == {p.name for p in INVALID}
