"""The domain: jurisdictions, organisations, users, projects, stage records, applications,
attachments, and the guide's rules over them."""

from __future__ import annotations

from flask import Flask

from . import models, sessions  # noqa: F401  (the tables, for migrations)

DEFAULTS = {
    "CQPI_BACKFILL_DEADLINE": "2024-12-31",  # R-BF-2; extend it here when the city does
    "CQPI_MAX_UPLOAD_BYTES": 20 * 1024 * 1024,
    "CQPI_SESSION_HOURS": 12,  # a sign-in's absolute lifetime (page session or API token)
    "CQPI_SESSION_IDLE_MINUTES": 30,  # unused this long, a sign-in ends
}


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
