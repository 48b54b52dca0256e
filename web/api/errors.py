"""Every refusal as JSON with a Chinese message (and the rule id or field errors); never a
stack trace.

The frameworks' own refusals (Werkzeug's 404, 405 and 413, webargs' 400 and 422) come with
English messages: under /api/ they answer in Chinese by status code, their field ``errors``
kept. Before a view reads them, ``screen_request`` refuses the parts of a request that would
otherwise fail deep inside it: NUL characters, JSON nested deeper than the parsers' recursion
allows, a lone surrogate where no form names the field, and a body that is not JSON sent to
an endpoint that reads JSON.
"""

from __future__ import annotations

import json
import logging
import re
from array import array
from collections.abc import Callable
from itertools import accumulate
from typing import Any

import redis
from flask import Flask, current_app, jsonify, make_response, request
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

import engine
from engine.db import db
from forms.base import FormSchema, storable_text
from forms.html import PostedFormInvalid
from registry import applications, rules

log = logging.getLogger(__name__)

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a JSON body (the JSON parser and the
schemas recurse once per level: a body of ``[[[[…`` would exhaust the stack)."""

MESSAGES = {
    400: "请求格式有误：无法解析请求",
    401: "请先登录",
    403: "无权访问",
    404: "请求的地址不存在",
    405: "不支持该请求方法",
    409: "操作冲突，请刷新后重试",
    413: "上传内容过大",
    415: "请求的内容类型不受支持，请使用 application/json",
    422: "提交的数据有误，请按提示修改",
    429: "操作过于频繁，请稍后再试",
    500: "服务器内部错误，已记录，请稍后再试",
    503: "服务暂时不可用（数据库或队列正在恢复），请稍后重试",
}
"""Chinese messages by status code, for the refusals the frameworks word in English."""

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _body(status: int, message: str, **extra: Any) -> Any:
    """The refusal as JSON for the API, or as the error page for a browser's page."""
    page = current_app.extensions.get("cqpi.error_page")
    if page is not None and not request.path.startswith(("/api/", "/healthz")):
        return page(status, message)
    response = jsonify({"message": message, **extra})
    response.status_code = status
    return response


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{round(limit / (1024 * 1024), 1):g} MB"
    return f"{round(limit / 1024, 1):g} KB" if limit >= 1024 else f"{limit} 字节"


def _chinese(status: int, message: str, exc: HTTPException) -> str:
    """``message`` if it is Chinese already (our own code's), else the status code's."""
    if _CJK.search(message):
        return message
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return f"{MESSAGES[413]}（上限 {_size(limit)}）" if limit else MESSAGES[413]
    if status == 405:
        allowed = sorted(set(getattr(exc, "valid_methods", None) or ()) - {"HEAD", "OPTIONS"})
        return f"{MESSAGES[405]}（可用: {'、'.join(allowed)}）" if allowed else MESSAGES[405]
    if status == 400 and _invalid_json(exc):
        return "请求格式有误：请求体不是有效的 JSON"
    return MESSAGES.get(status) or f"请求无法处理（HTTP {status}）"


def _invalid_json(exc: HTTPException) -> bool:
    """Whether a 400 is webargs' or Flask's refusal of a body that does not parse as JSON."""
    messages = (getattr(exc, "data", None) or {}).get("messages")
    return (isinstance(messages, dict) and "json" in messages) or "JSON" in (
        exc.description or "")


# Screening requests before the views read them.

NUL = "\x00"

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""A JSON escape of a UTF-16 surrogate (of a pair or alone: parsing tells which)."""

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
"""A JSON string, or an unterminated one up to the end (so that every match attempt that
starts at a quote succeeds, and stripping the strings stays linear in the body's size)."""

_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
"""Brackets as signed bytes: +1 opens a level, -1 closes one."""


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in ``body`` (strings skipped), without parsing."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # too few brackets to nest too deeply: the common case, at once
    steps = array("b", _JSON_STRING.sub(b"", body).translate(_STEPS, _NOT_BRACKETS))
    return max(accumulate(steps), default=0)


def _shown(key: str) -> str:
    """A key with its lone surrogates as ``\\udxxx`` escapes (so that it can be shown)."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def lone_surrogate_at(value: Any, values: bool, path: str = "",
                      depth: int = 0) -> tuple[str, str] | None:
    """Where a parsed JSON body holds a lone surrogate: ("key" or "value", its dotted path).
    Text values are looked at only when ``values``."""
    if depth > MAX_JSON_DEPTH:
        return None
    if isinstance(value, str):
        return ("value", path) if values and not storable_text(value) else None
    items: Any = ()
    if isinstance(value, dict):
        bad = next((k for k in value if not storable_text(k)), None)
        if bad is not None:
            return "key", f"{path}.{_shown(bad)}" if path else _shown(bad)
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, item in items:
        inner = f"{path}.{key}" if path else str(key)
        found = lone_surrogate_at(item, values, inner, depth + 1)
        if found is not None:
            return found
    return None


def _apidoc() -> dict[str, Any]:
    """The matched view's OpenAPI notes (flask-smorest's); empty without a view."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, request.method.lower(), None)
    return getattr(view, "_apidoc", None) or {}


def _json_schemas(doc: dict[str, Any]) -> list[type]:
    arguments = (doc.get("arguments") or {}).get("parameters") or []
    schemas = [a["schema"] for a in arguments if a.get("in", "json") == "json"]
    return [s if isinstance(s, type) else type(s) for s in schemas]


def _expects_json() -> bool:
    """Whether the matched view reads a JSON body (per its OpenAPI documentation)."""
    doc = _apidoc()
    body = ((doc.get("manual_doc") or {}).get("requestBody") or {}).get("content") or {}
    return bool(_json_schemas(doc)) or "application/json" in body


def _forms_read_the_text() -> bool:
    """Whether the view's JSON body goes through forms (FormSchema), which refuse text that
    cannot be stored naming the field in Chinese. The views that read the body themselves
    hand it to a form (task forms, objections, complaints, the permit feed); a body schema
    that is not a form (the ops reason) does not look at its text."""
    return all(issubclass(s, FormSchema) for s in _json_schemas(_apidoc()))


def _has_body() -> bool:
    if request.content_length:
        return True
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return False  # no length given: leave the stream to the form parser
    return bool(request.get_data(cache=True))


def _screen_address() -> Any:
    texts = [request.path, *request.args.keys(), *request.args.values()]
    if any(NUL in text for text in texts):
        return _body(422, "请求中含有不允许的空字符（NUL）")
    if not all(storable_text(text) for text in texts):
        return _body(422, "请求地址或查询参数含有无效字符（不成对的 Unicode 代理字符）")
    return None


def _screen_content_type() -> Any:
    if request.method in ("POST", "PUT", "PATCH") and not request.is_json and _has_body() \
            and _expects_json():
        return _body(415, MESSAGES[415])
    return None


def _screen_json() -> Any:
    if not request.is_json:
        return None
    body = request.get_data(cache=True)
    if b"\\u0000" in body or b"\x00" in body:
        return _body(422, "请求中含有不允许的空字符（NUL）")
    if json_depth(body) > MAX_JSON_DEPTH:
        return _body(400, f"请求格式有误：JSON 嵌套过深（上限 {MAX_JSON_DEPTH} 层）")
    return _screen_surrogates(body) if _SURROGATE_ESCAPE.search(body) else None


def _screen_surrogates(body: bytes) -> Any:
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the view's parser answers 400
    found = lone_surrogate_at(parsed, values=not _forms_read_the_text())
    if found is None:
        return None
    kind, path = found
    where = f"字段名 {path}" if kind == "key" else f"「{path}」"
    return _body(422, f"请求中的{where}含有无效字符（不成对的 Unicode 代理字符，无法保存）",
                 errors={path: [f"{where}含有无效字符"]})


SCREENS: tuple[Callable[[], Any], ...] = (_screen_address, _screen_content_type, _screen_json)


def screen_request() -> Any:
    """Refuse, before any view reads them, the parts of an API request that would make it
    fail deep inside: NUL characters (the databases cannot store them), JSON nested too
    deeply, a lone surrogate that no form refuses, and a body that is not JSON for a view
    that reads JSON."""
    if not _is_api():
        return None
    for screen in SCREENS:
        refused = screen()
        if refused is not None:
            return refused
    return None


# The error handlers.

def _form_invalid(exc: applications.FormInvalid) -> Any:
    return _body(422, MESSAGES[422], errors=exc.messages)


def _posted_form_invalid(exc: ValidationError) -> Any:
    """A page's posted form that cannot be read into data; the message names the field
    (the error page shows only the message)."""
    problems = [m for ms in exc.normalized_messages().values() if isinstance(ms, list)
                for m in ms if isinstance(m, str)]
    message = f"提交的数据有误：{'；'.join(problems)}" if problems else MESSAGES[422]
    return _body(422, message, errors=exc.messages)


def _rule_violation(exc: rules.RuleViolation) -> Any:
    return _body(422, str(exc), rule=exc.rule)


def _not_found(exc: Exception) -> Any:
    return _body(404, str(exc) or "不存在")


def _not_allowed(exc: Exception) -> Any:
    return _body(403, str(exc))


def _conflict(exc: Exception) -> Any:
    return _body(409, str(exc))


def _step_failed(exc: Exception) -> Any:
    log.warning("step failed: %s", exc)  # a diagram that cannot advance: ops want to know
    return _body(422, str(exc))


def _http_error(exc: HTTPException) -> Any:
    data = getattr(exc, "data", None) or {}
    status = exc.code or 500
    message = str(data.get("message") or exc.description or exc.name)
    if _is_api():
        message = _chinese(status, message, exc)
    errors = data.get("errors") or data.get("messages")
    response = _body(status, message, **({"errors": errors} if errors else {}))
    allow = dict(exc.get_headers()).get("Allow")
    if allow and _is_api():
        response.headers["Allow"] = allow
    return response


def _too_deep(exc: RecursionError) -> Any:
    log.warning("request nested too deeply to process", exc_info=exc)
    return _body(400, "请求格式有误：数据嵌套过深，无法处理")


RETRY_AFTER = "5"
"""Seconds a client should wait before it tries again after an outage (503)."""


def _outage(exc: Exception) -> Any:
    """The database or the queue is unreachable (restarting, failing over): an outage, said
    as one, for the client to try again; not a server error. The session's connection may
    be the one that died: its rollback may fail too, and must not turn this into a 500."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.close()
    log.warning("outage: %s: %s", type(exc).__name__, str(exc).splitlines()[0][:300])
    response = make_response(_body(503, MESSAGES[503]))
    response.headers["Retry-After"] = RETRY_AFTER
    return response


def _unexpected(exc: Exception) -> Any:
    log.exception("unhandled error")
    return _body(500, MESSAGES[500])


HANDLERS: tuple[tuple[type[Exception], Callable[[Any], Any]], ...] = (
    (applications.FormInvalid, _form_invalid),
    (PostedFormInvalid, _posted_form_invalid),
    (rules.RuleViolation, _rule_violation),
    (applications.NotFound, _not_found),
    (engine.NotFound, _not_found),
    (applications.NotAllowed, _not_allowed),
    (engine.Conflict, _conflict),
    (engine.InvalidState, _conflict),
    (engine.StepFailed, _step_failed),
    (HTTPException, _http_error),
    (OperationalError, _outage),
    (redis.ConnectionError, _outage),
    (redis.TimeoutError, _outage),
    (RecursionError, _too_deep),
    (Exception, _unexpected),
)


def init_app(app: Flask) -> None:
    app.before_request(screen_request)
    for exc_type, handler in HANDLERS:
        app.register_error_handler(exc_type, handler)
