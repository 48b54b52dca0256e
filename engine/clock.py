"""Time as the engine stores it: naive UTC datetimes, the same on SQLite and PostgreSQL.

This is the engine's one clock: timers fire when it says they are due (not when
SpiffWorkflow's own reading of the wall clock does), so that tests and demos can move time
forward with ``travel`` instead of sleeping through a publicity period.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_shift = {"offset": timedelta(0)}


def now() -> datetime:
    """The current time in UTC, without tzinfo (shifted by ``travel``)."""
    return datetime.now(UTC).replace(tzinfo=None) + _shift["offset"]


def travel(delta: timedelta) -> None:
    """Move this process's clock forward by ``delta`` (tests and demos only)."""
    _shift["offset"] += delta


def reset() -> None:
    """Undo every ``travel``."""
    _shift["offset"] = timedelta(0)


def to_naive_utc(value: datetime) -> datetime:
    """Convert an aware datetime to the stored form; a naive one is taken as UTC already."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)
