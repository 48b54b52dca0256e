"""Faults with real processes: a worker killed in the middle of a push, Redis losing the
queue. The push reaches the national platform exactly once and nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

import lifecycle
from engine import clock
from engine.db import db
from engine.jobs import tick
from engine.worker import make_worker
from tests.conftest import SIM_TOKEN, Simulator, empty_queue
from tests.processes.helpers import (
    REVIEW_OK,
    deploy_processes,
    instance_of,
    open_task,
    people,
    settle,
    submit_intake,
)

CQPI = str(Path(sys.executable).parent / "cqpi")


def _worker_env(app: Flask, national: Simulator) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
            "REDIS_URL": app.config["REDIS_URL"], "CQPI_QUEUE_NAME": app.config["CQPI_QUEUE_NAME"],
            "CQPI_DATA_DIR": app.config["CQPI_DATA_DIR"], "CQPI_NATIONAL_URL": national.url,
            "CQPI_NATIONAL_TOKEN": SIM_TOKEN, "CQPI_SAMPLING_DAY": "0",
            "CQPI_LOG_LEVEL": "WARNING"}


def _published_and_due(app: Flask) -> object:
    """An intake application whose publicity has just ended: its timer is on the queue, and
    the worker that takes it closes the publicity and pushes in the same pass
    (engine.jobs.CHAIN_LIMIT).

    Real time, not travelled: worker processes of their own read the wall clock."""
    deploy_processes()
    who = people()
    application = submit_intake(who)
    app.config["CQPI_PUBLICITY"] = "PT1S"
    try:
        lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, who.yuzhong)
        settle(app)
    finally:
        app.config["CQPI_PUBLICITY"] = "5"
    time.sleep(1.1)
    assert tick()["timers"] == 1
    return application


@pytest.fixture
def postgres_only(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several processes share one PostgreSQL database")


def test_a_worker_killed_mid_push_pushes_exactly_once(
        app: Flask, national: Simulator, postgres_only: None) -> None:
    application = _published_and_due(app)
    national.state.delay_seconds = 5.0
    worker = subprocess.Popen([CQPI, "worker", "--burst"], env=_worker_env(app, national),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while national.state.requests == 0:  # the push is on its way
            assert time.monotonic() < deadline, "the worker never pushed"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    national.state.delay_seconds = 0.0
    deadline = time.monotonic() + 30
    while not national.state.pushes:  # the simulator finishes the request the dead worker sent
        assert time.monotonic() < deadline, "the simulator never stored the push"
        time.sleep(0.1)
    assert len(national.state.pushes) == 1
    assert instance_of(application).status == "running"  # the job did not finish
    clock.travel(timedelta(minutes=10))  # the job is stale: the reconciling tick re-enqueues it
    settle(app)
    assert instance_of(application).status == "completed"
    assert len(national.state.pushes) == 1  # replayed with the same idempotency key
    [push] = national.state.pushes.values()
    assert push["body"]["idempotency_key"].startswith("cqpi-job-")


def test_redis_losing_the_queue_loses_no_work(
        app: Flask, national: Simulator) -> None:
    application = _published_and_due(app)
    empty_queue()  # Redis restarted empty: the timer's job (close, then push) is gone
    make_worker(app).work(burst=True, logging_level="WARNING")
    assert national.state.pushes == {}
    clock.travel(timedelta(minutes=10))
    settle(app)
    assert instance_of(application).status == "completed"
    assert len(national.state.pushes) == 1


def test_a_platform_down_for_good_is_an_incident_that_a_retry_clears(
        app: Flask, national: Simulator) -> None:
    import engine

    application = _published_and_due(app)
    national.state.fail_next = 100
    settle(app)
    assert instance_of(application).status == "error"
    national.state.fail_next = 0
    engine.retry(instance_of(application).id, actor="ops")
    settle(app)
    assert instance_of(application).status == "completed"
    assert len(national.state.pushes) == 1
