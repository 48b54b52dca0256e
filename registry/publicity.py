"""The public side of publicity: objections to open notices, and complaints (A-3, R-SUP-7)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError

from engine.clock import now
from engine.db import db
from forms.tasks import Complaint as ComplaintForm
from forms.tasks import Objection as ObjectionForm

from . import audit
from .applications import FormInvalid, NotAllowed, NotFound
from .models import Complaint, Objection, Project, PublicityNotice


def open_notices() -> list[PublicityNotice]:
    return list(db.session.scalars(sa.select(PublicityNotice).where(
        PublicityNotice.status == "open").order_by(PublicityNotice.closes_at)))


def add_objection(notice_id: int, data: dict[str, Any]) -> Objection:
    """Record an objection to an open notice (in the caller's transaction)."""
    notice = db.session.get(PublicityNotice, notice_id)
    if notice is None:
        raise NotFound(f"公示 {notice_id} 不存在")
    if notice.status != "open" or notice.closes_at <= now():
        raise NotAllowed("公示期已结束，不再受理异议")
    try:
        form = ObjectionForm().load(data)
    except ValidationError as exc:
        raise FormInvalid(exc.messages) from None  # type: ignore[arg-type]
    objection = Objection(notice_id=notice.id, **form)
    db.session.add(objection)
    db.session.flush()
    audit.record("public", "objection_received", f"notice:{notice.id}",
                 {"objection_id": objection.id})
    return objection


def add_complaint(data: dict[str, Any]) -> Complaint:
    """Record a complaint or report of fraud (in the caller's transaction)."""
    try:
        form = ComplaintForm().load(data)
    except ValidationError as exc:
        raise FormInvalid(exc.messages) from None  # type: ignore[arg-type]
    project_id = None
    if form.get("project_number"):
        project_id = db.session.scalar(sa.select(Project.id).filter_by(
            project_number=form["project_number"]))
    complaint = Complaint(project_id=project_id, **form)
    db.session.add(complaint)
    db.session.flush()
    audit.record("public", "complaint_received", f"complaint:{complaint.id}",
                 {"project_id": project_id})
    return complaint
