"""Periodic starts: the monthly sampling (R-SUP-2) on ``CQPI_SAMPLING_DAY`` of each month
(default the 1st; 0 turns the automatic start off)."""

from __future__ import annotations

from datetime import UTC

from flask import current_app

import engine
from engine.clock import now
from engine.schedule import claim, release
from registry.calendar import BEIJING

from .sampling import previous_month


def monthly_sampling_due() -> bool:
    """Start last month's sampling once, on or after the configured day; True if started."""
    day = int(current_app.config.get("CQPI_SAMPLING_DAY", 1))
    today = now().replace(tzinfo=UTC).astimezone(BEIJING)
    if day == 0 or today.day < day:
        return False
    period = previous_month()
    if not claim("monthly_sampling", period):
        return False
    try:
        engine.start("monthly_sampling", business_key=f"monthly-sampling-{period}",
                     scope="city", data={"period": period}, actor="scheduler")
    except Exception:
        release("monthly_sampling", period)  # try again at the next tick
        raise
    return True
