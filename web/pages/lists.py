"""Reviewers' lists (issue 18): the tasks a person completed (已办), the search of
applications and projects in the user's scope with a project's read-only page, and the staff
lists of complaints and key inspections (监督). Every query is ``registry.queries``'s."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import flash, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from forms.credit_code import problem
from forms.stages import STAGE_NAMES
from handlers.sampling import monthly_key
from lifecycle.decisions import decision_of
from lifecycle.keys import application_id_of
from registry import applications as apps
from registry import jurisdictions
from registry import queries as q
from registry.models import LABELS, Category, Role
from registry.queries import stage_records

from . import bp, labels, session
from .inbox import PROCESSES, REVIEWERS

SEARCHERS = (Role.ENTERPRISE, Role.DISTRICT, Role.CITY, Role.OPS, Role.ADMIN)
SUPERVISORS = (Role.DISTRICT, Role.CITY, Role.ADMIN)
CATEGORIES = {Category.HM: "房屋建筑和市政工程总承包", Category.OI: "其他行业工程总承包",
              Category.SUB: "专业承包（分包）"}
SOURCES = {"business": "业务办理", "registration": "登记", "backfill": "历史补录",
           "exchange": "共享交换"}
ON_PLATFORM = {"yes": "已推送全国平台", "no": "未推送全国平台"}
MAX_SHOWN = 40
"""How much of a refused value a message repeats."""


class Filters:
    """The query string read field by field: each bad value leaves its filter out and says
    why in Chinese, naming the field (the page still answers, with a 400)."""

    def __init__(self, args: MultiDict[str, str]) -> None:
        self.args = args
        self.problems: list[str] = []
        self.page = self._page()

    def text(self, name: str, limit: int = 200) -> str:
        return (self.args.get(name) or "").strip()[:limit]

    def refuse(self, title: str, value: str, why: str) -> None:
        self.problems.append(f"「{title}」{why}（收到“{value[:MAX_SHOWN]}”），已忽略该条件")

    def _page(self) -> int:
        value = (self.args.get("page") or "").strip()
        if not value:
            return 1
        if not value.isdigit() or not 0 < int(value) <= 100_000:
            self.problems.append(f"「页码」应为正整数（收到“{value[:MAX_SHOWN]}”），已显示第 1 页")
            return 1
        return int(value)

    def choice(self, name: str, title: str, allowed: Any) -> str:
        value = self.text(name)
        if value and value not in allowed:
            self.refuse(title, value, "不是可选的值")
            return ""
        return value

    def day(self, name: str, title: str, after: int = 0) -> datetime | None:
        """A Beijing day as its UTC start (plus ``after`` days)."""
        value = self.text(name)
        if not value:
            return None
        try:
            day = date.fromisoformat(value) + timedelta(days=after)
        except (ValueError, OverflowError):
            self.refuse(title, value, "应为日期，格式如 2026-03-01")
            return None
        return datetime.combine(day, time(0)) - timedelta(hours=8)

    def period(self, title_from: str, title_to: str) -> tuple[datetime | None, datetime | None]:
        start, end = self.day("from", title_from), self.day("to", title_to, after=1)
        if start and end and start >= end:
            self.problems.append(f"「{title_from}」不能晚于「{title_to}」，已忽略日期条件")
            return None, None
        return start, end

    def credit_code(self) -> str:
        value = "".join(self.text("credit_code").split()).upper()
        why = problem(value) if value else None
        if why:
            self.refuse("统一社会信用代码", value, why)
            return ""
        return value

    def number(self) -> str:
        return "".join(self.text("number", 40).split()).upper()

    def answer(self, template: str, **context: Any) -> Any:
        for message in self.problems:
            flash(message, "error")
        return render_template(template, args=self.args, page=self.page,
                               districts=jurisdictions.table(), **context), \
            400 if self.problems else 200


@bp.get("/done")
@session.signed_in(*REVIEWERS)
def tasks_done() -> Any:
    """已办: the tasks the signed-in user completed, newest first."""
    f = Filters(request.args)
    found = q.done_tasks(session.user().username, f.page)
    rows = [(row, decision_of(row.task.form_key, row.data)) for row in found.rows]
    return f.answer("tasks_done.html", found=found, rows=rows, processes=PROCESSES)


def _search(f: Filters, kinds: Any, statuses: Any) -> q.Search:
    start, end = f.period("提交日期自", "提交日期至")
    return q.Search(number=f.number(), name=f.text("name"), enterprise=f.text("enterprise"),
                    credit_code=f.credit_code(),
                    district=f.choice("district", "所在区县", jurisdictions.table()),
                    kind=f.choice("kind", "类型", kinds),
                    status=f.choice("status", "状态", statuses),
                    submitted_from=start, submitted_before=end)


@bp.get("/applications")
@session.signed_in(*SEARCHERS)
def search_applications() -> Any:
    f = Filters(request.args)
    found = q.search_applications(session.user(), _search(f, labels.KINDS, LABELS), f.page)
    return f.answer("search_applications.html", found=found, kinds=labels.KINDS,
                    statuses=LABELS)


@bp.get("/projects")
@session.signed_in(*SEARCHERS)
def search_projects() -> Any:
    f = Filters(request.args)
    search = _search(f, CATEGORIES, ON_PLATFORM)
    found = q.search_projects(session.user(), search, f.page)
    return f.answer("search_projects.html", found=found, kinds=CATEGORIES, statuses=ON_PLATFORM)


@bp.get("/projects/<int(max=2147483647):project_id>")
@session.signed_in(*SEARCHERS)
def project(project_id: int) -> Any:
    user = session.user()
    found = q.readable_project(user, project_id)
    if found is None:
        raise apps.NotFound(f"项目 {project_id} 不存在")
    staff = user.role != Role.ENTERPRISE
    return render_template(
        "project.html", project=found, categories=CATEGORIES, stages=stage_records(found.id),
        stage_names=STAGE_NAMES, sources=SOURCES,
        parties=q.project_parties(found.id), applications=q.project_applications(user, found.id),
        inspections=q.project_inspections(found.id) if staff else [],
        samplings=q.project_samplings(found.id) if staff else [], staff=staff,
        inspection_statuses=q.INSPECTION_STATUSES, results=q.INSPECTION_RESULTS,
        triggers=q.INSPECTION_TRIGGERS)


def _supervision(f: Filters, statuses: Any) -> q.Supervision:
    start, end = f.period("登记日期自", "登记日期至")
    return q.Supervision(text=f.text("text"),
                         district=f.choice("district", "所在区县", jurisdictions.table()),
                         status=f.choice("status", "处理状态", statuses),
                         created_from=start, created_before=end)


@bp.get("/supervision/complaints")
@session.signed_in(*SUPERVISORS)
def supervision_complaints() -> Any:
    f = Filters(request.args)
    found = q.complaints(session.user(), _supervision(f, q.COMPLAINT_STATUSES), f.page)
    return f.answer("supervision_complaints.html", found=found, statuses=q.COMPLAINT_STATUSES,
                    results=q.INSPECTION_RESULTS)


@bp.get("/supervision/inspections")
@session.signed_in(*SUPERVISORS)
def supervision_inspections() -> Any:
    f = Filters(request.args)
    user = session.user()
    found = q.inspections(user, _supervision(f, q.INSPECTION_STATUSES), f.page)
    checks = [(task, *_sampled(key), entered or {})
              for task, key, entered in q.sampling_checks(user, 1).rows]
    return f.answer("supervision_inspections.html", found=found, checks=checks,
                    statuses=q.INSPECTION_STATUSES, results=q.INSPECTION_RESULTS,
                    triggers=q.INSPECTION_TRIGGERS, decision_of=decision_of,
                    checks_shown=q.PER_PAGE)


def _sampled(key: str | None) -> tuple[str, str | None]:
    """What a sampling check was about, as a title and its page: a month's draw, or the
    application whose in-process sample it was (R-SUP-6)."""
    application_id = application_id_of(key)
    if application_id is not None:
        return f"过程抽查：申请 {application_id}", url_for("pages.application",
                                                       application_id=application_id)
    period = (key or "").removeprefix(monthly_key(""))
    if key and period != key:
        return f"月度抽查 {period}", url_for("pages.sampling_month", period=period)
    return key or "抽查", None
