"""Small helpers for reading the query string."""

from __future__ import annotations

MAX_ID = 2**31 - 1


def int_arg(value: str | None) -> int | None:
    """A positive 32-bit integer from a query-string value, else None (never an error)."""
    if value is None or not value.strip().isdigit():
        return None
    number = int(value.strip())
    return number if 0 < number <= MAX_ID else None
