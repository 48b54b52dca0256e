"""/healthz: 200 when the database and the queue answer, 503 naming what is down."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from rq import Worker

import engine
from engine import clock
from engine.worker import make_worker
from tests.conftest import deploy, dispose
from web import create_app


def test_healthz_ok(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert isinstance(body.pop("workers"), int)  # a killed test worker may still be listed
    assert body == {"status": "ok", "database": "ok", "queue": "ok", "background": "ok",
                    "oldest_due_job_seconds": 0.0, "overdue_timers": 0}


def test_healthz_says_when_background_work_has_stopped(app: Flask, client: Any) -> None:
    """No worker alive while a due job has waited for minutes: 503 with Retry-After, so that
    a supervisor acts; a worker that comes back makes it 200 again (issue 15)."""
    handle = engine.queue.queues()
    for stale in Worker.all(connection=handle.connection, queue=handle.queue):
        stale.register_death()  # workers other tests killed: this test wants none alive
    deploy("chain.bpmn")
    engine.start("chain", business_key="H-1")  # its first job waits on the queue
    assert client.get("/healthz").status_code == 200  # due a moment ago: not stopped
    clock.travel(timedelta(minutes=6))
    stopped = client.get("/healthz")
    assert stopped.status_code == 503 and stopped.headers["Retry-After"] == "5"
    body = stopped.get_json()
    assert (body["background"], body["workers"]) == ("stopped", 0)
    assert body["oldest_due_job_seconds"] >= 360
    text = client.get("/metrics").get_data(as_text=True)
    assert "cqpi_workers_alive 0" in text and "cqpi_oldest_due_job_seconds 3" in text
    worker = make_worker(app)
    worker.register_birth()
    try:
        assert client.get("/healthz").get_json()["workers"] == 1
        assert client.get("/healthz").status_code == 200  # alive, if behind
    finally:
        worker.register_death()


def test_healthz_names_a_queue_that_is_down(tmp_path: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                      "REDIS_URL": "redis://127.0.0.1:1/0", "SECRET_KEY": "t",
                      "CQPI_DATA_DIR": str(tmp_path)})
    response = app.test_client().get("/healthz")
    dispose(app)
    assert response.status_code == 503
    assert response.get_json() == {"status": "down", "database": "ok", "queue": "down"}


def test_healthz_names_a_database_that_is_down(tmp_path: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:////nonexistent/dir/x.db",
                      "REDIS_URL": None, "SECRET_KEY": "t", "CQPI_DATA_DIR": str(tmp_path)})
    response = app.test_client().get("/healthz")
    dispose(app)
    assert response.status_code == 503
    assert response.get_json()["database"] == "down"
