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
from registry.models import Application, Push

from .national.client import NationalError, client

ENTRY_GRADE = "D"
"""A-2: a stage entered through intake or backfill reaches the platform with grade D."""


def _outbox(key: str, application: Application) -> Push:
    row = db.session.scalar(sa.select(Push).filter_by(idempotency_key=key))
    if row is None:
        project = application.project
        row = Push(idempotency_key=key, kind="stage", project_id=project.id, payload={
            "application_id": application.id, "kind": application.kind,
            "project": {"project_number": project.project_number, "name": project.name,
                        "category": project.category, "location_code": project.location_code},
            "stages": application.data,
            "grades": {stage: ENTRY_GRADE for stage in application.stages}})
        db.session.add(row)
        db.session.commit()
    return row


def push_application(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    application = db.session.get(Application, int(params["application_id"]))
    if application is None:
        raise LookupError(f"申请 {params['application_id']} 不存在")
    row = _outbox(str(context["idempotency_key"]), application)
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
    return {"national_id": row.national_id, "pushed_grade": ENTRY_GRADE}
