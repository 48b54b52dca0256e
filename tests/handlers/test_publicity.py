"""Publicity length: working days by the statutory calendar, or a duration for demos."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from handlers.publicity import closes_at, resumed_end
from lifecycle.states import MOVES
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


def test_a_3_a_1_a_resumed_notice_ends_later_by_the_working_days_it_was_paused(app) -> None:  # type: ignore[no-untyped-def]
    """A-3, A-1: opened Monday 28 September 2026 (ends with the make-up Saturday 10 October),
    paused Tuesday 29 September, resumed Thursday 8 October: 30 September and 8 October were
    lost (the National Day holiday is no working day), so it ends with Tuesday 13 October."""
    opened = datetime(2026, 9, 28, 2, 0)
    end, _ = closes_at(opened, "5")
    assert end == datetime(2026, 10, 10, 16, 0)
    moved, warnings = resumed_end(end, datetime(2026, 9, 29, 3, 0),
                                  datetime(2026, 10, 8, 6, 0), "5")
    assert moved == datetime(2026, 10, 13, 16, 0) and warnings == []
    # paused and resumed on one day (Beijing), or within the holiday: nothing is lost
    assert resumed_end(end, datetime(2026, 9, 29, 1, 0), datetime(2026, 9, 29, 15, 0),
                       "5")[0] == end
    assert resumed_end(end, datetime(2026, 10, 2, 3, 0), datetime(2026, 10, 7, 3, 0),
                       "5")[0] == end


def test_a_3_with_a_duration_a_resumed_notice_ends_later_by_the_paused_time() -> None:
    """A-3: with an ISO duration (demos and tests) the end moves by the paused time itself."""
    end = datetime(2026, 11, 27, 0, 0, 30)
    moved, _ = resumed_end(end, datetime(2026, 11, 27, 0, 0, 10),
                           datetime(2026, 11, 27, 0, 5, 10), "PT30S")
    assert moved == end + timedelta(minutes=5)


def test_status_moves_of_a_4() -> None:
    """A-4: returned -> resubmitted -> returned ... or withdrawn; never from approved."""
    assert AppStatus.RETURNED in MOVES[AppStatus.SUBMITTED]
    assert AppStatus.APPROVED not in MOVES[AppStatus.WITHDRAWN]
