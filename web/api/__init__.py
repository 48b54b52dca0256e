"""The JSON API under /api/v1, documented at /api/v1/openapi.json from the same schemas."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from . import (
    applications,
    errors,
    idempotency,
    notifications,
    ops,
    processes,
    projects,
    public,
    sampling,
    sessions,
    starts,
    statistics,
    tasks,
)


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "cqpi 工程项目信息服务")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = Api(app, spec_kwargs={"extra_plugins": [idempotency.OpenAPIPlugin()]})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in (public.blp, applications.blp, tasks.blp, projects.blp,
                      notifications.blp, ops.blp, processes.blp, starts.blp, sampling.blp,
                      sessions.blp, statistics.blp):
        api.register_blueprint(blueprint)
    errors.init_app(app)
    idempotency.init_app(app)
