"""/healthz: 200 when the database and the queue answer, 503 naming what is down."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import dispose
from web import create_app


def test_healthz_ok(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "ok"}


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
