"""Bytes to lines: the encodings and line ends raw dumps arrive in.

UTF-8 with or without a byte-order mark and UTF-16 with one are accepted; LF, CRLF and CR
line ends all split lines. Anything else is quarantined with a reason that says what is wrong
with the bytes (empty, binary, UTF-16 without a byte-order mark, UTF-32, invalid or truncated
UTF-8), never a bare decoding exception.
"""

from __future__ import annotations

import codecs
import re
from typing import Final

from flows.formats.records import Quarantine

_LINE_END: Final = re.compile(r"\r\n|\r|\n")
# Control characters that never occur in text dumps; tab, LF and CR are ordinary.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SNIFF_BYTES: Final = 8192
# Python's reasons for input that stops inside a character (UTF-8, UTF-16).
_TRUNCATED: Final = ("unexpected end of data", "truncated data")


def decode_text(data: bytes) -> str:
    """Decode a raw dump to text, or raise Quarantine saying why it is not text."""
    if not data:
        raise Quarantine("empty file (0 bytes)")
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        # Checked before UTF-16: the UTF-32-LE mark starts with the UTF-16-LE one.
        raise Quarantine("UTF-32 (byte-order mark at the start) is not a supported encoding")
    if data.startswith(codecs.BOM_UTF8):
        text = _decode(data[len(codecs.BOM_UTF8) :], "utf-8", "UTF-8 after a UTF-8 BOM")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode(data, "utf-16", "UTF-16 after a UTF-16 BOM")
    else:
        _reject_nul_bytes(data[:_SNIFF_BYTES])
        text = _decode(data, "utf-8", "UTF-8")
    if not text.strip():
        raise Quarantine("no content: the file holds only whitespace")
    control = _CONTROL.search(text)
    if control:
        line = len(_LINE_END.findall(text, 0, control.start())) + 1
        raise Quarantine(
            f"binary content: control character U+{ord(control.group()):04X} on line {line}"
        )
    return text


def split_lines(text: str) -> list[str]:
    """Split on LF, CRLF or CR (not on the other Unicode separators str.splitlines knows)."""
    # Most dumps end lines with LF only: str.split is several times faster than the pattern.
    lines = text.split("\n") if "\r" not in text else _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _reject_nul_bytes(head: bytes) -> None:
    """Quarantine a file whose first bytes hold NULs: UTF-16 without its mark, or binary."""
    if b"\x00" not in head:
        return
    order = _bomless_utf16_order(head)
    if order is not None:
        raise Quarantine(
            f"looks like UTF-16-{order} without a byte-order mark (NUL in every other byte); "
            "only UTF-16 with a byte-order mark is supported"
        )
    raise Quarantine(
        f"binary content: NUL bytes in the first {_SNIFF_BYTES // 1024} KiB (no UTF-16 BOM)"
    )


def _bomless_utf16_order(head: bytes) -> str | None:
    """'LE' or 'BE' when NULs sit in one byte of each pair: Latin text in UTF-16."""
    even, odd = head[0::2], head[1::2]
    for order, zeros, text in (("LE", odd, even), ("BE", even, odd)):
        if zeros and zeros.count(0) >= len(zeros) / 2 and text.count(0) <= len(text) / 20:
            return order
    return None


def _decode(data: bytes, encoding: str, described: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        where = error.start + (3 if described.startswith("UTF-8 after") else 0)
        truncated = error.reason in _TRUNCATED and error.end >= len(data)
        raise Quarantine(
            f"not valid {described}: {error.reason} at byte {where}"
            + (" (truncated at end of file)" if truncated else "")
        ) from None
