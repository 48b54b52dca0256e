"""The app that the approval scenario serves: ``web.create_app()`` plus two bench-only routes.

The public API starts procedures only from applications (``/api/v1/applications/{id}/submit``)
and completes only tasks whose form key has a form in ``forms.TASK_FORMS`` and whose lane is a
role's; ``bench/approval.bpmn`` has neither (form key ``bench_form``, lane ``reviewer``), so
``/api/v1/tasks/{id}/complete`` cannot work its tasks. These routes do what that route does
around the engine call (bearer sign-in, the task must be open, a JSON object body, the
instance's open tasks in the answer) without the form and lane check:

- ``POST /bench/start/<key>``: ``engine.start`` (JSON body: ``business_key``, ``data``);
- ``POST /bench/complete/<task_id>``: ``engine.complete_task`` with the JSON body.

Served with ``gunicorn 'bench.wsgi:create_app()'``; never part of the product.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, request

import engine
import forms
import handlers
import lifecycle
import web
from engine import queries
from forms.api import TaskOut
from registry.applications import FormInvalid
from web.api.auth import signed_in, signed_in_user

BENCH_FORM = "bench_form"

bp = Blueprint("bench", __name__, url_prefix="/bench")


def _open_tasks(instance_id: int) -> Any:
    return TaskOut(many=True).dump(queries.open_tasks(instance_id))


@bp.post("/start/<key>")
@signed_in
def start(key: str) -> Any:
    body = request.get_json(silent=True) or {}
    instance = engine.start(key, business_key=body.get("business_key"), data=body.get("data"),
                            actor=signed_in_user().username)
    return {"id": instance.id, "status": instance.status,
            "open_tasks": _open_tasks(instance.id)}, 201


@bp.post("/complete/<task_id>")
@signed_in
def complete(task_id: str) -> Any:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise FormInvalid({"json": ["请求体应为 JSON 对象"]})
    instance = engine.complete_task(task_id, data, actor=signed_in_user().username)
    return _open_tasks(instance.id)


def catalog() -> engine.Catalog:
    """The product's catalog (handlers, forms, task listeners) plus the bench diagram's form."""
    cat = engine.Catalog()
    handlers.register(cat)
    forms.register(cat)
    lifecycle.register(cat)
    cat.add_form_keys([BENCH_FORM])
    cat.add_lanes({"reviewer": "district_reviewer"})  # the bench diagram's lane
    return cat


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = web.create_app(test_config, catalog=catalog())
    app.register_blueprint(bp)
    return app
