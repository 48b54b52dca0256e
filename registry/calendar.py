"""Working days by the Chinese statutory calendar (with 调休 make-up days), corrected by the
``holiday`` table that admins extend; publicity periods are counted in these days (A-1).

The calendar package knows only the years announced so far and raises for later ones; for
such days the weekend rule applies (plus the admin table) and a warning is returned, so a
period crossing into an unknown year still ends on a sensible day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import sqlalchemy as sa

from engine.db import db

from .models import Holiday

BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass
class Calendar:
    overrides: dict[date, bool] = field(default_factory=dict)
    unknown_years: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, start: date, days: int = 400) -> Calendar:
        """The calendar with the admin table's days from ``start`` on."""
        rows = db.session.execute(sa.select(Holiday.day, Holiday.workday).where(
            Holiday.day >= start, Holiday.day <= start + timedelta(days=days)))
        return cls({d: w for d, w in rows})

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            self.unknown_years.add(day.year)
            return day.weekday() < 5

    def add_workdays(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself not counted)."""
        day, left = start, count
        while left > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to ``end`` inclusive; negative when ``end`` is
        earlier (the working days it is overdue by)."""
        if end < start:
            return -self.workdays_between(end, start)
        return sum(self.is_workday(start + timedelta(days=n))
                   for n in range(1, (end - start).days + 1))

    def warnings(self) -> list[str]:
        return [f"{year} 年的法定节假日安排尚未收录，按周末规则及管理员维护的节假日表计算"
                for year in sorted(self.unknown_years)]


def period_end(opened: datetime, workdays: int, calendar: Calendar | None = None
               ) -> tuple[datetime, list[str]]:
    """When a period of ``workdays`` working days opened at ``opened`` (naive UTC) ends: the
    end of its last working day in Beijing time, as naive UTC; and any warnings."""
    local = opened.replace(tzinfo=UTC).astimezone(BEIJING)
    cal = calendar or Calendar.load(local.date())
    last = cal.add_workdays(local.date(), workdays)
    end = datetime.combine(last + timedelta(days=1), time(0), BEIJING)
    return end.astimezone(UTC).replace(tzinfo=None), cal.warnings()
