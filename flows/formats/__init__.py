"""Raw-format readers: detect a dump's format from its content and read it into records."""

from __future__ import annotations

from typing import Final

from flows.formats.decode import decode_text
from flows.formats.profile_page import looks_like_profile_page, read_profile_page
from flows.formats.records import ParsedFile, Quarantine

MAX_FILE_BYTES: Final = 64 * 1024 * 1024


def read_dump(data: bytes) -> ParsedFile:
    """Read one raw file's bytes as whichever format its content shows.

    Raises Quarantine, with a specific reason, for a file that is no known format.
    """
    if len(data) > MAX_FILE_BYTES:
        raise Quarantine(f"file is {len(data):,} bytes (limit {MAX_FILE_BYTES:,})")
    text = decode_text(data)
    if text.lstrip()[:1] in ("{", "["):
        from flows.formats.jsondump import read_json_dump

        try:
            return read_json_dump(text)
        except Quarantine:
            # A profile page whose display name starts with a bracket is still a page.
            if not looks_like_profile_page(text):
                raise
    return read_profile_page(text)
