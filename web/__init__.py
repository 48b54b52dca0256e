"""The Flask app factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import Migrate

import engine
import forms
import handlers
import lifecycle
import registry
from engine import db as engine_db

from . import api, config, headers, health, metrics, pages

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(test_config: dict[str, Any] | None = None,
               catalog: engine.Catalog | None = None) -> Flask:
    """Build the app from the environment, or from ``test_config`` when given."""
    app = Flask(__name__)
    app.config.from_mapping(config.from_env() if test_config is None else test_config)
    engine_db.init_app(app)
    Migrate(app, engine_db.db, directory=MIGRATIONS, render_as_batch=True)
    if catalog is None:
        catalog = engine.Catalog()
        handlers.register(catalog)
        forms.register(catalog)
        lifecycle.register(catalog)
    engine.init_app(app, catalog)
    registry.init_app(app)
    app.register_blueprint(health.bp)
    api.init_app(app)
    metrics.init_app(app)
    pages.init_app(app)
    headers.init_app(app)
    return app
