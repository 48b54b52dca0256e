"""The public side of publicity: objections to open notices, and complaints (A-3, R-SUP-7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError

from engine.clock import now
from engine.db import db
from engine.errors import InvalidState
from forms.tasks import Complaint as ComplaintForm
from forms.tasks import Objection as ObjectionForm

from . import audit, checkcodes
from .applications import FormInvalid, NotAllowed, NotFound
from .calendar import BEIJING
from .models import Complaint, Inspection, Objection, Project, PublicityNotice, User


def open_notices() -> list[PublicityNotice]:
    """What the public board shows: notices open and not yet due, and notices paused while
    an objection is handled (A-3); closing soonest first."""
    return list(db.session.scalars(sa.select(PublicityNotice).where(sa.or_(
        PublicityNotice.status == "paused",
        sa.and_(PublicityNotice.status == "open", PublicityNotice.closes_at > now())))
        .order_by(PublicityNotice.closes_at, PublicityNotice.id)))


def shown_status(notice: PublicityNotice) -> str:
    """The status the public sees: the stored one, except that an open notice past its
    closing time (its timer not fired yet) is ``due``, never still open (A-1)."""
    if notice.status == "open" and notice.closes_at <= now():
        return "due"
    return notice.status


class NoticeNotOpen(InvalidState, NotAllowed):
    """The notice takes no objection in its state (paused, closed, stopped, due): HTTP 409
    for the API (InvalidState), still a NotAllowed for callers that catch that."""


PAUSED_REFUSAL = ("公示暂停（异议处理中）：主管部门正在核实已提出的异议，暂不受理新的异议；"
                  "异议不成立的，恢复公示后可再提出")
ENDED_REFUSAL = "公示期已结束，不再受理异议"


def add_objection(notice_id: int, data: dict[str, Any]) -> Objection:
    """Record an objection to an open notice, with its check code (``checkcodes.issued``),
    and pause the notice (A-3), in the caller's transaction: a paused notice takes no
    further objection until the procedure resumes it.
    The pause is one conditional update, so of two objections at once only one is taken."""
    notice = db.session.get(PublicityNotice, notice_id)
    if notice is None:
        raise NotFound(f"公示 {notice_id} 不存在")
    _refuse_unless_open(notice)
    try:
        form = ObjectionForm().load(data)
    except ValidationError as exc:
        raise FormInvalid(exc.messages) from None  # type: ignore[arg-type]
    paused = db.session.execute(sa.update(PublicityNotice).where(
        PublicityNotice.id == notice.id, PublicityNotice.status == "open",
        PublicityNotice.closes_at > now()).values(status="paused"))
    if paused.rowcount != 1:  # type: ignore[attr-defined]  # taken meanwhile by another
        db.session.refresh(notice)
        _refuse_unless_open(notice)
        raise NoticeNotOpen(PAUSED_REFUSAL)
    db.session.refresh(notice)
    objection = Objection(notice_id=notice.id, **form)
    db.session.add(objection)
    db.session.flush()
    checkcodes.issue(objection)
    audit.record("public", "objection_received", f"notice:{notice.id}",
                 {"objection_id": objection.id})
    return objection


def rule_objections(application_id: int, decision: str, reason: str, user: User) -> int:
    """Record the authority's ruling on the objections it has not ruled yet to the notices
    of an application (A-3): upheld or dismissed, with the reason (in the caller's
    transaction); how many were ruled."""
    notices = sa.select(PublicityNotice.id).filter_by(application_id=application_id)
    ruled = db.session.execute(
        sa.update(Objection)
        .where(Objection.notice_id.in_(notices), Objection.status == "open")
        .values(status="upheld" if decision == "uphold" else "dismissed", ruling=reason,
                ruled_by=user.id, ruled_at=now())
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    audit.record(user.username, "objection_ruled", f"application:{application_id}",
                 {"decision": decision, "objections": ruled})
    return int(ruled)


def _refuse_unless_open(notice: PublicityNotice) -> None:
    if notice.status == "paused":
        raise NoticeNotOpen(PAUSED_REFUSAL)
    if shown_status(notice) != "open":
        raise NoticeNotOpen(ENDED_REFUSAL)


@dataclass(frozen=True)
class ProjectMatch:
    """Which project a complaint is about (R-SUP-7), and what to tell the complainant."""

    project_id: int | None
    by: str | None  # "number", "name", or None when no single project was identified
    candidates: int  # projects of that name (in the jurisdiction, when one was given)
    note: str


IDENTIFIED = "已确定被投诉项目，主管部门将对其开展重点检查"

WHITESPACE = (" ", "\t", "\n", "\r", "\u00a0", "\u3000")
"""What the database side strips from names before comparing (SQLite and PostgreSQL alike)."""


def _without_whitespace(column: Any) -> Any:
    for blank in WHITESPACE:
        column = sa.func.replace(column, blank, "")
    return column


def match_project(number: str | None, name: str | None,
                  location_code: str | None = None) -> ProjectMatch:
    """R-SUP-7: the project known to the platform that a complaint names.

    By number first (case-insensitive, spaces ignored); when no number is given or it is not
    found, by the exact name (whitespace normalised), among the projects located in or
    managed by ``location_code`` when one is given. A name shared by several projects
    identifies none: the complainant is asked for the number or the jurisdiction."""
    number = "".join((number or "").split()).upper()
    if number:
        found = db.session.scalar(sa.select(Project.id).filter_by(project_number=number))
        if found is None:
            same = list(db.session.scalars(sa.select(Project.id).where(
                sa.func.upper(Project.project_number) == number).limit(2)))
            found = same[0] if len(same) == 1 else None
        if found is not None:
            return ProjectMatch(found, "number", 1, IDENTIFIED)
    wanted = " ".join((name or "").split())
    query = sa.select(Project.id, Project.name).where(
        _without_whitespace(Project.name) == "".join(wanted.split()))
    if location_code:
        query = query.where(sa.or_(Project.location_code == location_code,
                                   Project.managing_code == location_code))
    ids = [pid for pid, pname in db.session.execute(query.order_by(Project.id))
           if " ".join(pname.split()) == wanted] if wanted else []
    missed = f"未找到项目编号 {number}；" if number else ""
    if len(ids) == 1:
        return ProjectMatch(ids[0], "name", 1, f"{missed}已按项目名称{IDENTIFIED}")
    where = "所选区县内" if location_code else "平台中"
    if ids:
        ask = "项目编号" if location_code else "项目编号或所在区县"
        return ProjectMatch(None, None, len(ids),
                            f"{missed}无法确定被投诉的项目：{where}有 {len(ids)} 个名为“{wanted}”"
                            f"的项目，请补充{ask}")
    return ProjectMatch(None, None, 0, f"{missed}{where}未找到名为“{wanted}”的项目，"
                                       "投诉举报已登记，主管部门将核实处理")


def add_complaint(data: dict[str, Any]) -> Complaint:
    """Record a complaint or report of fraud with its check code (``checkcodes.issued``), in
    the caller's transaction; a complaint about a project the platform knows carries its
    id, which opens a key inspection (R-SUP-7)."""
    try:
        form = ComplaintForm().load(data)
    except ValidationError as exc:
        raise FormInvalid(exc.messages) from None  # type: ignore[arg-type]
    match = match_project(form.get("project_number"), form["project_name"],
                          form.get("location_code"))
    complaint = Complaint(project_id=match.project_id, **form)
    db.session.add(complaint)
    db.session.flush()
    checkcodes.issue(complaint)
    audit.record("public", "complaint_received", f"complaint:{complaint.id}",
                 {"project_id": match.project_id, "matched_by": match.by,
                  "candidates": match.candidates})
    return complaint


def complaint_match(complaint: Complaint) -> ProjectMatch:
    """What the complainant is told about a recorded complaint's project (R-SUP-7): the match
    made again, unless the projects changed since (then what was recorded stands)."""
    match = match_project(complaint.project_number, complaint.project_name,
                          complaint.location_code)
    if match.project_id == complaint.project_id:
        return match
    if complaint.project_id is not None:
        return ProjectMatch(complaint.project_id, None, 1, IDENTIFIED)
    return ProjectMatch(None, None, 0, "投诉举报已登记，主管部门将核实处理")


STAGES = {"received": "受理中", "inspecting": "核查中", "closed": "已办结"}
"""A filing's stage as its filer is told it (issue 18), in the order it is reached."""

FILING_KINDS = {"complaint": "投诉举报", "objection": "公示异议"}

OUTCOMES = {
    ("complaint", "genuine"): "经核查，被投诉项目的信息属实，重点检查已结束。",
    ("complaint", "false"): "经核查，被投诉项目存在信息造假，已标记为虚假项目并报送全国平台。",
    ("complaint", None): "投诉举报已办结。",
    ("objection", "upheld"): "异议成立：公示已终止，申请已退回申请单位修改。",
    ("objection", "dismissed"): "异议不成立：公示已恢复。",
}
"""What the filer is told of a closed filing, by its kind and result."""


@dataclass(frozen=True)
class Progress:
    """What the filer of a complaint or an objection may learn of it (issue 18): its kind,
    when it was filed, its stage, and once closed the outcome (with the ruling's reason for
    an objection: the reply the authority gives the objector). Nothing else: no names of
    reviewers or inspectors, no findings, no other filer's data."""

    kind: str  # complaint, objection
    number: str  # checkcodes.number_of
    filed_at: datetime
    stage: str  # a key of STAGES
    outcome: str | None = None
    reason: str | None = None

    @property
    def kind_label(self) -> str:
        return FILING_KINDS[self.kind]

    @property
    def filed_on(self) -> date:
        """The day of filing in Beijing."""
        return self.filed_at.replace(tzinfo=UTC).astimezone(BEIJING).date()

    @property
    def stage_label(self) -> str:
        return STAGES[self.stage]


def complaint_progress(complaint: Complaint) -> Progress:
    """A complaint's stage: 已办结 once its key inspection closed (whatever its result) or the
    complaint was closed, 核查中 while an inspection is open, 受理中 before (also for ever
    when no project was identified: the authority handles it outside the platform)."""
    number = checkcodes.number_of(complaint)
    inspection = db.session.scalar(sa.select(Inspection).filter_by(
        complaint_id=complaint.id).order_by(Inspection.id.desc()).limit(1))
    if inspection is not None and inspection.status == "closed":
        return Progress("complaint", number, complaint.created_at, "closed",
                        OUTCOMES.get(("complaint", inspection.result),
                                     OUTCOMES[("complaint", None)]))
    if complaint.status == "closed":
        return Progress("complaint", number, complaint.created_at, "closed",
                        OUTCOMES[("complaint", None)])
    if inspection is not None or complaint.status == "inspecting":
        return Progress("complaint", number, complaint.created_at, "inspecting")
    return Progress("complaint", number, complaint.created_at, "received")


def objection_progress(objection: Objection) -> Progress:
    """An objection's stage: 核查中 from its filing (the notice pauses and the authority's
    ruling task opens at once), 已办结 once ruled, with the outcome and the ruling's reason."""
    number, outcome = checkcodes.number_of(objection), OUTCOMES.get(("objection", objection.status))
    if outcome is None:
        return Progress("objection", number, objection.created_at, "inspecting")
    return Progress("objection", number, objection.created_at, "closed", outcome, objection.ruling)


def lookup(number: str, code: str) -> Progress | None:
    """The progress of the filing this number and check code name together; None for a wrong
    number, a wrong code or a filing made before codes existed alike."""
    row = checkcodes.find(number, code)
    if isinstance(row, Complaint):
        return complaint_progress(row)
    return objection_progress(row) if row is not None else None
