"""Nothing stranded (issue 15): a row the database says is enqueued but that no queue and no
live worker holds (a worker killed mid-job, an rq entry lost) is enqueued again by the tick
within seconds, not after the five-minute stale sweep; one that is held is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from engine import clock, holders, jobs, queue
from engine.db import db
from engine.models import Job
from engine.queue import queues
from tests.conftest import CALLS, work
from tests.engine.test_failures import start_push


@pytest.fixture(autouse=True)
def _every_tick_looks(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "RELEASE_EVERY", 0.0)
    queue.emptied()  # the queue's marker is set, as a first tick would have set it


def lose_queue_entries() -> None:
    """The queue's entries go (not the whole Redis: its marker key stays, so this is not a
    restart that the tick notices at once)."""
    queues().queue.empty()


def _job() -> Job:
    [job] = db.session.scalars(sa.select(Job)).all()
    return job


def _later() -> None:
    clock.travel(holders.CHECK_AFTER + timedelta(seconds=1))


def test_a_job_no_queue_holds_is_enqueued_again_within_seconds(app: Flask) -> None:
    start_push(app)
    lose_queue_entries()  # the rq entry is gone, the row still says enqueued
    assert jobs.tick()["jobs"] == 0  # too young to ask about
    _later()
    assert jobs.tick()["jobs"] == 1
    work(app)
    assert len(CALLS.seen) == 1 and _job().status == "done"


def test_a_job_waiting_on_the_queue_is_left_there(app: Flask) -> None:
    start_push(app)
    _later()
    assert jobs.tick()["jobs"] == 0
    assert queues().queue.count == 1


def test_a_job_a_live_worker_runs_is_left_to_it_and_a_dead_ones_is_not(app: Flask) -> None:
    start_push(app)
    lose_queue_entries()
    job_id = _job().id
    _later()
    with holders.running("job", job_id):
        holders.beat()  # this process is alive and runs it
        assert jobs.tick()["jobs"] == 0
    key = f"{queues().name}:running:job:{job_id}"
    queues().connection.set(key, "a-host-that-was-killed-4242")
    assert jobs.tick()["jobs"] == 1
    work(app)
    assert len(CALLS.seen) == 1
    assert queues().connection.get(key) is None  # the run's mark is gone with it


def test_a_lost_timer_is_fired_again(app: Flask) -> None:
    start_push(app)
    work(app)  # the job ran; its step opened the timer, due in an hour
    clock.travel(timedelta(hours=2))
    assert jobs.tick()["timers"] == 1
    lose_queue_entries()  # lost before any worker took it
    assert jobs.tick()["timers"] == 0
    _later()
    assert jobs.tick()["timers"] == 1
    assert holders.unheld("timer", []) == []
