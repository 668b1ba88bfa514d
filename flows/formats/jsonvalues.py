"""Reading single values out of API JSON: counts, texts and timestamps, never invented."""

from __future__ import annotations

from datetime import UTC, datetime


def count(value: object) -> int | None:
    """An integer count as stated; None for anything else (bool is an int, `true` no count)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def text(value: object) -> str | None:
    """A non-blank string, stripped; None otherwise."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def timestamp(value: object) -> datetime | None:
    """An ISO timestamp as naive UTC (sources write "2025-09-21T07:40:09.928040")."""
    stated = text(value)
    if stated is None:
        return None
    try:
        stamp = datetime.fromisoformat(stated)
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp
