"""Outages answered as outages (issue 15): a request that meets a database it cannot reach
answers 503 in Chinese with Retry-After, never a raw 500; a session whose connection died
cannot turn an answer into a 500 at teardown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from engine.db import db
from tests.conftest import dispose
from tests.web.test_cli import _free_port
from web import create_app
from web.api import idempotency
from web.database import prepare


def test_an_unreachable_database_is_a_503_with_retry_after(tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://u@127.0.0.1:{port}/x",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
                      "REDIS_URL": None, "SECRET_KEY": "t", "CQPI_DATA_DIR": str(tmp_path)})
    try:
        client = app.test_client()
        answer = client.get("/api/v1/publicity")
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert "稍后重试" in answer.get_json()["message"]
        page = client.get("/publicity")
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert "服务暂时不可用" in page.get_data(as_text=True)
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["database"] == "down"
    finally:
        dispose(app)


def test_a_failing_teardown_leaves_the_answer_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                      "REDIS_URL": None, "SECRET_KEY": "t", "CQPI_DATA_DIR": str(tmp_path)})
    prepare(app)
    calls: list[int] = []
    with app.app_context():
        real = db.session.remove

    def dead_connection() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("server closed the connection unexpectedly")
        real()

    monkeypatch.setattr(db.session, "remove", dead_connection)
    try:
        answer = app.test_client().get("/api/v1/publicity")
        assert answer.status_code == 200 and calls
    finally:
        monkeypatch.undo()
        dispose(app)


def test_an_outage_whose_rollback_fails_too_is_still_a_503(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                      "REDIS_URL": None, "SECRET_KEY": "t", "CQPI_DATA_DIR": str(tmp_path)})
    prepare(app)
    gone = OperationalError("SELECT 1", {}, Exception("terminating connection due to "
                                                      "administrator command"))

    def dead(*_: Any, **__: Any) -> None:
        raise gone

    monkeypatch.setattr(idempotency, "_insert", dead)  # the request meets the outage
    with app.app_context():
        monkeypatch.setattr(db.session, "rollback", dead)  # and so does its rollback
    try:
        answer = app.test_client().post("/api/v1/complaints", json={},
                                        headers={"Idempotency-Key": "k-1"})
        assert answer.status_code == 503, answer.get_data(as_text=True)
        assert answer.headers["Retry-After"] == "5"
    finally:
        monkeypatch.undo()
        dispose(app)
