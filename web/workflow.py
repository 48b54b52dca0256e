"""Where the registry meets the engine: submitting starts a procedure, forms complete tasks,
objections reach the waiting instance. Views and the API call these; nothing else does."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from marshmallow import ValidationError

import engine
from engine.db import db
from engine.models import UserTask, WaitStatus
from forms import TASK_FORMS
from handlers.inspection import open_inspection
from registry import applications, publicity
from registry.models import Application, Complaint, Objection, PublicityNotice, Role, User
from registry.users import scope_of

PROCESS_OF_KIND = {"intake": "intake", "backfill": "backfill", "correction": "correction",
                   "grade_adjust": "grade_adjust"}
"""The procedure (BPMN process id) that runs each kind of application."""

LANE_ROLES = {"参建单位": Role.ENTERPRISE, "区县住建主管部门": Role.DISTRICT,
              "市住建委": Role.CITY}
"""The role whose users may work a task of each lane (candidate group)."""


GROUP_OF_ROLE: dict[str, str] = {str(role): group for group, role in LANE_ROLES.items()}
"""The candidate group whose tasks users of each role work."""

OBJECTION, MINISTRY_REPLY = "objection", "ministry_reply"
MESSAGES = (OBJECTION, MINISTRY_REPLY)
"""The messages the application delivers to waiting procedures (A-3 objections, R-COR-5
the Ministry's reply): the only names a diagram's catch events may wait for."""


def business_key(application_id: int) -> str:
    return f"application-{application_id}"


def start_data(application: Application) -> dict[str, Any]:
    """What a procedure knows of its application when it starts."""
    project = application.project
    return {"application_id": application.id, "kind": application.kind,
            "category": project.category, "project_id": project.id,
            "managed_by": "city" if project.city_managed else "district",
            "scope": project.scope, "applicant": application.applicant_id,
            "stages": application.stages, "target_grade": application.target_grade}


def submit(application_id: int, user: User) -> Application:
    """Submit an application and start its procedure, in one transaction."""
    try:
        application = applications.prepare_submission(application_id, user)
        if application.instance_id is not None:  # a resubmission goes through the procedure
            raise applications.NotAllowed("该申请的流程已在进行中，请在待办任务中重新提交")
        instance = engine.start(PROCESS_OF_KIND[application.kind],
                                business_key=business_key(application.id),
                                data=start_data(application), scope=application.project.scope,
                                area=application.project.location_code, actor=user.username)
    except BaseException:
        db.session.rollback()
        raise
    application.instance_id = instance.id
    db.session.commit()
    return application


def user_scope(user: User) -> str | None:
    if user.role == Role.ENTERPRISE:
        return f"org:{user.organisation_id}"
    return scope_of(user)


def may_work(user: User, task: UserTask) -> bool:
    """Whether ``user`` may claim or complete ``task``: the lane's role, the task's scope."""
    role = LANE_ROLES.get(task.candidate_group or "")
    return role is not None and user.role == role and user_scope(user) == task.scope


def visible_task(task_id: str, user: User) -> UserTask:
    """``open_task`` for people: another's task answers NotFound (it does not exist for
    them), never a hint that it exists."""
    try:
        return open_task(task_id, user)
    except applications.NotAllowed:
        raise engine.NotFound(f"任务 {task_id} 不存在") from None


def open_task(task_id: str, user: User) -> UserTask:
    """The task if ``user`` may work it and it is still open: engine.NotFound when there is
    none, applications.NotAllowed when it is not theirs, engine.Conflict when someone has
    already done it."""
    task = db.session.get(UserTask, task_id)
    if task is None:
        raise engine.NotFound(f"任务 {task_id} 不存在")
    if not may_work(user, task):
        raise applications.NotAllowed("该任务不在您的办理范围内")
    if task.status != WaitStatus.OPEN:
        raise engine.Conflict("该任务已被办理（可能他人已先提交）")
    return task


def json_safe(value: Any) -> Any:
    """Form data as JSON: dates in ISO form, decimals as strings."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def complete_task(task_id: str, raw: dict[str, Any], user: User) -> engine.models.Instance:
    """Validate ``raw`` with the task's form and complete the task as ``user``.

    Raises engine.NotFound, applications.NotAllowed, applications.FormInvalid, engine.Conflict.
    """
    task = open_task(task_id, user)
    schema = TASK_FORMS[task.form_key or ""]()
    try:
        data = schema.load(raw)
    except ValidationError as exc:
        raise applications.FormInvalid(exc.messages) from None  # type: ignore[arg-type]
    return engine.complete_task(task_id, json_safe(data), actor=user.username)


def raise_objection(notice_id: int, raw: dict[str, Any]) -> Objection:
    """Record an objection and deliver it to the procedure waiting on the notice (A-3)."""
    try:
        objection = publicity.add_objection(notice_id, raw)
        application_id = objection_application(objection)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    payload = {"objection_id": objection.id, "content": objection.content}
    engine.correlate(OBJECTION, business_key(application_id), payload, actor="public")
    return objection


def ministry_replied(application_id: int, reply: dict[str, Any]) -> int:
    """Deliver the Ministry's reply to a correction waiting for it (R-COR-5); returns how many
    instances took it (0 when none waits). ``reply`` holds ``agreed`` and ``reply_number``."""
    try:
        data = TASK_FORMS["ministry_reply"]().load(reply)
    except ValidationError as exc:
        raise applications.FormInvalid(exc.messages) from None  # type: ignore[arg-type]
    return engine.correlate(MINISTRY_REPLY, business_key(application_id), json_safe(data),
                            actor="ministry")


def file_complaint(raw: dict[str, Any]) -> Complaint:
    """Record a complaint; a complaint about a known project opens a key inspection (R-SUP-7)."""
    try:
        complaint = publicity.add_complaint(raw)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if complaint.project_id is not None:
        open_inspection(complaint.project_id, "complaint", complaint_id=complaint.id)
    return complaint


def objection_application(objection: Objection) -> int:
    notice = db.session.get(PublicityNotice, objection.notice_id)
    assert notice is not None
    return notice.application_id
