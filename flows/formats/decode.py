"""Bytes to lines: the encodings and line ends raw dumps arrive in.

UTF-8 with or without a byte-order mark and UTF-16 with one are accepted; LF, CRLF and CR
line ends all split lines. Anything else is quarantined with a reason that says what is wrong
with the bytes, never a bare decoding exception.
"""

from __future__ import annotations

import codecs
import re
from typing import Final

from flows.formats.records import Quarantine

_LINE_END: Final = re.compile(r"\r\n|\r|\n")
# Control characters that never occur in text dumps; tab, LF and CR are ordinary.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_text(data: bytes) -> str:
    """Decode a raw dump to text, or raise Quarantine saying why it is not text."""
    if not data:
        raise Quarantine("empty file (0 bytes)")
    if data.startswith(codecs.BOM_UTF8):
        text = _decode(data[len(codecs.BOM_UTF8) :], "utf-8", "UTF-8 after a UTF-8 BOM")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode(data, "utf-16", "UTF-16 after a UTF-16 BOM")
    else:
        if b"\x00" in data[:8192]:
            raise Quarantine("binary content: NUL bytes in the first 8 KiB (no UTF-16 BOM)")
        text = _decode(data, "utf-8", "UTF-8")
    if not text.strip():
        raise Quarantine("no content: the file holds only whitespace")
    control = _CONTROL.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        raise Quarantine(
            f"binary content: control character U+{ord(control.group()):04X} on line {line}"
        )
    return text


def split_lines(text: str) -> list[str]:
    """Split on LF, CRLF or CR (not on the other Unicode separators str.splitlines knows)."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _decode(data: bytes, encoding: str, described: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        where = error.start + (3 if described.startswith("UTF-8 after") else 0)
        raise Quarantine(
            f"not valid {described}: {error.reason} at byte {where}"
            + (" (truncated at end of file)" if error.end >= len(data) else "")
        ) from None
