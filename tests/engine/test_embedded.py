"""The embedded default: SQLite, the in-memory rq queue, worker and tick threads in-process."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import engine
from engine.db import db
from engine.models import Instance, MessageWait
from engine.worker import start_embedded
from tests.conftest import CALLS, _config, dispose, read_bpmn, test_catalog
from tests.engine.test_runtime import open_tasks
from web import create_app
from web.database import prepare


def wait_until(predicate: Any, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        db.session.expire_all()
        if predicate():
            return
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_jobs_and_timers_run_inside_the_process(tmp_path: Path) -> None:
    app = create_app(_config(f"sqlite:///{tmp_path / 'e.sqlite3'}", tmp_path, None),
                     catalog=test_catalog())
    assert engine.queue.queues(app).embedded
    CALLS.__init__()  # type: ignore[misc]
    stop = None
    try:
        prepare(app)
        with app.app_context():
            engine.deploy(read_bpmn("flow.bpmn"), engine.catalog())
            stop = start_embedded(app)
            inst = engine.start("flow", business_key="E-1", data={"title": "t", "wait": "PT1S"})
            [task] = open_tasks(inst.id)
            engine.complete_task(task.id, {}, actor="alice")
            # the worker thread runs the job, the tick thread fires the timer after 1 s
            wait_until(lambda: db.session.scalar(
                sa.select(sa.func.count(MessageWait.id)).filter_by(status="open")) == 1)
            assert len(CALLS.seen) == 1
            assert engine.correlate("reply", "E-1") == 1
            assert db.session.get(Instance, inst.id).status == "completed"
    finally:
        if stop is not None:
            stop.set()
        dispose(app)
