"""Publicity length: working days by the statutory calendar, or a duration for demos."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers.entries import MOVES
from handlers.publicity import closes_at
from registry.models import AppStatus


def test_a_1_default_is_working_days(app) -> None:  # type: ignore[no-untyped-def]
    """A-1: five working days over the 2026 National Day holiday end on 12 October."""
    end, warnings = closes_at(datetime(2026, 9, 29, 2, 0), "5")
    assert end == datetime(2026, 10, 12, 16, 0) and warnings == []


@pytest.mark.parametrize(("setting", "seconds"), [("PT30S", 30), ("PT2M", 120), ("P1D", 86400)])
def test_a_duration_for_demos_and_tests(setting: str, seconds: int) -> None:
    opened = datetime(2026, 11, 27, 0, 0)
    end, _ = closes_at(opened, setting)
    assert (end - opened).total_seconds() == seconds


def test_status_moves_of_a_4() -> None:
    """A-4: returned -> resubmitted -> returned ... or withdrawn; never from approved."""
    assert AppStatus.RETURNED in MOVES[AppStatus.SUBMITTED]
    assert AppStatus.APPROVED not in MOVES[AppStatus.WITHDRAWN]
