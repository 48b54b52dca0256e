"""What moves an application from outside the applicant: its procedure's service tasks
(returned, publicity, push, entry), an objection from the public, the Ministry's reply, and
an incident on its push. Handlers and web call these; each runs in the caller's transaction
(handlers) or is one transaction (objection, reply)."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import engine
from engine.db import db
from engine.models import Instance
from registry import publicity
from registry.models import Application, AppStatus, Kind, Objection, PublicityNotice

from . import forms, keys, states, tasks

SYSTEM = "system"

OBJECTION, MINISTRY_REPLY = "objection", "ministry_reply"
MESSAGES = (OBJECTION, MINISTRY_REPLY)
"""The messages the application delivers to waiting procedures (A-3 objections, R-COR-5
the Ministry's reply): the only names a diagram's catch events may wait for."""

DIAGRAM_MOVES = {AppStatus.RETURNED, AppStatus.SUBMITTED, AppStatus.WITHDRAWN,
                 AppStatus.REJECTED}
"""The statuses a diagram may set by name (``registry.set_status``)."""

RECORDED_BEFORE_PUSH = (Kind.CORRECTION, Kind.GRADE_ADJUST)
"""Kinds whose decision is applied to the records before the push: the push ends them.
Intake and backfill are recorded after the push (A-2): the entry ends them."""


def set_by_diagram(application: Application, target: AppStatus) -> None:
    """A diagram's ``registry.set_status``: idempotent (a job run twice moves once)."""
    if target not in DIAGRAM_MOVES:
        raise ValueError(f"流程不能直接把申请设为“{states.label(target)}”")
    if target == AppStatus.SUBMITTED:
        tasks.resubmitted(application, SYSTEM, idempotent=True)
    else:
        states.move(application, target, SYSTEM, idempotent=True)


def publicity_opened(application: Application) -> None:
    """R-IB-3: the notice is on the board (again, after a dismissed objection)."""
    states.move(application, AppStatus.IN_PUBLICITY, SYSTEM, idempotent=True)


def publicity_ended(application: Application) -> None:
    """A-1: publicity ended with no objection standing: the push follows."""
    pushing(application)


def decision_applied(application: Application) -> None:
    """A correction or a grade was written to the records: the push follows."""
    pushing(application)


def pushing(application: Application) -> None:
    """The push to the national platform starts (or starts again after a failure)."""
    if application.status not in (AppStatus.PUSHING, AppStatus.APPROVED):
        states.move(application, AppStatus.PUSHING, SYSTEM)


def pushed(application: Application) -> None:
    """The platform took the push: a correction or grade adjustment is done (an intake or
    backfill is done once its entry is recorded)."""
    if application.kind in RECORDED_BEFORE_PUSH:
        states.move(application, AppStatus.APPROVED, SYSTEM, idempotent=True)


def entered(application: Application) -> None:
    """A-2: the pushed stages are in the records: intake and backfill are done."""
    states.move(application, AppStatus.APPROVED, SYSTEM, idempotent=True)


def is_done(application: Application) -> bool:
    return application.status == AppStatus.APPROVED


def incident_opened(instance: Instance, element_id: str) -> None:
    """Engine listener: a push that ran out of retries shows on its application."""
    application = keys.application_of(instance)
    if application is not None and application.status == AppStatus.PUSHING:
        with suppress(states.StatusConflict):  # moved meanwhile: the incident stays recorded
            states.move(application, AppStatus.PUSH_FAILED, SYSTEM)


def raise_objection(notice_id: int, raw: dict[str, Any]) -> Objection:
    """Record an objection, move the application, and deliver the objection to the procedure
    waiting on the notice (A-3): one transaction."""
    with engine.transaction():
        objection = publicity.add_objection(notice_id, raw)
        notice = db.session.get(PublicityNotice, objection.notice_id)
        assert notice is not None
        application = db.session.get(Application, notice.application_id)
        assert application is not None
        states.move(application, AppStatus.OBJECTION, "public")
        payload = {"objection_id": objection.id, "content": objection.content}
        if not engine.correlate(OBJECTION, keys.business_key(application.id), payload,
                                actor="public"):
            raise states.StatusConflict("该公示当前不受理异议（流程不在等待异议）")
    return objection


def ministry_replied(application_id: int, reply: dict[str, Any]) -> int:
    """Deliver the Ministry's reply to a correction waiting for it (R-COR-5); returns how many
    instances took it (0 when none waits). ``reply`` holds ``agreed`` and ``reply_number``."""
    data = forms.task_form("ministry_reply").load(reply)
    with engine.transaction():
        return engine.correlate(MINISTRY_REPLY, keys.business_key(application_id),
                                tasks.json_safe(data), actor="ministry")
