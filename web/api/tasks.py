"""``/api/v1/tasks``: the caller's inbox (its lane's group in its scope), claim, complete."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

import engine
from engine import queries
from engine.clock import now
from engine.db import db
from engine.models import UserTask
from forms.api import TaskOut, TaskQuery
from forms.processes_api import FormOut
from lifecycle import forms, tasks
from registry import applications as apps
from registry.models import User

from .auth import signed_in, signed_in_user

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="待办任务")



def _task(task_id: str, user: User) -> UserTask:
    """An open task the user may work: 404 for other people's tasks (they do not exist for
    them), 409 for one of theirs that is no longer open (someone was first)."""
    return tasks.visible_task(task_id, user)


@blp.get("")
@signed_in
@blp.arguments(TaskQuery, location="query")
@blp.response(200, TaskOut(many=True))
def inbox(args: dict[str, Any]) -> Any:
    """Open tasks of the caller's group and scope, oldest first."""
    user = signed_in_user()
    group, scope = tasks.group_of(user), tasks.user_scope(user)
    if group is None or scope is None:
        return []
    return queries.inbox(group, scope, assignee=user.username if args["mine"] else None,
                         form_key=args.get("form_key"), process=args.get("process"),
                         due_before=now() if args["overdue"] else None,
                         area=args.get("jurisdiction") or None,
                         page=args["page"], per_page=args["per_page"])


@blp.post("/<task_id>/claim")
@signed_in
@blp.response(200, TaskOut)
def claim(task_id: str) -> Any:
    """Take the task; 409 if someone else holds it."""
    task = _task(task_id, signed_in_user())
    engine.claim(task.id, signed_in_user().username)
    return db.session.get(UserTask, task.id)


@blp.post("/<task_id>/unclaim")
@signed_in
@blp.response(200, TaskOut)
def unclaim(task_id: str) -> Any:
    task = _task(task_id, signed_in_user())
    engine.unclaim(task.id, signed_in_user().username)
    return db.session.get(UserTask, task.id)


@blp.get("/<task_id>/form")
@signed_in
@blp.response(200, FormOut)
def form(task_id: str) -> Any:
    """The task's form: a product form (``marshmallow``) or the one deployed with its
    procedure (``form-js``, ``json-schema``: ``document`` is what the browser renders), and
    the JSON Schema of the data ``complete`` takes. 404 for a task that is not the caller's."""
    return forms.of_task(_task(task_id, signed_in_user())).described()


@blp.post("/<task_id>/complete")
@signed_in
@blp.response(200, TaskOut(many=True))
@blp.doc(requestBody={"content": {"application/json": {"schema": {"type": "object"}}}})
def complete(task_id: str) -> Any:
    """Complete with the task's form (GET /api/v1/tasks/{id}/form; 422 names the fields); answers
    the instance's open tasks after the step. 409 when someone else was first."""
    user = signed_in_user()
    task = _task(task_id, user)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise apps.FormInvalid({"json": ["请求体应为 JSON 对象"]})
    instance = tasks.complete(task, data, user)
    return queries.open_tasks(instance.id)
