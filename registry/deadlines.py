"""Task deadlines in working days (A-8): when a task is due, and how that reads.

A user task's ``dueIn`` of whole days (``P10D``) is that many working days by the calendar
publicity counts in (A-1: statutory holidays and 调休 make-up days, corrected by the admins'
``holiday`` table): the task is due at the end of its last working day, Beijing time, the day
it arrives not counted. Other durations (``PT4H``, ``P1M``) are elapsed time, as the engine
adds them. The engine asks through its catalog's ``due_at`` hook (``task_due``); the inbox,
the task page and the API read a due date through ``describe``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from engine.clock import now

from .calendar import BEIJING, Calendar, period_end

_DAYS = re.compile(r"P(\d{1,4})D")


def task_due(created: datetime, duration: str) -> datetime | None:
    """The catalog's ``due_at`` hook: ``P<n>D`` ends with the n-th working day after the day
    ``created`` (naive UTC) falls on, at midnight Beijing time (naive UTC); None for any
    other duration, which the engine adds as elapsed time."""
    found = _DAYS.fullmatch(duration.strip())
    if found is None:
        return None
    end, _warnings = period_end(created, int(found.group(1)))
    return end


@dataclass(frozen=True)
class Deadline:
    day: date
    """The last day to do the task on (Beijing time)."""
    working_days_left: int
    """Working days after today up to ``day``; negative: the working days it is overdue by."""
    overdue: bool

    @property
    def text(self) -> str:
        """``12月15日（剩 3 个工作日）``, ``12月15日（今日到期）``,
        ``12月15日（已超期 2 个工作日）``."""
        return f"{self.day_text}（{self.left_text}）"

    @property
    def left_text(self) -> str:
        if self.overdue:
            return f"已超期 {-self.working_days_left} 个工作日"
        if self.working_days_left == 0:
            return "今日到期"
        return f"剩 {self.working_days_left} 个工作日"

    @property
    def day_text(self) -> str:
        today = local(now()).date()
        prefix = f"{self.day.year}年" if self.day.year != today.year else ""
        return f"{prefix}{self.day.month}月{self.day.day}日"


def local(moment: datetime) -> datetime:
    """A naive UTC time in Beijing time."""
    return moment.replace(tzinfo=UTC).astimezone(BEIJING)


def describe(due_at: datetime | None, calendar: Calendar | None = None) -> Deadline | None:
    """How a due time (naive UTC) stands now; None for a task without one."""
    if due_at is None:
        return None
    calendar = calendar or around_today()
    at = now()
    today = local(at).date()
    day = (local(due_at) - timedelta(microseconds=1)).date()  # midnight ends the day before
    if due_at <= at:
        return Deadline(day, -max(calendar.workdays_between(day, today), 1), True)
    return Deadline(day, max(calendar.workdays_between(today, day), 0), False)


def around_today() -> Calendar:
    """The calendar with the admins' table from 400 days before today on (for a list's
    due dates: one query)."""
    return Calendar.load(local(now()).date() - timedelta(days=400), 800)
