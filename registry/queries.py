"""Read-only queries of the registry for pages and the API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.db import db
from engine.models import Definition, Event, Instance, UserTask, WaitStatus

from .models import (
    Application,
    Complaint,
    Inspection,
    Organisation,
    Project,
    ProjectParty,
    Role,
    SamplingDraw,
    StageRecord,
    StageVersion,
    User,
)


def visible_projects(user: User) -> Any:
    """A select of the projects ``user`` may see (its organisation's, its scope's, or all)."""
    query = sa.select(Project)
    if user.role == Role.ENTERPRISE:
        mine = sa.select(ProjectParty.project_id).where(
            ProjectParty.organisation_id == user.organisation_id)
        return query.where(Project.id.in_(mine))
    if user.role == Role.DISTRICT:
        return query.where(Project.managing_code == user.jurisdiction_code)
    if user.role == Role.CITY:
        return query.where(Project.city_managed.is_(True))
    if user.role in (Role.OPS, Role.ADMIN):
        return query
    return query.where(sa.false())


def visible_applications(user: User) -> Any:
    """A select of the applications ``user`` may see: its organisation's, its scope's, or all."""
    query = sa.select(Application)
    if user.role == Role.ENTERPRISE:
        return query.where(Application.applicant_id == user.organisation_id)
    in_scope = Application.project_id.in_(visible_projects(user).with_only_columns(Project.id))
    if user.role == Role.DISTRICT:
        return query.where(in_scope)
    if user.role == Role.CITY:  # and what reached the city: a district's correction or B→A
        reached = sa.select(UserTask.instance_id).where(UserTask.scope == "city")
        return query.where(sa.or_(in_scope, Application.instance_id.in_(reached)))
    if user.role in (Role.OPS, Role.ADMIN):
        return query
    return query.where(sa.false())


def stage_records(project_id: int) -> Sequence[dict[str, Any]]:
    """The project's stage records with the payload of their current version."""
    rows = db.session.execute(
        sa.select(StageRecord, StageVersion.payload)
        .outerjoin(StageVersion, sa.and_(StageVersion.record_id == StageRecord.id,
                                         StageVersion.version == StageRecord.version))
        .where(StageRecord.project_id == project_id).order_by(StageRecord.stage)).all()
    return [{**{c: getattr(r, c) for c in ("stage", "contract_key", "grade", "source",
                                             "version", "from_permit_system",
                                             "used_for_qualification", "marked_false")},
             "payload": payload or {}} for r, payload in rows]


# --- reviewers' lists and search (已办, 查询, 监督) ---------------------------------------

PER_PAGE = 20


@dataclass(frozen=True)
class Search:
    """The filters of the search of applications and projects; empty fields filter nothing.
    Dates are UTC bounds (the caller turns a Beijing day into them)."""

    number: str = ""
    name: str = ""
    enterprise: str = ""
    credit_code: str = ""
    district: str = ""
    kind: str = ""
    status: str = ""
    submitted_from: datetime | None = None
    submitted_before: datetime | None = None


@dataclass
class Found:
    """One page of a list: its rows, whether another page follows, and the total."""

    rows: list[Any]
    total: int
    page: int
    per_page: int = PER_PAGE

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


def _paged(query: Any, page: int, per_page: int = PER_PAGE) -> Found:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery())) or 0
    rows = list(db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all())
    return Found(rows, total, page, per_page)


def _where(query: Any, *conditions: Any) -> Any:
    """``query`` with each condition that is not None (a filter left empty is None)."""
    return query.where(*[c for c in conditions if c is not None])


def _between(column: Any, start: datetime | None, before: datetime | None) -> list[Any]:
    return [column >= start if start else None, column < before if before else None]


def _application_number(number: str) -> int | None:
    """An application's number as people type it (``123``), if it can be one."""
    return int(number) if number.isdigit() and 0 < int(number) <= 2**31 - 1 else None


def search_applications(user: User, s: Search, page: int = 1) -> Found:
    """The applications ``user`` may see (``visible_applications``) that match ``s``, newest
    first; each row is (Application, Project, Organisation: the applicant)."""
    query = (visible_applications(user)
             .join(Project, Project.id == Application.project_id)
             .join(Organisation, Organisation.id == Application.applicant_id)
             .add_columns(Project, Organisation))
    as_id = _application_number(s.number)
    by_number = Project.project_number == s.number
    query = _where(
        query, _project_filters(s),
        (sa.or_(by_number, Application.id == as_id) if as_id else by_number) if s.number
        else None,
        Organisation.name.contains(s.enterprise, autoescape=True) if s.enterprise else None,
        Organisation.credit_code == s.credit_code if s.credit_code else None,
        Application.kind == s.kind if s.kind else None,
        Application.status == s.status if s.status else None,
        *_between(Application.submitted_at, s.submitted_from, s.submitted_before))
    return _paged(query.order_by(Application.id.desc()), page)


def _project_filters(s: Search) -> Any:
    """The filters on the project itself: name and district."""
    return sa.and_(sa.true(), *[c for c in (
        Project.name.contains(s.name, autoescape=True) if s.name else None,
        Project.location_code == s.district if s.district else None) if c is not None])


ON_PLATFORM = {"yes": True, "no": False}
"""A project's ``status`` filter: on the national platform or not yet."""


def _with_party(organisation: Any) -> Any:
    """Projects on which an organisation matching ``organisation`` (a condition) has a role."""
    return sa.select(ProjectParty.project_id).join(
        Organisation, Organisation.id == ProjectParty.organisation_id).where(organisation)


def search_projects(user: User, s: Search, page: int = 1) -> Found:
    """The projects ``user`` may see (``visible_projects``) that match ``s``, newest first
    (enterprise and credit code: an organisation with a role on the project; kind: its
    category; status: on the national platform or not); each row is (Project,)."""
    query = _where(
        visible_projects(user), _project_filters(s),
        Project.project_number == s.number if s.number else None,
        Project.id.in_(_with_party(Organisation.name.contains(s.enterprise, autoescape=True)))
        if s.enterprise else None,
        Project.id.in_(_with_party(Organisation.credit_code == s.credit_code))
        if s.credit_code else None,
        Project.category == s.kind if s.kind else None,
        Project.on_national_platform.is_(ON_PLATFORM[s.status]) if s.status in ON_PLATFORM
        else None)
    return _paged(query.order_by(Project.id.desc()), page)


def supervised_projects(user: User) -> Any:
    """A select of the ids of the projects whose complaints and inspections ``user`` follows:
    the city every project (it runs the key inspections, R-SUP-7), a district its own."""
    if user.role in (Role.CITY, Role.OPS, Role.ADMIN):
        return sa.select(Project.id)
    if user.role == Role.DISTRICT:
        return sa.select(Project.id).where(Project.managing_code == user.jurisdiction_code)
    return sa.select(Project.id).where(sa.false())


def readable_project(user: User, project_id: int) -> Project | None:
    """The project if ``user`` may read its page: one it may see, or one it supervises that
    has a complaint or an inspection (the city reads what it inspects)."""
    found = db.session.scalar(visible_projects(user).where(Project.id == project_id))
    if found is not None or user.role not in (Role.CITY, Role.DISTRICT):
        return found
    followed = sa.or_(Project.id.in_(sa.select(Inspection.project_id)),
                      Project.id.in_(sa.select(Complaint.project_id)))
    return db.session.scalar(sa.select(Project).where(
        Project.id == project_id, Project.id.in_(supervised_projects(user)), followed))


def project_parties(project_id: int) -> list[tuple[str, Organisation]]:
    """The organisations with a role on the project: (role, organisation)."""
    return [(role, org) for role, org in db.session.execute(
        sa.select(ProjectParty.role, Organisation)
        .join(Organisation, Organisation.id == ProjectParty.organisation_id)
        .where(ProjectParty.project_id == project_id).order_by(ProjectParty.id)).all()]


def project_applications(user: User, project_id: int) -> list[Application]:
    """The project's applications that ``user`` may see, newest first."""
    return list(db.session.scalars(visible_applications(user).where(
        Application.project_id == project_id).order_by(Application.id.desc())))


def project_samplings(project_id: int) -> list[tuple[SamplingDraw, int]]:
    """The draws that picked one of the project's applications: (draw, application id)."""
    ids = set(db.session.scalars(sa.select(Application.id).where(
        Application.project_id == project_id)))
    if not ids:
        return []
    project = db.session.get(Project, project_id)
    scopes = {project.location_code, project.managing_code, "city"} if project else set()
    return [(draw, a) for draw in db.session.scalars(sa.select(SamplingDraw).where(
        SamplingDraw.scope.in_(scopes)).order_by(SamplingDraw.id.desc()))
        for a in draw.drawn if a in ids]


COMPLAINT_STATUSES = {"open": "已登记，待核实", "inspecting": "重点检查中", "closed": "已办结"}
INSPECTION_STATUSES = {"open": "检查中", "closed": "已办结"}
INSPECTION_RESULTS = {"genuine": "信息属实", "false": "确认造假（虚假项目）"}
INSPECTION_TRIGGERS = {"complaint": "投诉举报", "sample": "抽查不合格"}


@dataclass(frozen=True)
class Supervision:
    """The filters of the staff lists of complaints and inspections."""

    text: str = ""
    district: str = ""
    status: str = ""
    created_from: datetime | None = None
    created_before: datetime | None = None


def _complaint_scope(user: User) -> Any:
    """Complaints ``user`` follows: about a project it supervises, or (no project identified)
    naming its district; the city follows all."""
    if user.role in (Role.CITY, Role.OPS, Role.ADMIN):
        return sa.true()
    if user.role == Role.DISTRICT:
        return sa.or_(Complaint.project_id.in_(supervised_projects(user)),
                      sa.and_(Complaint.project_id.is_(None),
                              Complaint.location_code == user.jurisdiction_code))
    return sa.false()


def complaints(user: User, s: Supervision, page: int = 1) -> Found:
    """The complaints ``user`` follows, newest first; each row is (Complaint, Project or None,
    Inspection or None: the key inspection it opened)."""
    query = (sa.select(Complaint, Project, Inspection)
             .outerjoin(Project, Project.id == Complaint.project_id)
             .outerjoin(Inspection, Inspection.complaint_id == Complaint.id)
             .where(_complaint_scope(user)))
    query = _where(
        query, sa.or_(Complaint.project_name.contains(s.text, autoescape=True),
                      Complaint.project_number == s.text,
                      Complaint.content.contains(s.text, autoescape=True)) if s.text else None,
        sa.func.coalesce(Project.location_code, Complaint.location_code) == s.district
        if s.district else None,
        Complaint.status == s.status if s.status else None,
        *_between(Complaint.created_at, s.created_from, s.created_before))
    return _paged(query.order_by(Complaint.id.desc()), page)


def inspections(user: User, s: Supervision, page: int = 1) -> Found:
    """The key inspections of the projects ``user`` supervises, newest first; each row is
    (Inspection, Project, findings: what the inspectors wrote, None before)."""
    findings = (sa.select(Event.data).join(Instance, Instance.id == Event.instance_id)
                .where(Instance.business_key == sa.literal("inspection-")
                       + sa.cast(Inspection.id, sa.String),
                       Event.kind == "task_completed")
                .order_by(Event.id.desc()).limit(1).correlate(Inspection).scalar_subquery())
    query = (sa.select(Inspection, Project, findings)
             .join(Project, Project.id == Inspection.project_id)
             .where(Inspection.project_id.in_(supervised_projects(user))))
    query = _where(
        query, sa.or_(Project.name.contains(s.text, autoescape=True),
                      Project.project_number == s.text) if s.text else None,
        Project.location_code == s.district if s.district else None,
        Inspection.status == s.status if s.status else None,
        *_between(Inspection.created_at, s.created_from, s.created_before))
    return _paged(query.order_by(Inspection.id.desc()), page)


def sampling_checks(user: User, page: int = 1) -> Found:
    """The sampling checks done (R-SUP-2, R-SUP-6: city tasks), newest first, for the city;
    each row is (UserTask, business key, what was entered)."""
    if user.role not in (Role.CITY, Role.OPS, Role.ADMIN):
        return Found([], 0, page)
    entered = (sa.select(Event.data).where(
        Event.instance_id == UserTask.instance_id, Event.kind == "task_completed",
        Event.element_id == UserTask.element_id, Event.actor == UserTask.completed_by,
        Event.created_at >= UserTask.completed_at)
        .order_by(Event.id).limit(1).correlate(UserTask).scalar_subquery())
    query = (sa.select(UserTask, Instance.business_key, entered)
             .join(Instance, Instance.id == UserTask.instance_id)
             .where(UserTask.form_key == "sampling_result",
                    UserTask.status == WaitStatus.DONE))
    return _paged(query.order_by(UserTask.completed_at.desc(), UserTask.id.desc()), page)


@dataclass
class DoneTask:
    """A task someone completed (已办): what, in which procedure, about what, with what."""

    task: UserTask
    process: str
    business_key: str | None
    data: dict[str, Any]
    application: Application | None = None


def done_tasks(username: str, page: int = 1) -> Found:
    """The tasks ``username`` completed, newest first, each with the data they entered (its
    ``task_completed`` event) and the application it was about; rows are DoneTask."""
    query = (sa.select(UserTask, Instance.business_key,
                       sa.func.coalesce(Definition.name, Definition.key))
             .join(Instance, Instance.id == UserTask.instance_id)
             .join(Definition, Definition.id == Instance.definition_id)
             .where(UserTask.completed_by == username, UserTask.status == WaitStatus.DONE)
             .order_by(UserTask.completed_at.desc(), UserTask.id.desc()))
    found = _paged(query, page)
    instance_ids = {task.instance_id for task, _key, _name in found.rows}
    entered = _entered(username, instance_ids)
    by_id = {a.id: a for a in db.session.scalars(sa.select(Application).where(
        Application.instance_id.in_(instance_ids)))} if instance_ids else {}
    by_instance = {a.instance_id: a for a in by_id.values()}
    found.rows = [DoneTask(task, name, key, entered.get(task.id, {}),
                           by_instance.get(task.instance_id))
                  for task, key, name in found.rows]
    return found


def _entered(username: str, instance_ids: set[int]) -> dict[str, dict[str, Any]]:
    """The data ``username`` entered on each task it completed in these instances, by task
    id: the n-th completion of an element by a person is its n-th ``task_completed`` event
    there (each completion writes exactly one, in the same transaction)."""
    if not instance_ids:
        return {}
    tasks: dict[tuple[int, str], list[str]] = {}
    for task_id, instance_id, element_id in db.session.execute(
            sa.select(UserTask.id, UserTask.instance_id, UserTask.element_id).where(
                UserTask.completed_by == username, UserTask.status == WaitStatus.DONE,
                UserTask.instance_id.in_(instance_ids))
            .order_by(UserTask.completed_at, UserTask.id)):
        tasks.setdefault((instance_id, element_id), []).append(task_id)
    events: dict[tuple[int, str | None], list[dict[str, Any]]] = {}
    for instance_id, element_id, data in db.session.execute(
            sa.select(Event.instance_id, Event.element_id, Event.data).where(
                Event.kind == "task_completed", Event.actor == username,
                Event.instance_id.in_(instance_ids)).order_by(Event.id)):
        events.setdefault((instance_id, element_id), []).append(data or {})
    return {task_id: data for where, ids in tasks.items()
            for task_id, data in zip(ids, events.get(where, []), strict=False)}


def project_inspections(project_id: int) -> list[Inspection]:
    """The project's key inspections, newest first."""
    return list(db.session.scalars(sa.select(Inspection).where(
        Inspection.project_id == project_id).order_by(Inspection.id.desc())))
