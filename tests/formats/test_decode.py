"""Bytes to text and lines: accepted encodings and line ends, and the reason for every refusal."""

from __future__ import annotations

import codecs

import pytest

from flows.formats.decode import decode_text, split_lines
from flows.formats.records import Quarantine

TEXT = "José Álvarez\n\nh-index8\n徐琦, Zoë Ødegård · Zürich\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8 bom", "utf-16-le bom", "utf-16-be bom"],
)
def test_accepted_encodings_decode_to_the_same_text_without_a_bom(data: bytes):
    assert decode_text(data) == TEXT


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_lf_crlf_and_cr_split_into_the_same_lines(line_end: str):
    text = TEXT.replace("\n", line_end)
    assert split_lines(text) == ["José Álvarez", "", "h-index8", "徐琦, Zoë Ødegård · Zürich"]


def test_mixed_line_ends_each_end_one_line():
    assert split_lines("a\r\nb\rc\nd") == ["a", "b", "c", "d"]


def test_unicode_line_separators_do_not_split_lines():
    assert split_lines("a\u2028b\x85c\n") == ["a\u2028b\x85c"]


def test_only_one_final_line_end_is_dropped():
    assert split_lines("a\n\n") == ["a", ""]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file (0 bytes)"),
        (b" \r\n\t\n", "no content: the file holds only whitespace"),
        (codecs.BOM_UTF8, "no content: the file holds only whitespace"),
        (b"abc\x00def", "binary content: NUL bytes in the first 8 KiB (no UTF-16 BOM)"),
        (b"a" * 9000 + b"\n\x00", "binary content: control character U+0000 on line 2"),
        (b"a\rb\r\x1b[0m", "binary content: control character U+001B on line 3"),
        (b"Jos\xe9 Mu\xf1oz", "not valid UTF-8: invalid continuation byte at byte 3"),
        (b"name\xff", "not valid UTF-8: invalid start byte at byte 4"),
        (b"Zo\xc3", "not valid UTF-8: unexpected end of data at byte 2 (truncated at end of file)"),
        (
            codecs.BOM_UTF8 + b"ok\xe2\x82",
            "not valid UTF-8 after a UTF-8 BOM: unexpected end of data at byte 5 "
            "(truncated at end of file)",
        ),
        (
            codecs.BOM_UTF16_LE + "ok".encode("utf-16-le") + b"o",
            "not valid UTF-16 after a UTF-16 BOM: truncated data at byte 6 "
            "(truncated at end of file)",
        ),
        ("h-index8\n".encode("utf-16-le"), "looks like UTF-16-LE without a byte-order mark"),
        ("h-index8\n".encode("utf-16-be"), "looks like UTF-16-BE without a byte-order mark"),
        ("h-index8\n".encode("utf-32"), "UTF-32 (byte-order mark at the start) is not a supported"),
    ],
)
def test_unreadable_bytes_are_quarantined_with_a_specific_reason(data: bytes, reason: str):
    with pytest.raises(Quarantine) as caught:
        decode_text(data)
    assert caught.value.reason.startswith(reason)


def test_an_invalid_last_byte_is_not_called_truncated():
    with pytest.raises(Quarantine) as caught:
        decode_text(b"Li\xff")
    assert "truncated" not in caught.value.reason
