"""The city's statistics (issue 19): the numbers of the ``/statistics`` dashboard, of ``GET
/api/v1/statistics`` and of the Excel exports, computed here only, each by a GROUP BY over
the registry's and the engine's tables, in the scope of the person asking (a district
reviewer their district, the city and admins every district).

Tables (``TABLES``):

- ``applications``: applications by district, kind and status, of those opened in the
  period and submitted at least once (drafts never submitted are the enterprise's own);
- ``applications_by_status``: the same by district and status (the chart's series);
- ``tasks``: the reviewers' tasks open now and those overdue (``due_at`` before now), by the
  district (or ``city``) whose reviewers they wait for; the period does not apply;
- ``durations``: working days from the first submission (the audit trail's first
  ``application_submitted``; the application's ``submitted_at`` when there is none) to
  the day it was pushed and entered (``decided_at`` of an approved application), of those
  approved in the period: count, average and p90 per district and overall. Working days are
  the publicity calendar's (A-1, ``registry.calendar``): the day of submission not counted,
  the day of the push counted, both Beijing days. The calendar goes into the query as a
  table of days with their running count of working days, so the difference is one join;
  p90 is ``percentile_cont(0.9)`` on PostgreSQL and the same linear interpolation by
  window functions on SQLite;
- ``sampling``: the monthly sampling (R-SUP-2) per month and district: population, quota,
  drawn, coverage and whether the 10 % floor (``ceil(10 %)``) is met, of the months in the
  period.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from engine.clock import now
from engine.db import db
from engine.models import UserTask, WaitStatus

from . import jurisdictions
from .calendar import BEIJING, Calendar
from .models import LABELS, Application, AppStatus, AuditEvent, Project, Role, SamplingDraw, User

READERS = (Role.DISTRICT, Role.CITY, Role.ADMIN)
"""Who may read the statistics."""

KINDS = {"intake": "入库", "backfill": "补录", "correction": "勘误", "grade_adjust": "等级调整"}
CITY = "city"
FLOOR = 10
"""R-SUP-2: at least this percentage of a district's entries of a month is sampled."""
MAX_DAYS = 3660
"""The longest period one may ask for (ten years)."""


class Forbidden(Exception):
    """A district reviewer asked for another district."""


@dataclass(frozen=True)
class Column:
    key: str
    title: str


@dataclass
class Table:
    key: str
    title: str
    note: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"title": self.title, "note": self.note,
                "columns": [{"key": c.key, "title": c.title} for c in self.columns],
                "rows": self.rows}


@dataclass(frozen=True)
class Query:
    start: date
    """First Beijing day of the period."""
    end: date
    """Last Beijing day of the period (included)."""
    district: str | None
    """A jurisdiction code or ``city``; None: every district the reader may see."""
    fixed_district: bool = False
    """The reader is a district reviewer: ``district`` is theirs and cannot change."""

    @property
    def utc_start(self) -> datetime:
        return _utc(self.start)

    @property
    def utc_before(self) -> datetime:
        return _utc(self.end + timedelta(days=1))

    def params(self) -> dict[str, str]:
        found = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.district and not self.fixed_district:
            found["district"] = self.district
        return found


def _utc(day: date) -> datetime:
    """The start of a Beijing day as naive UTC (how times are stored)."""
    return datetime.combine(day, time(0), BEIJING).astimezone(UTC).replace(tzinfo=None)


def today() -> date:
    return now().replace(tzinfo=UTC).astimezone(BEIJING).date()


def parse(args: Mapping[str, str], user: User) -> tuple[Query, list[str]]:
    """The query string's period and district for ``user``, and a Chinese message per value
    refused (that value is left at its default: this year up to today, every district).
    Raises Forbidden when a district reviewer asks for another district."""
    problems: list[str] = []
    first_of_year = date(today().year, 1, 1)
    start = _day(args.get("from"), "起始日期", problems) or first_of_year
    end = _day(args.get("to"), "截止日期", problems) or today()
    if start > end:
        problems.append("「起始日期」不能晚于「截止日期」，已按今年统计")
        start, end = first_of_year, today()
    if (end - start).days > MAX_DAYS:
        problems.append("统计期间不能超过十年，已按今年统计")
        start, end = first_of_year, today()
    asked = (args.get("district") or "").strip()
    if user.role == Role.DISTRICT:
        own = str(user.jurisdiction_code)
        if asked and asked != own:
            raise Forbidden("区县审核人员只能查看本区县的统计")
        return Query(start, end, own, fixed_district=True), problems
    district: str | None = None
    if asked:
        if asked == CITY or asked in jurisdictions.table():
            district = asked
        else:
            problems.append(f"「区县」不是可选的值（收到“{asked[:40]}”），已统计全部区县")
    return Query(start, end, district), problems


def _day(value: str | None, title: str, problems: list[str]) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(
            f"「{title}」应为日期，格式如 2026-03-01（收到“{text[:40]}”），已使用默认值")
        return None


def district_name(code: str | None) -> str:
    if code in (None, CITY):
        return "市管"
    return jurisdictions.name_of(code) or str(code)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _district_of_project() -> Any:
    """A project's reviewing district: its managing jurisdiction, ``city`` if city-managed."""
    return sa.func.coalesce(Project.managing_code, sa.literal(CITY))


def _in_scope(q: Query) -> Any:
    if q.district is None:
        return sa.true()
    if q.district == CITY:
        return Project.city_managed.is_(True)
    return Project.managing_code == q.district


def applications(q: Query) -> Table:
    district = _district_of_project().label("district")
    rows = db.session.execute(
        sa.select(district, Application.kind, Application.status,
                  sa.func.count(Application.id).label("total"))
        .join(Project, Project.id == Application.project_id)
        .where(Application.submitted_at.is_not(None),
               Application.created_at >= q.utc_start, Application.created_at < q.utc_before,
               _in_scope(q))
        .group_by(district, Application.kind, Application.status)
        .order_by(district, Application.kind, Application.status)).all()
    return Table("applications", "申请数量（按区县、类型、状态）",
                 "统计期间内创建并已提交的申请（不含从未提交的草稿），按项目的主管区县归属。",
                 [Column("district_name", "区县"), Column("kind_label", "类型"),
                  Column("status_label", "状态"), Column("count", "数量")],
                 [{"district": r.district, "district_name": district_name(r.district),
                   "kind": r.kind, "kind_label": KINDS.get(r.kind, r.kind),
                   "status": r.status, "status_label": LABELS.get(r.status, r.status),
                   "count": int(r.total)} for r in rows])


def applications_by_status(q: Query) -> Table:
    district = _district_of_project().label("district")
    rows = db.session.execute(
        sa.select(district, Application.status, sa.func.count(Application.id).label("total"))
        .join(Project, Project.id == Application.project_id)
        .where(Application.submitted_at.is_not(None),
               Application.created_at >= q.utc_start, Application.created_at < q.utc_before,
               _in_scope(q))
        .group_by(district, Application.status)
        .order_by(district, Application.status)).all()
    return Table("applications_by_status", "申请数量（按区县、状态）",
                 "统计期间内创建并已提交的申请（不含从未提交的草稿），按区县、状态合计，不分类型。",
                 [Column("district_name", "区县"), Column("status_label", "状态"),
                  Column("count", "数量")],
                 [{"district": r.district, "district_name": district_name(r.district),
                   "status": r.status, "status_label": LABELS.get(r.status, r.status),
                   "count": int(r.total)} for r in rows])


def tasks(q: Query) -> Table:
    overdue = sa.func.sum(sa.case((UserTask.due_at < now(), 1), else_=0))
    scope = (UserTask.scope == q.district if q.district is not None
             else sa.not_(UserTask.scope.like("org:%")))
    rows = db.session.execute(
        sa.select(UserTask.scope, sa.func.count(UserTask.id).label("open"),
                  overdue.label("overdue"))
        .where(UserTask.status == WaitStatus.OPEN, UserTask.scope.is_not(None), scope)
        .group_by(UserTask.scope).order_by(UserTask.scope)).all()
    return Table("tasks", "待办任务（按区县）",
                 "当前（不受统计期间限制）等待审核人员办理的任务；超期：办理期限早于当前时间。",
                 [Column("district_name", "区县"), Column("open", "待办"),
                  Column("overdue", "已超期")],
                 [{"district": r.scope, "district_name": district_name(r.scope),
                   "open": int(r.open), "overdue": int(r.overdue or 0)} for r in rows])


def _beijing_day(column: Any) -> Any:
    if _dialect() == "postgresql":
        return sa.cast(column + sa.literal_column("interval '8 hours'"), sa.Date)
    return sa.func.date(column, "+8 hours")


def _first_submissions() -> Any:
    return (sa.select(AuditEvent.object.label("object"),
                      sa.func.min(AuditEvent.created_at).label("at"))
            .where(AuditEvent.action == "application_submitted")
            .group_by(AuditEvent.object).subquery("first_submission"))


def _workdays(first: date, last: date) -> Any:
    """The days from ``first`` to ``last`` with the running count of working days up to each
    (the calendar's days, a few hundred a year, go into the query as a table: a VALUES list
    on PostgreSQL, a JSON array of the counts through ``json_each`` on SQLite, which names no
    VALUES columns)."""
    calendar = Calendar.load(first, (last - first).days + 1)
    running, count = [], 0
    for offset in range((last - first).days + 1):
        count += calendar.is_workday(first + timedelta(days=offset))
        running.append(count)
    if _dialect() == "postgresql":
        values = sa.values(sa.column("day", sa.Date), sa.column("n", sa.Integer),
                           name="calendar_day").data(
            [(first + timedelta(days=offset), n) for offset, n in enumerate(running)])
        return sa.select(values).cte("workday")
    each = sa.func.json_each(json.dumps(running)).table_valued("key", "value")
    return sa.select(sa.func.date(first.isoformat(), sa.func.printf("+%d days", each.c.key))
                     .label("day"), each.c.value.label("n")).cte("workday")


def durations(q: Query) -> Table:
    first = _first_submissions()
    submitted = sa.func.coalesce(first.c.at, Application.submitted_at)
    base = (sa.select(Application.id)
            .join(Project, Project.id == Application.project_id)
            .outerjoin(first, first.c.object == sa.literal("application:")
                       + sa.cast(Application.id, sa.String))
            .where(Application.status == AppStatus.APPROVED, submitted.is_not(None),
                   Application.decided_at >= q.utc_start, Application.decided_at < q.utc_before,
                   _in_scope(q)))
    table = Table("durations", "从提交到推送全国平台的工作日",
                  "统计期间内办结（已推送全国平台）的申请：自首次提交之日（不计）至推送办结之日"
                  "（计入）的工作日数（法定节假日及调休按公示所用日历），含退回修改的时间。",
                  [Column("district_name", "区县"), Column("count", "办结数"),
                   Column("average", "平均工作日"), Column("p90", "90 分位工作日")])
    bounds = db.session.execute(base.with_only_columns(
        sa.func.min(submitted), sa.func.max(Application.decided_at))).one()
    if bounds[0] is None:
        return table
    low = datetime.fromisoformat(str(bounds[0])).replace(tzinfo=UTC).astimezone(BEIJING).date()
    high = datetime.fromisoformat(str(bounds[1])).replace(tzinfo=UTC).astimezone(BEIJING).date()
    days = _workdays(low, high)
    a, b = days.alias("submitted_day"), days.alias("pushed_day")
    district = _district_of_project()
    per = (base.with_only_columns(district.label("district"), (b.c.n - a.c.n).label("wd"))
           # every day between the bounds is in the table, so the outer joins match inner
           # ones; LEFT keeps SQLite scanning the applications once, each day found through
           # an automatic index (an inner join scanned them once per day of the table)
           .outerjoin(a, a.c.day == _beijing_day(submitted))
           .outerjoin(b, b.c.day == _beijing_day(Application.decided_at)).subquery("per"))
    if _dialect() == "postgresql":
        found = list(_percentiles_pg(per))
    else:
        found = [*_percentiles(per, grouped=True), *_percentiles(per, grouped=False)]
    for r in found:
        table.rows.append({"district": r.district,
                           "district_name": "合计" if r.district == "all"
                           else district_name(r.district),
                           "count": int(r.total), "average": round(float(r.average), 1),
                           "p90": round(float(r.p90), 1)})
    return table


def _percentiles_pg(per: Any) -> Any:
    """Count, average and ``percentile_cont(0.9)`` of ``per.wd`` per district and overall
    (district ``all``), in one pass: GROUPING SETS."""
    overall = sa.func.grouping(per.c.district)
    return db.session.execute(
        sa.select(sa.case((overall == 1, sa.literal("all")), else_=per.c.district)
                  .label("district"), sa.func.count().label("total"),
                  sa.func.avg(per.c.wd).label("average"),
                  sa.func.percentile_cont(0.9).within_group(per.c.wd).label("p90"))
        .group_by(sa.func.grouping_sets(sa.tuple_(per.c.district), sa.text("()")))
        .order_by(overall, per.c.district)).all()


def _percentiles(per: Any, grouped: bool) -> Any:
    """SQLite: count, average and p90 of ``per.wd`` by the linear interpolation of
    ``percentile_cont`` (window functions), per district or overall (district ``all``)."""
    key = per.c.district if grouped else sa.literal("all")
    partition = [per.c.district] if grouped else None
    ranked = sa.select(key.label("district"), per.c.wd,
                       (sa.func.row_number().over(partition_by=partition, order_by=per.c.wd)
                        - 1).label("i"),
                       sa.func.count().over(partition_by=partition).label("n")).subquery()
    position = 0.9 * (ranked.c.n - 1)
    low = sa.cast(position, sa.Integer)  # floor: the position is never negative
    weight = position - low
    p90 = sa.func.sum(sa.case((ranked.c.i == low, ranked.c.wd * (1 - weight)),
                              (ranked.c.i == low + 1, ranked.c.wd * weight), else_=0))
    return db.session.execute(
        sa.select(ranked.c.district, sa.func.count().label("total"),
                  sa.func.avg(ranked.c.wd).label("average"), p90.label("p90"))
        .group_by(ranked.c.district).order_by(ranked.c.district)).all()


def sampling(q: Query) -> Table:
    length = (sa.func.jsonb_array_length if _dialect() == "postgresql"
              else sa.func.json_array_length)
    population, drawn = length(SamplingDraw.population), length(SamplingDraw.drawn)
    scope = SamplingDraw.scope == q.district if q.district is not None else sa.true()
    rows = db.session.execute(
        sa.select(SamplingDraw.period, SamplingDraw.scope, population.label("population"),
                  SamplingDraw.quota, drawn.label("drawn"),
                  (drawn * 100.0 / sa.func.nullif(population, 0)).label("coverage"),
                  (drawn * 100 >= population * FLOOR).label("met"))
        .where(SamplingDraw.kind == "monthly", scope,
               SamplingDraw.period >= q.start.strftime("%Y-%m"),
               SamplingDraw.period <= q.end.strftime("%Y-%m"))
        .order_by(SamplingDraw.period, SamplingDraw.scope)).all()
    return Table("sampling", "月度抽查覆盖率（R-SUP-2）",
                 f"统计期间内各月的月度抽查：当月入库条目（抽查总体）中抽取的比例，不低于 {FLOOR}%"
                 "（向上取整）为达标。",
                 [Column("period", "月份"), Column("district_name", "区县"),
                  Column("population", "当月条目"), Column("quota", "应抽"),
                  Column("drawn", "已抽"), Column("coverage", "覆盖率（%）"),
                  Column("met_label", "是否达标")],
                 [{"period": r.period, "district": r.scope,
                   "district_name": district_name(r.scope), "population": int(r.population),
                   "quota": int(r.quota), "drawn": int(r.drawn),
                   "coverage": None if r.coverage is None else round(float(r.coverage), 1),
                   "met": bool(r.met), "met_label": "达标" if r.met else "未达标"}
                  for r in rows])


TABLES = {"applications": applications, "applications_by_status": applications_by_status,
          "tasks": tasks, "durations": durations, "sampling": sampling}


def compute(q: Query) -> dict[str, Table]:
    return {key: make(q) for key, make in TABLES.items()}


def workbook(table: Table, q: Query) -> bytes:
    """One table as an Excel workbook: the filters applied above the header row."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.key[:31]
    sheet.append([table.title])
    sheet.append([f"统计期间：{q.start.isoformat()} 至 {q.end.isoformat()}",
                  f"区县：{district_name(q.district) if q.district else '全部'}"])
    sheet.append([table.note])
    sheet.append([c.title for c in table.columns])
    for row in table.rows:
        sheet.append([row.get(c.key) for c in table.columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
