"""The public side of publicity: objections to open notices, and complaints (A-3, R-SUP-7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError

from engine.clock import now
from engine.db import db
from engine.errors import InvalidState
from forms.tasks import Complaint as ComplaintForm
from forms.tasks import Objection as ObjectionForm

from . import audit
from .applications import FormInvalid, NotAllowed, NotFound
from .models import Complaint, Objection, Project, PublicityNotice, User


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
    """Record an objection to an open notice and pause the notice (A-3), in the caller's
    transaction: a paused notice takes no further objection until the procedure resumes it.
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
    """Record a complaint or report of fraud (in the caller's transaction); a complaint about
    a project the platform knows carries its id, which opens a key inspection (R-SUP-7)."""
    try:
        form = ComplaintForm().load(data)
    except ValidationError as exc:
        raise FormInvalid(exc.messages) from None  # type: ignore[arg-type]
    match = match_project(form.get("project_number"), form["project_name"],
                          form.get("location_code"))
    complaint = Complaint(project_id=match.project_id, **form)
    db.session.add(complaint)
    db.session.flush()
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
