"""Who may work which task, and completing a task: the form validated, what it says about
its application checked, the step and the application's move in one transaction."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import sqlalchemy as sa

import engine
from engine.clock import now
from engine.db import db
from engine.models import Instance, InstanceStatus, UserTask, WaitStatus
from registry import applications, publicity
from registry.models import Application, AppStatus, Role, User
from registry.users import scope_of

from . import forms, guards, keys, states

LANE_ROLES = {"参建单位": Role.ENTERPRISE, "区县住建主管部门": Role.DISTRICT,
              "市住建委": Role.CITY}
"""The role whose users work the tasks of each lane (candidate group); registered in the
engine's catalog, where validation checks every user task's lane against it."""

AMENDMENT = "amendment"
"""The form of the applicant's answer to a return (A-4): resubmit or withdraw."""
RULING = "objection_ruling"
"""The form of the authority's ruling on an objection (A-3): upheld or dismissed."""


def user_scope(user: User) -> str | None:
    if user.role == Role.ENTERPRISE:
        return f"org:{user.organisation_id}"
    return scope_of(user)


def group_of(user: User) -> str | None:
    """The candidate group whose tasks ``user`` works."""
    return engine.catalog().group_of(user.role)


def may_work(user: User, task: UserTask) -> bool:
    """Whether ``user`` may claim or complete ``task``: the lane's role, the task's scope."""
    role = engine.catalog().role_of(task.candidate_group)
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


SUSPENDED = "该任务所属流程已暂停办理（运维人员已挂起该流程），恢复后方可提交办理结果"
"""Why a task of a suspended instance is shown but cannot be worked."""


class TaskSuspended(engine.Conflict):
    """The task's instance is suspended: nothing of it may be done until ops resume it."""


def suspended_instances(instance_ids: set[int]) -> set[int]:
    """Which of these instances are suspended (their tasks shown as 暂停办理): one query."""
    if not instance_ids:
        return set()
    return set(db.session.scalars(sa.select(Instance.id).where(
        Instance.id.in_(instance_ids), Instance.status == InstanceStatus.SUSPENDED)))


def check_workable(task: UserTask) -> None:
    """TaskSuspended when ``task``'s instance is suspended (checked before its form, so that
    nobody corrects a form only to be refused for this)."""
    if suspended_instances({task.instance_id}):
        raise TaskSuspended(SUSPENDED)


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


def complete_task(task_id: str, raw: dict[str, Any], user: User) -> Instance:
    """Validate ``raw`` with the task's form and complete the task as ``user``; what the
    form says about its application (an answer to a return moves it, a ruling is recorded on
    the objections) is written in the same transaction as the step.

    Raises engine.NotFound, applications.NotAllowed, applications.FormInvalid,
    rules.RuleViolation, engine.Conflict (states.StatusConflict, TaskSuspended),
    engine.InvalidState.
    """
    return complete(open_task(task_id, user), raw, user)


def complete(task: UserTask, raw: dict[str, Any], user: User) -> Instance:
    """``complete_task`` for a task the caller has opened already (``open_task`` or
    ``visible_task``): not read again."""
    check_workable(task)
    data = forms.of_task(task).load(raw)
    application = keys.application_of(task.instance_id)
    with engine.transaction():
        if application is not None:
            guards.check_task(application, task.form_key, data)
            if task.form_key == AMENDMENT:
                _answer(application, data["action"], user)
            if task.form_key == RULING:
                publicity.rule_objections(application.id, data["decision"], data["reason"],
                                          user)
        return engine.complete_task(task.id, json_safe(data), actor=user.username)


def _answer(application: Application, action: str, user: User) -> None:
    if action == "resubmit":
        guards.check_submittable(application)
        resubmitted(application, user.username)
    else:
        states.move(application, AppStatus.WITHDRAWN, user.username)


def resubmitted(application: Application, actor: str, idempotent: bool = False) -> None:
    """A returned application goes back to review: another round (A-4)."""
    states.move(application, AppStatus.SUBMITTED, actor, idempotent=idempotent,
                rounds=application.rounds + 1, submitted_at=now())


def answer_return(application: Application, user: User, action: str, note: str = "") -> None:
    """Complete the applicant's open answer to a return (``resubmit`` or ``withdraw``)."""
    task = db.session.scalar(sa.select(UserTask).filter_by(
        instance_id=application.instance_id, status=WaitStatus.OPEN, form_key=AMENDMENT))
    if task is None:
        raise states.StatusConflict("该申请当前没有待处理的退回")
    raw = {"action": action, **({"note": note.strip()} if note.strip() else {})}
    complete_task(task.id, raw, user)  # checked as any completion: the lane and the scope
