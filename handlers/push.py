"""``national_push.application``: send an application's stage data with its grades to the
national platform, through the outbox (A-2, R-IB-3, R-BF-3).

The outbox row is keyed by the job's idempotency key: however often the job runs (a retry,
a worker killed mid-push), the platform sees one push.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.clock import now
from engine.db import db
from lifecycle import events
from registry.models import Application, Project, Push, StageRecord

from . import params as params_
from .national.client import NationalError, client

ENTRY_GRADE = "D"
"""A-2: a stage entered through intake or backfill reaches the platform with grade D."""


def _outbox(key: str, kind: str, project: Project, payload: dict[str, Any]) -> Push:
    """The outbox row of this push (written once, committed before anything is sent)."""
    row = db.session.scalar(sa.select(Push).filter_by(idempotency_key=key))
    if row is None:
        summary = {"project_number": project.project_number, "name": project.name,
                   "category": project.category, "location_code": project.location_code}
        row = Push(idempotency_key=key, kind=kind, project_id=project.id,
                   payload={"project": summary, **payload})
        db.session.add(row)
        db.session.commit()
    return row


def _of(application: Application) -> dict[str, Any]:
    return {"application_id": application.id, "kind": application.kind}


def _send_for(application: Application, row: Push) -> str | None:
    """Send an application's push; its status says so before and after (lifecycle)."""
    events.pushing(application)
    db.session.commit()
    national_id = _send(row)
    events.pushed(application)
    db.session.commit()
    return national_id


def push_grade(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Send a stage's new grade (R-GA-1..5)."""
    application = params_.application(params)
    grades = {stage: application.target_grade for stage in application.stages}
    row = _outbox(str(context["idempotency_key"]), "grade", application.project,
                  {**_of(application), "stages": {}, "grades": grades})
    return {"national_id": _send_for(application, row),
            "pushed_grade": application.target_grade}


def push_correction(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Send applied corrections with the stages' current grades (R-COR-5)."""
    application = params_.application(params)
    grades = dict(db.session.execute(sa.select(StageRecord.stage, StageRecord.grade).where(
        StageRecord.project_id == application.project_id,
        StageRecord.stage.in_(application.stages))).all())
    row = _outbox(str(context["idempotency_key"]), "correction", application.project,
                  {**_of(application), "stages": application.data, "grades": grades})
    return {"national_id": _send_for(application, row)}


def push_fraud_mark(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """A-6: send the 虚假项目 mark of a project confirmed false by a key inspection."""
    inspection = params_.inspection(params)
    project = db.session.get(Project, inspection.project_id)
    assert project is not None
    row = _outbox(str(context["idempotency_key"]), "fraud_mark", project, {
        "inspection_id": inspection.id, "stages": {}, "grades": {}, "marked_false": True})
    return {"national_id": _send(row)}


def push_application(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    application = params_.application(params)
    grades = {stage: ENTRY_GRADE for stage in application.stages}
    row = _outbox(str(context["idempotency_key"]), "stage", application.project,
                  {**_of(application), "stages": application.data, "grades": grades})
    return {"national_id": _send_for(application, row), "pushed_grade": ENTRY_GRADE}


def _send(row: Push) -> str | None:
    """Send an outbox row unless it was sent already; record the attempt either way."""
    if row.status != "sent":
        payload = row.payload
        try:
            answer = client().push(row.idempotency_key, row.kind, payload["project"],
                                   {"stages": payload["stages"], "grades": payload["grades"]})
        except NationalError as exc:
            row.attempts += 1
            row.last_error = str(exc)
            db.session.commit()
            raise
        row.status, row.national_id, row.sent_at = "sent", answer["national_id"], now()
        row.attempts += 1
        db.session.commit()
    return row.national_id
