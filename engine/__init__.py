"""The generic workflow engine over SpiffWorkflow: deploy, run, persist, wait, wake.

It knows BPMN, not projects; nothing here imports the registry, forms, handlers or web.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, current_app

from . import queue, warm
from .catalog import Catalog
from .control import resume, retry, suspend, terminate
from .db import db as _db
from .definitions import deploy, latest
from .diff import diff
from .errors import (
    Conflict,
    DefinitionInvalid,
    EngineError,
    InvalidState,
    NotFound,
    StepFailed,
    StepOverBudget,
)
from .migration import migrate
from .models import Instance
from .runtime import claim, complete_task, correlate, start, unclaim
from .unit import transaction

__all__ = [
    "Catalog", "Conflict", "DefinitionInvalid", "EngineError", "InvalidState", "NotFound",
    "StepFailed", "StepOverBudget", "catalog", "claim", "complete_task", "correlate", "deploy",
    "diff", "init_app", "instance_by_key", "latest", "migrate", "resume", "retry", "start",
    "suspend", "terminate", "transaction", "unclaim",
]

DEFAULTS = {
    "CQPI_JOB_MAX_ATTEMPTS": 5,
    "CQPI_JOB_BACKOFF_SECONDS": 2,
    "CQPI_TICK_SECONDS": 1.0,
    "CQPI_WORKFLOW_CACHE": warm.SIZE,
}


def init_app(app: Flask, catalog: Catalog) -> None:
    """Attach the engine: its settings, its catalog of operations and forms, and the queue."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions["cqpi.catalog"] = catalog
    app.extensions["cqpi.warm"] = warm.WarmWorkflows(int(app.config["CQPI_WORKFLOW_CACHE"]))
    queue.init_app(app)


def instance_by_key(business_key: str) -> Instance | None:
    """The newest instance with this business key, if any."""
    return _db.session.scalar(sa.select(Instance).filter_by(business_key=business_key)
                             .order_by(Instance.id.desc()).limit(1))


def catalog() -> Catalog:
    """The current app's catalog."""
    return current_app.extensions["cqpi.catalog"]
