"""Fixtures: one app per database backend (SQLite, PostgreSQL), a real Redis, a real rq worker.

PostgreSQL and Redis tests skip when the server is not reachable, unless
CQPI_REQUIRE_SERVICES=1 (set by .ci/run), in which case they fail.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

import engine
import forms
import handlers
import lifecycle
from engine import clock
from engine.db import db
from engine.definitions import clear_cache
from engine.worker import make_worker
from handlers.national.simulator import create_simulator
from web import create_app
from web.database import prepare

BPMN = Path(__file__).parent / "bpmn"
PG_ADMIN = os.environ.get("CQPI_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = f"cqpi_test_{os.getpid()}"  # one per run: parallel runs must not share a database
REDIS_URL = os.environ.get("CQPI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE = os.environ.get("CQPI_REQUIRE_SERVICES") == "1"


def _unavailable(what: str, exc: Exception) -> None:
    if REQUIRE:
        pytest.fail(f"{what} is required (CQPI_REQUIRE_SERVICES=1) but unreachable: {exc}")
    pytest.skip(f"{what} unreachable: {exc}")


class Calls:
    """What the test handlers saw, and how many times the flaky one should still fail."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.fail_times = 0


CALLS = Calls()


def _echo(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    CALLS.seen.append({"params": params, "context": context})
    return {"echo": params}


def _flaky(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    CALLS.seen.append({"params": params, "context": context})
    if CALLS.fail_times > 0:
        CALLS.fail_times -= 1
        raise ConnectionError("国家平台暂时不可用")
    return {"pushed": True}


def test_catalog() -> engine.Catalog:
    """The production catalog (handlers, forms) plus the test operations and form."""
    catalog = engine.Catalog()
    handlers.register(catalog)
    forms.register(catalog)
    catalog.add_operation("test.echo", _echo)
    catalog.add_operation("test.flaky", _flaky)
    catalog.add_form_keys(["test_form"])
    lifecycle.register(catalog)
    catalog.add_messages(["reply"])
    catalog.add_lanes({"applicant": "enterprise", "reviewer": "district_reviewer"})
    return catalog


test_catalog.__test__ = False  # type: ignore[attr-defined]


def _config(url: str, tmp: Path, redis_url: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        options = {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {
        "TESTING": True, "SECRET_KEY": "test", "CQPI_DATA_DIR": str(tmp),
        "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options,
        "REDIS_URL": redis_url, "CQPI_JOB_MAX_ATTEMPTS": 3, "CQPI_JOB_BACKOFF_SECONDS": 0,
        "CQPI_TICK_SECONDS": 0.2, "CQPI_QUEUE_NAME": f"cqpi-test-{os.getpid()}",
        "CQPI_PUBLICITY": "5", "CQPI_SAMPLING_DAY": 0, "CQPI_NATIONAL_TOKEN": SIM_TOKEN,
    }


def create_pg_database(name: str) -> str:
    """A new empty PostgreSQL database ``name`` (dropped first if a killed run left it): its
    libpq URL. Skips (or fails, with CQPI_REQUIRE_SERVICES=1) without PostgreSQL."""
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL", exc)
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"


def drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _fresh_pg() -> str:
    return create_pg_database(PG_DB).replace("postgresql://", "postgresql+psycopg://", 1)


def _redis() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    return REDIS_URL


SIM_TOKEN = "test-national-token"


class Simulator:
    """The national-platform simulator, served over real HTTP from a thread."""

    def __init__(self) -> None:
        self.app = create_simulator(SIM_TOKEN, control=True)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def state(self) -> Any:
        return self.app.extensions["national_sim"]

    def reset(self) -> None:
        self.state.pushes.clear()
        self.state.projects.clear()
        self.state.fail_next = 0
        self.state.delay_seconds = 0.0
        self.state.requests = 0


@pytest.fixture(scope="session")
def national() -> Iterator[Simulator]:
    sim = Simulator()
    yield sim
    sim.server.shutdown()
    sim.server.server_close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                national: Simulator) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp(request.param)
    url = f"sqlite:///{tmp / 'test.sqlite3'}" if request.param == "sqlite" else _fresh_pg()
    config = _config(url, tmp, _redis())
    config["CQPI_NATIONAL_URL"] = national.url
    app = create_app(config, catalog=test_catalog())
    prepare(app)
    yield app
    with app.app_context():  # leave nothing of this run's queue in the shared Redis
        empty_queue()
        handle = engine.queue.queues()
        handle.connection.srem("rq:queues", handle.queue.key)
    dispose(app)
    if request.param == "postgresql":
        drop_pg_database(PG_DB)


def empty_queue() -> None:
    """Drop this run's queued jobs (other runs may share the Redis server)."""
    handle = engine.queue.queues()
    for key in handle.connection.scan_iter(f"{handle.name}:*"):  # rate-limit counters
        handle.connection.delete(key)
    queue = handle.queue
    queue.empty()
    for registry in (queue.failed_job_registry, queue.finished_job_registry,
                     queue.started_job_registry, queue.scheduled_job_registry):
        for job_id in registry.get_job_ids():
            try:
                registry.remove(job_id, delete_job=True)
            except NotImplementedError:  # rq keeps started jobs by execution
                queue.connection.delete(registry.key)


def dispose(app: Flask) -> None:
    """Close the app's database and Redis connections (warnings are errors in this suite)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        engine.queue.queues().connection.close()


@pytest.fixture
def app(backend_app: Flask, national: Simulator) -> Iterator[Flask]:
    """A clean database, an empty queue and simulator, and an app context around the test."""
    national.reset()
    clock.reset()
    settings = dict(backend_app.config)  # what a test sets (a budget, a limit) ends with it
    with backend_app.app_context():
        _truncate()
        clear_cache()
        empty_queue()
        CALLS.__init__()  # type: ignore[misc]
        try:
            yield backend_app
        finally:
            db.session.rollback()
            backend_app.config.clear()
            backend_app.config.update(settings)


KEPT = {"jurisdiction", "alembic_version"}
"""Reference data that survives between tests."""


def _truncate() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEPT]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


def read_bpmn(*names: str) -> list[tuple[str, bytes]]:
    return [(name, (BPMN / name).read_bytes()) for name in names]


def deploy(*names: str) -> list[engine.definitions.Deployed]:
    return engine.deploy(read_bpmn(*names), engine.catalog())


def work(app: Flask) -> None:
    """Run a real rq worker until the queue is empty (in this process, like rq's own tests)."""
    make_worker(app).work(burst=True, logging_level="WARNING")
