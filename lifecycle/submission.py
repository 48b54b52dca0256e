"""What the applicant does to an application: amend it, submit it (its procedure starts),
withdraw it. Each is one transaction; a refusal leaves nothing behind."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

import engine
from engine.clock import now
from engine.db import db
from registry import applications, audit
from registry.models import EDITABLE, Application, AppStatus, User

from . import guards, keys, states, tasks

PROCESS_OF_KIND = {"intake": "intake", "backfill": "backfill", "correction": "correction",
                   "grade_adjust": "grade_adjust"}
"""The procedure (BPMN process id) that runs each kind of application."""


def start_data(application: Application) -> dict[str, Any]:
    """What a procedure knows of its application when it starts."""
    project = application.project
    return {"application_id": application.id, "kind": application.kind,
            "category": project.category, "project_id": project.id,
            "managed_by": "city" if project.city_managed else "district",
            "scope": project.scope, "applicant": application.applicant_id,
            "stages": application.stages, "target_grade": application.target_grade}


def submit(application_id: int, user: User, note: str = "") -> Application:
    """Submit a draft: it moves to review and its procedure starts, in one transaction. A
    returned application is resubmitted through its procedure's answer to the return."""
    application = applications.get_own(application_id, user)
    if application.status == AppStatus.RETURNED:
        tasks.answer_return(application, user, "resubmit", note)
        return application
    with engine.transaction():
        guards.check_submittable(application)
        states.move(application, AppStatus.SUBMITTED, user.username, submitted_at=now())
        instance = engine.start(PROCESS_OF_KIND[application.kind],
                                business_key=keys.business_key(application.id),
                                data=start_data(application), scope=application.project.scope,
                                area=application.project.location_code, actor=user.username,
                                started_by=user.username)  # 我发起的: the submitter's
        application.instance_id = instance.id
    return application


def withdraw(application_id: int, user: User, note: str = "") -> Application:
    """Withdraw a draft, or a returned application instead of amending it (A-4); an
    application under review, in publicity or decided cannot be withdrawn."""
    application = applications.get_own(application_id, user)
    if application.status == AppStatus.RETURNED:
        tasks.answer_return(application, user, "withdraw", note)
        return application
    with engine.transaction():
        states.move(application, AppStatus.WITHDRAWN, user.username)
    return application


def amend(application_id: int, user: User, stages: dict[str, Any]) -> Application:
    """Replace the stage data of a draft or returned application, with every form and rule
    check of opening it (A-4); refused once it has moved on, even by a racing submit."""
    application = applications.get_own(application_id, user)
    if application.status not in EDITABLE:
        raise states.StatusConflict(
            f"申请当前状态为“{states.label(application.status)}”，不能修改")
    data = applications.amended_data(application, stages)
    with engine.transaction():
        changed = db.session.execute(
            sa.update(Application)
            .where(Application.id == application.id, Application.status.in_(EDITABLE))
            .values(data=data, stages=sorted(data))
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if not changed:
            raise states.StatusConflict("申请已提交或已被他人处理，不能修改")
        audit.record(user.username, "application_amended", f"application:{application.id}",
                     {"stages": sorted(data)})
    db.session.refresh(application)
    return application
