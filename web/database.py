"""Bring a database up to date: Alembic migrations, then the reference data kept in the repo."""

from __future__ import annotations

from flask import Flask
from flask_migrate import upgrade

from registry import jurisdictions


def prepare(app: Flask) -> None:
    """Migrate the schema to head and synchronise the jurisdictions table (idempotent)."""
    with app.app_context():
        upgrade()
        jurisdictions.sync()
