"""``/api/v1/processes``, for the people who work them: the procedures the caller may start,
a procedure's start form, starting one (issue 17), and what the caller started (我发起的)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

from forms.api import Page
from forms.processes_api import FormOut, StartableOut, StartedInstanceOut, StartedOut
from lifecycle import starts
from registry.applications import FormInvalid

from .auth import signed_in, signed_in_user

blp = Blueprint("starts", __name__, url_prefix="/api/v1/processes",
                description="办理其他事项：启动流程")

NO_FORM = {"key": None, "kind": "none", "document": None,
           "schema": {"type": "object", "properties": {}, "additionalProperties": False}}


@blp.get("/startable")
@signed_in
@blp.response(200, StartableOut(many=True))
def startable() -> Any:
    """The procedures the caller may start: those whose start event is in their role's lane
    (the product's procedures start through their applications, not here)."""
    return [{"key": e.definition.key, "name": e.definition.name,
             "version": e.definition.version, "lane": e.lane,
             "has_start_form": e.form_key is not None, "start_form": e.form_key}
            for e in starts.startable(signed_in_user())]


@blp.get("/started")
@signed_in
@blp.arguments(Page, location="query")
@blp.response(200, StartedInstanceOut(many=True))
def started(args: dict[str, Any]) -> Any:
    """The instances the caller started (我发起的), newest first.

    The procedures they started here and, for an enterprise user, the procedures of the
    applications they submitted; each with its status and the names of the tasks it waits
    on now (``current_tasks``, its current step). Only the caller's own: never another
    user's, not even a colleague's in the same organisation; never what the system started
    (inspections, monthly samplings). Any role; paged by ``page`` and ``per_page``."""
    page, per_page = args["page"], args["per_page"]
    return starts.started(signed_in_user(), offset=(page - 1) * per_page, limit=per_page)


@blp.get("/<key>/start-form")
@signed_in
@blp.response(200, FormOut)
def start_form(key: str) -> Any:
    """The start form of a procedure the caller may start (``kind`` none: start with {}).
    403 for another role, 404 for an unknown procedure, 409 for a product procedure."""
    form = starts.start_form(key, signed_in_user())
    return NO_FORM if form is None else form.described()


@blp.post("/<key>/instances")
@signed_in
@blp.doc(requestBody={"content": {"application/json": {"schema": {"type": "object"}}}})
@blp.response(201, StartedOut)
def start(key: str) -> Any:
    """Start the current version with the start form's data (``{}`` without a start form).
    403 unless the caller's role works the start event's lane; 404 unknown procedure; 409 a
    product procedure (started by its application or the system); 422 field errors."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise FormInvalid({"json": ["请求体应为 JSON 对象"]})
    started = starts.start(key, data, signed_in_user())
    return {"instance_id": started.instance_id, "business_key": started.business_key,
            "process": started.process, "version": started.version,
            "message": f"已启动，业务编号 {started.business_key}"}, 201
