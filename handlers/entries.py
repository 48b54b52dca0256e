"""Registry steps of the procedures: an application's status, and its entry into the records.

``registry.set_status`` moves an application (returned, resubmitted, withdrawn, rejected);
``registry.apply_entry`` writes the pushed stages as new versions with grade D (A-2).
Both are idempotent: applying them twice has the effect of applying them once.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.clock import now
from engine.db import db
from registry import rules
from registry.applications import record_stage
from registry.models import AppStatus, Kind, Source, StageRecord

from . import notify
from . import params as params_

MOVES = {
    AppStatus.RETURNED: {AppStatus.SUBMITTED},
    AppStatus.SUBMITTED: {AppStatus.RETURNED},
    AppStatus.WITHDRAWN: {AppStatus.RETURNED, AppStatus.SUBMITTED, AppStatus.DRAFT},
    AppStatus.REJECTED: {AppStatus.SUBMITTED},
}
"""Target status -> the statuses it may come from."""


def set_status(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    application = params_.application(params)
    target = AppStatus(params["status"])
    if application.status != target:
        if application.status not in MOVES[target]:
            raise ValueError(f"申请状态不能从 {application.status} 变为 {target}")
        if target == AppStatus.SUBMITTED:
            application.rounds += 1  # a resubmission after a return
        if target == AppStatus.REJECTED:
            application.decided_at = now()
        application.status = target
        notify.application_moved(application)
        db.session.commit()
    return {"application_status": application.status, "rounds": application.rounds}


def apply_entry(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Record the stages of a pushed intake/backfill application with grade D (A-2)."""
    application = params_.application(params)
    if application.status != AppStatus.APPROVED:
        source = Source.BACKFILL if application.kind == Kind.BACKFILL else Source.BUSINESS
        for stage, payload in application.data.items():
            record_stage(application.project_id, stage, payload, source=source,
                         changed_by=f"application-{application.id}",
                         reason="入库" if application.kind == Kind.INTAKE else "补录",
                         application_id=application.id, grade=params.get("grade", "D"))
        project = application.project
        project.on_national_platform = True
        project.national_id = project.national_id or params.get("national_id")
        application.status, application.decided_at = AppStatus.APPROVED, now()
        notify.application_moved(application)
        db.session.commit()
    return {"application_status": application.status}


def apply_correction(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Write the corrected stages as new versions, once the Ministry agreed (R-COR-5); the
    earlier versions stay."""
    application = params_.application(params)
    if application.status != AppStatus.APPROVED:
        reason = f"勘误（部函 {params.get('reply_number') or '-'}）"
        for stage, payload in application.data.items():
            record_stage(application.project_id, stage, payload, source=Source.BUSINESS,
                         changed_by=f"application-{application.id}", reason=reason,
                         application_id=application.id)
        application.status, application.decided_at = AppStatus.APPROVED, now()
        notify.application_moved(application)
        db.session.commit()
    return {"application_status": application.status}


def mark_false(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """A-6: a confirmed false entry: every stage record of the project is marked 虚假项目."""
    inspection = params_.inspection(params)
    records = db.session.scalars(sa.select(StageRecord).filter_by(
        project_id=inspection.project_id))
    for record in records:
        record.marked_false = True
    inspection.status, inspection.result, inspection.closed_at = "closed", "false", now()
    db.session.commit()
    return {"marked_false": True}


def set_grade(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Give the application's stage its new grade (R-GA-3..5), checking the step again
    (R-GA-2) in case the grade changed since the application was opened."""
    application = params_.application(params)
    if application.status != AppStatus.APPROVED:
        [stage] = application.stages
        record = db.session.scalar(sa.select(StageRecord).filter_by(
            project_id=application.project_id, stage=stage))
        if record is None:
            raise LookupError(f"项目没有“{stage}”环节信息")
        target = str(application.target_grade)
        if record.grade != target:
            rules.check_grade_step(application.project, record, target)
            record.grade = target
            record.updated_at = now()
        application.status, application.decided_at = AppStatus.APPROVED, now()
        notify.application_moved(application)
        db.session.commit()
    return {"application_status": application.status}
