"""Working days for publicity (A-1): statutory holidays, 调休 make-up days, unknown years."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from engine.db import db
from registry.calendar import Calendar, period_end
from registry.models import Holiday


def test_a_1_five_working_days_over_the_2026_national_day_holiday() -> None:
    """A-1: 2026-09-29 (Tue) + 5 working days: 9/30, 10/8, 10/9, 10/10 (a Saturday made a
    working day, 调休), 10/12; the National Day week does not count."""
    cal = Calendar()
    assert cal.add_workdays(date(2026, 9, 29), 5) == date(2026, 10, 12)
    assert cal.warnings() == []


def test_a_1_the_period_ends_at_midnight_beijing_time() -> None:
    opened = datetime(2026, 9, 29, 2, 0)  # 10:00 in Beijing
    end, warnings = period_end(opened, 5, Calendar())
    assert end == datetime(2026, 10, 12, 16, 0)  # 2026-10-13 00:00 in Beijing
    assert warnings == []


def test_a_1_a_period_into_an_unannounced_year_ends_on_a_weekday_and_warns() -> None:
    cal = Calendar()
    assert cal.add_workdays(date(2026, 12, 29), 5) == date(2027, 1, 5)
    [warning] = cal.warnings()
    assert warning.startswith("2027 年的法定节假日安排尚未收录")


def test_a_1_the_admin_holiday_table_corrects_an_unannounced_year(app: Flask) -> None:
    db.session.add(Holiday(day=date(2027, 1, 1), workday=False, name="元旦"))
    db.session.commit()
    cal = Calendar.load(date(2026, 12, 29))
    assert cal.add_workdays(date(2026, 12, 29), 5) == date(2027, 1, 6)
