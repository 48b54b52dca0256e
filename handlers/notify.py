"""In-app notices: a task's group hears of it when it arrives, an applicant when its
application moves. Written in the transaction of the step or handler that causes them."""

from __future__ import annotations

from typing import Any

from engine.db import db
from registry.models import Application, Notification

STATUS_TEXT = {"submitted": "已重新提交", "returned": "被退回，请按意见修改",
               "withdrawn": "已撤回", "approved": "已办结", "rejected": "未获同意"}


def task_audience(scope: str | None, group: str | None) -> str:
    return f"{scope or '-'}|{group or '-'}"


def tasks_arrived(tasks: list[Any]) -> None:
    """Task listener: one notice per new user task, to its group in its scope."""
    for task in tasks:
        db.session.add(Notification(audience=task_audience(task.scope, task.candidate_group),
                                    title=f"新的待办任务: {task.name}",
                                    link=f"/tasks/{task.id}"))


def application_moved(application: Application) -> None:
    """A notice to the applicant organisation (caller commits)."""
    text = STATUS_TEXT.get(application.status, application.status)
    db.session.add(Notification(audience=f"org:{application.applicant_id}",
                                title=f"您的申请（{application.project.name}）{text}",
                                link=f"/applications/{application.id}"))
