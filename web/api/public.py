"""Public, no sign-in: the publicity board, objections, complaints (rate-limited); and the
permit-issuing system's feed (integration token); the auth token; form JSON Schemas."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint, abort
from marshmallow import fields

from engine.db import db
from engine.queue import queues
from forms import TASK_FORMS
from forms.api import NoticeOut, SignIn, Token, UserOut
from forms.jsonschema import json_schema
from lifecycle import events, forms
from registry import applications as apps
from registry import permits, publicity
from registry.models import PublicityNotice
from web import workflow
from web.addresses import client_address
from web.pages.labels import NOTICE_STATUSES

from .auth import integration, issue, token_seconds

blp = Blueprint("public", __name__, url_prefix="/api/v1", description="公开接口、登录与集成")

PUBLIC_POSTS_PER_HOUR = 20
"""Objections and complaints one address may post per hour."""


def limit_public_posts() -> None:
    q = queues()
    key = f"{q.name}:public-posts:{client_address()}"
    redis = q.connection
    count = redis.incr(key)
    if count == 1:
        redis.expire(key, 3600)
    if count > PUBLIC_POSTS_PER_HOUR:
        abort(429, message="提交过于频繁，请稍后再试")


def _json() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise apps.FormInvalid({"json": ["请求体应为 JSON 对象"]})
    return data


@blp.post("/auth/token")
@blp.arguments(SignIn)
@blp.response(200, Token)
def token(data: dict[str, Any]) -> Any:
    """Sign in; 401 on a wrong password, 429 after repeated failures."""
    user, value = issue(data["username"], data["password"])
    return {"token": value, "expires_in": token_seconds(), "user": UserOut().dump(user)}


class PublicNoticeOut(NoticeOut):
    """A notice as the public sees it: ``status`` is open, paused (an objection is being
    handled, A-3), due (past its end, about to close), closed or stopped; ``status_label``
    says it in Chinese."""

    status = fields.Function(publicity.shown_status, metadata={  # type: ignore[assignment]
        "type": "string", "enum": list(NOTICE_STATUSES)})
    status_label = fields.Function(
        lambda row: NOTICE_STATUSES[publicity.shown_status(row)], metadata={"type": "string"})


@blp.get("/publicity")
@blp.response(200, PublicNoticeOut(many=True))
def notices() -> Any:
    """Projects under publicity, closing soonest first: open ones before their end, and paused
    ones (``status`` paused, 公示暂停（异议处理中）: they take no objection until resumed)."""
    return publicity.open_notices()


@blp.get("/publicity/<int(max=2147483647):notice_id>")
@blp.response(200, PublicNoticeOut)
def notice(notice_id: int) -> Any:
    row = db.session.get(PublicityNotice, notice_id)
    if row is None:
        raise apps.NotFound(f"公示 {notice_id} 不存在")
    return row


@blp.post("/publicity/<int(max=2147483647):notice_id>/objections")
@blp.doc(requestBody={"content": {"application/json": {"schema": json_schema(
    TASK_FORMS["objection"])}}})
@blp.response(201)
def object_to(notice_id: int) -> Any:
    """Raise an objection while the notice is open (A-3); the notice is paused until the
    authority rules. 409 when the notice takes none: paused by an earlier objection, ended
    or stopped (the message says which)."""
    limit_public_posts()
    objection = events.raise_objection(notice_id, _json())
    return {"id": objection.id, "message": "异议已受理"}


@blp.post("/complaints")
@blp.doc(requestBody={"content": {"application/json": {"schema": json_schema(
    TASK_FORMS["complaint"])}}})
@blp.response(201)
def complain() -> Any:
    """File a complaint or report of fraud; a known project gets a key inspection (R-SUP-7).

    The project is found by its number, or by its exact name (within ``location_code`` when
    given); ``project_id`` is the project found, or null with ``note`` saying why."""
    limit_public_posts()
    complaint = workflow.file_complaint(_json())
    match = publicity.complaint_match(complaint)
    return {"id": complaint.id, "project_id": complaint.project_id,
            "status": complaint.status, "message": "投诉举报已受理", "note": match.note}


@blp.post("/integrations/permits")
@integration("permit")
@blp.response(200)
def permit_feed() -> Any:
    """The permit-issuing system pushes HM basic info and a permit (R-HM-2)."""
    project = permits.receive(_json())
    return {"project_id": project.id, "project_number": project.project_number}


@blp.get("/forms/<key>")
@blp.response(200)
def form_schema(key: str) -> Any:
    """The JSON Schema of a task form or stage form, or of a form deployed with the current
    version of a procedure (by the formKey its diagram names it with)."""
    return forms.published(key).schema()
