"""The SQLAlchemy handle shared by the engine's tables (and, later, the registry's)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


log = logging.getLogger(__name__)

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def init_app(app: Flask) -> None:
    """Bind the database; SQLite gets WAL, a busy timeout and foreign keys on."""
    db.init_app(app)
    app.teardown_appcontext(lambda _exc: remove_session())  # before Flask-SQLAlchemy's
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


def remove_session() -> None:
    """End the session; a connection that died meanwhile (a database restart) may fail its
    rollback, which must not turn an answer already decided into a 500, nor end a job."""
    try:
        db.session.remove()
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises for a dead socket
        log.warning("closing the session failed: %s", str(exc).splitlines()[0][:300])


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
