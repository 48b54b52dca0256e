"""``/healthz``: is the database reachable, is the queue reachable, is background work
moving (workers alive, the oldest due job's wait, overdue timers)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from engine import background, queue
from engine.db import db
from web.api.errors import RETRY_AFTER

bp = Blueprint("health", __name__)


def _database_ok() -> bool:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return True
    except SQLAlchemyError:
        db.session.rollback()
        return False


def _background() -> background.Background | None:
    try:
        return background.read()
    except SQLAlchemyError:  # e.g. a database not migrated yet: nothing to tell
        db.session.rollback()
        return None


@bp.get("/healthz")
def healthz() -> Any:
    """200 when the database and the queue answer and background work moves; 503 (saying
    which failed) when one does not answer, or when no worker is alive while due work has
    waited for minutes."""
    checks = {"database": _database_ok(), "queue": queue.ping()}
    body: dict[str, Any] = {name: "ok" if ok else "down" for name, ok in checks.items()}
    moving = _background() if checks["database"] else None
    if moving is not None:
        body.update(workers=moving.workers, oldest_due_job_seconds=moving.oldest_due_job_seconds,
                    overdue_timers=moving.overdue_timers,
                    background="stopped" if moving.stopped else "ok")
        checks["background"] = not moving.stopped
    body["status"] = "ok" if all(checks.values()) else "down"
    response = jsonify(body)
    if not all(checks.values()):
        response.status_code = 503
        response.headers["Retry-After"] = RETRY_AFTER
    return response
