"""Every refusal as JSON with a Chinese message (and the rule id or field errors); never a
stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

import engine
from registry import applications, rules

log = logging.getLogger(__name__)


def _body(status: int, message: str, **extra: Any) -> Any:
    """The refusal as JSON for the API, or as the error page for a browser's page."""
    page = current_app.extensions.get("cqpi.error_page")
    if page is not None and not request.path.startswith(("/api/", "/healthz")):
        return page(status, message)
    response = jsonify({"message": message, **extra})
    response.status_code = status
    return response


NUL = "\x00"


def refuse_nul() -> Any:
    """The databases cannot store NUL characters: refuse them in the path, the query and JSON
    bodies with a clear message before anything reads them."""
    if not request.path.startswith("/api/"):
        return None
    texts = [request.path, *request.args.keys(), *request.args.values()]
    body = request.get_data() if request.is_json else b""
    if any(NUL in text for text in texts) or b"\\u0000" in body or b"\x00" in body:
        return _body(422, "请求中含有不允许的空字符（NUL）")
    return None


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul)
    @app.errorhandler(applications.FormInvalid)
    def form_invalid(exc: applications.FormInvalid) -> Any:
        return _body(422, "提交的数据有误，请按提示修改", errors=exc.messages)

    @app.errorhandler(rules.RuleViolation)
    def rule_violation(exc: rules.RuleViolation) -> Any:
        return _body(422, str(exc), rule=exc.rule)

    @app.errorhandler(applications.NotFound)
    @app.errorhandler(engine.NotFound)
    def not_found(exc: Exception) -> Any:
        return _body(404, str(exc) or "不存在")

    @app.errorhandler(applications.NotAllowed)
    def not_allowed(exc: Exception) -> Any:
        return _body(403, str(exc))

    @app.errorhandler(engine.Conflict)
    @app.errorhandler(engine.InvalidState)
    def conflict(exc: Exception) -> Any:
        return _body(409, str(exc))

    @app.errorhandler(engine.StepFailed)
    def step_failed(exc: Exception) -> Any:
        return _body(422, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        data = getattr(exc, "data", None) or {}
        message = data.get("message") or exc.description or exc.name
        errors = data.get("errors") or data.get("messages")
        extra = {"errors": errors} if errors else {}
        return _body(exc.code or 500, str(message), **extra)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unhandled error")
        return _body(500, "服务器内部错误，已记录，请稍后再试")
