"""``/healthz``: is the database reachable, is the queue reachable."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from engine import queue
from engine.db import db

bp = Blueprint("health", __name__)


def _database_ok() -> bool:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return True
    except SQLAlchemyError:
        db.session.rollback()
        return False


@bp.get("/healthz")
def healthz() -> Any:
    """200 when the database and the queue answer, 503 (with which failed) otherwise."""
    checks = {"database": _database_ok(), "queue": queue.ping()}
    body = {name: "ok" if ok else "down" for name, ok in checks.items()}
    body["status"] = "ok" if all(checks.values()) else "down"
    return jsonify(body), 200 if all(checks.values()) else 503
