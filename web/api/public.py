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
from registry import checkcodes, permits, publicity
from registry.models import Complaint, Objection, PublicityNotice
from web import lookup, workflow
from web.addresses import client_address
from web.lookup import LookupIn, LookupOut
from web.pages.labels import NOTICE_STATUSES
from web.signin import SignInRefused

from . import idempotency
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
    or stopped (the message says which). The answer's ``number`` (YY…) and ``check_code``
    look its progress up at ``POST /api/v1/lookup``; the code is given in this answer only."""
    limit_public_posts()
    objection = events.raise_objection(notice_id, _json())
    return _with_check_code(objection, {"id": objection.id, "message": "异议已受理"})


@blp.post("/complaints")
@blp.doc(requestBody={"content": {"application/json": {"schema": json_schema(
    TASK_FORMS["complaint"])}}})
@blp.response(201)
def complain() -> Any:
    """File a complaint or report of fraud; a known project gets a key inspection (R-SUP-7).

    The project is found by its number, or by its exact name (within ``location_code`` when
    given); ``project_id`` is the project found, or null with ``note`` saying why. The
    answer's ``number`` (TS…) and ``check_code`` look its progress up at ``POST
    /api/v1/lookup``; the code is given in this answer only (a retry with the same
    Idempotency-Key gets ``check_code`` null)."""
    limit_public_posts()
    complaint = workflow.file_complaint(_json())
    match = publicity.complaint_match(complaint)
    return _with_check_code(complaint, {
        "id": complaint.id, "project_id": complaint.project_id, "status": complaint.status,
        "message": "投诉举报已受理", "note": match.note})


def _with_check_code(row: Complaint | Objection, answer: dict[str, Any]) -> dict[str, Any]:
    """A filing's answer with its number and check code (issue 18), given this once: a
    retry with the same Idempotency-Key gets the answer without the code."""
    idempotency.replay_instead({**answer, "number": checkcodes.number_of(row),
                                "check_code": None, "check_code_note": CODE_GIVEN})
    return {**answer, "number": checkcodes.number_of(row), "check_code": checkcodes.issued(row),
            "check_code_note": CODE_NOTE}


CODE_NOTE = "请妥善保存查询码：它只给出这一次，凭编号和查询码可查询办理进度"
CODE_GIVEN = "查询码已在第一次应答中给出，不再重复给出"


@blp.post("/lookup")
@blp.arguments(LookupIn)
@blp.response(200, LookupOut)
@blp.alt_response(404, description="编号或查询码不对（两者不分）：未找到，请核对编号和查询码")
@blp.alt_response(429, description="同一地址或同一编号查询失败过多：15 分钟后再试")
def look_up(data: dict[str, str]) -> Any:
    """The progress of a complaint or an objection, without signing in, by the ``number``
    and ``code`` (the check code) given when it was filed (issue 18): its kind, filing date, stage
    (受理中, 核查中, 已办结) and, once closed, the outcome (and an objection's ruling reason).
    A wrong number and a wrong code answer alike (404); failures are throttled per address
    and per number (429). Filings made before check codes existed answer 404 too."""
    try:
        progress = lookup.attempt(data["number"], data["code"], client_address())
    except SignInRefused as exc:
        abort(429, message=str(exc))
    if progress is None:
        raise apps.NotFound(lookup.NOT_FOUND)
    return progress


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
