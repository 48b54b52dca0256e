"""Registry steps of the procedures: an application's status, and its entry into the records.

``registry.set_status`` moves an application (returned, resubmitted, withdrawn, rejected);
``registry.apply_entry`` writes the pushed stages as new versions with grade D (A-2);
``registry.apply_correction`` and ``registry.set_grade`` write a decided correction or grade.
Every status move goes through ``lifecycle``; all are idempotent: applying them twice has the
effect of applying them once.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.clock import now
from engine.db import db
from lifecycle import events, reviews
from registry import rules
from registry.applications import record_stage
from registry.models import AppStatus, Kind, Source, StageRecord

from . import params as params_


def set_status(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    application = params_.application(params)
    reviewed = reviews.snapshot(application.data)  # before the applicant may amend it
    events.set_by_diagram(application, AppStatus(params["status"]))
    db.session.commit()
    result: dict[str, Any] = {"application_status": application.status,
                              "rounds": application.rounds}
    if application.status == AppStatus.RETURNED:  # what this round's reviewers saw
        result[reviews.RETURNED_DATA] = reviewed
    return result


def apply_entry(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Record the stages of a pushed intake/backfill application with grade D (A-2); the
    project takes the national platform's number if it has none yet."""
    application = params_.application(params)
    if not events.is_done(application):
        source = Source.BACKFILL if application.kind == Kind.BACKFILL else Source.BUSINESS
        for stage, payload in application.data.items():
            record_stage(application.project_id, stage, payload, source=source,
                         changed_by=f"application-{application.id}",
                         reason="入库" if application.kind == Kind.INTAKE else "补录",
                         application_id=application.id, grade=params.get("grade", "D"))
        project = application.project
        project.on_national_platform = True
        project.national_id = project.national_id or params.get("national_id")
        if not project.project_number and len(project.national_id or "") <= 16:
            project.project_number = project.national_id  # the number people know it by
        events.entered(application)
        db.session.commit()
    return {"application_status": application.status}


def apply_correction(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Write the corrected stages as new versions, once the Ministry agreed (R-COR-5); the
    earlier versions stay. The push follows."""
    application = params_.application(params)
    if application.status == AppStatus.SUBMITTED:
        reason = f"勘误（部函 {params.get('reply_number') or '-'}）"
        for stage, payload in application.data.items():
            record_stage(application.project_id, stage, payload, source=Source.BUSINESS,
                         changed_by=f"application-{application.id}", reason=reason,
                         application_id=application.id)
        events.decision_applied(application)
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
    (R-GA-2) in case the grade changed since the application was opened. The push follows."""
    application = params_.application(params)
    if application.status == AppStatus.SUBMITTED:
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
        events.decision_applied(application)
        db.session.commit()
    return {"application_status": application.status}
