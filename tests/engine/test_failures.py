"""Failing jobs: retries with back-off, incidents, and the ops operations that repair them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import OperationalError

import engine
from engine import clock, jobs
from engine.clock import now
from engine.db import db
from engine.models import Event, Incident, Instance, Job, Timer, UserTask
from tests.conftest import BPMN, CALLS, empty_queue, work
from tests.engine.test_runtime import fresh, open_tasks

PUSH = (BPMN / "flow.bpmn").read_text().replace('id="test.echo"', 'id="test.flaky"')


def start_push(app: Flask, wait: str = "PT1H") -> Instance:
    engine.deploy([("push.bpmn", PUSH.encode())], engine.catalog())
    inst = engine.start("flow", business_key="P-1", data={"title": "t", "wait": wait})
    [task] = open_tasks(inst.id)
    engine.complete_task(task.id, {}, actor="alice")
    return inst


def drain(app: Flask, rounds: int = 10) -> None:
    """Run the worker and the tick until nothing is due (back-off is 0 s in tests)."""
    for _ in range(rounds):
        work(app)
        if not any(jobs.tick().values()):
            return


def test_a_flaky_job_is_retried_until_it_succeeds(app: Flask) -> None:
    CALLS.fail_times = 2
    inst = start_push(app)
    drain(app)
    [job] = db.session.scalars(sa.select(Job)).all()
    db.session.refresh(job)
    assert (job.status, job.attempts) == ("done", 3)
    assert [c["context"]["attempt"] for c in CALLS.seen] == [1, 2, 3]
    assert len({c["context"]["idempotency_key"] for c in CALLS.seen}) == 1
    assert fresh(Instance, inst.id).status == "waiting"
    kinds = [e.kind for e in db.session.scalars(sa.select(Event).order_by(Event.id))]
    assert kinds.count("job_failed") == 2 and "job_succeeded" in kinds


def test_back_off_delays_the_next_attempt(app: Flask) -> None:
    app.config["CQPI_JOB_BACKOFF_SECONDS"] = 30
    try:
        CALLS.fail_times = 1
        start_push(app)
        work(app)
        [job] = db.session.scalars(sa.select(Job)).all()
        db.session.refresh(job)
        assert job.status == "pending" and job.attempts == 1
        assert job.run_after > now() + timedelta(seconds=25)
        assert jobs.tick() == {"jobs": 0, "timers": 0}  # not due yet
    finally:
        app.config["CQPI_JOB_BACKOFF_SECONDS"] = 0


def test_retries_run_out_into_an_incident_that_ops_can_retry(app: Flask) -> None:
    CALLS.fail_times = 3  # CQPI_JOB_MAX_ATTEMPTS is 3 in tests
    inst = start_push(app)
    drain(app)
    assert fresh(Instance, inst.id).status == "error"
    [incident] = db.session.scalars(sa.select(Incident)).all()
    assert incident.element_id == "Task_Publish" and incident.attempts == 3
    assert "国家平台暂时不可用" in incident.error

    assert engine.retry(inst.id, actor="ops") == 1
    drain(app)
    assert fresh(Instance, inst.id).status == "waiting"
    db.session.refresh(incident)
    assert incident.resolved_at is not None
    with pytest.raises(engine.InvalidState, match="没有待处理的故障"):
        engine.retry(inst.id, actor="ops")


def test_suspended_instance_does_not_move_until_resumed(app: Flask) -> None:
    engine.deploy([("push.bpmn", PUSH.encode())], engine.catalog())
    inst = engine.start("flow", business_key="S-1", data={"title": "t", "wait": "PT1H"})
    [task] = open_tasks(inst.id)
    engine.suspend(inst.id, actor="ops", reason="核查中")
    with pytest.raises(engine.InvalidState, match="已挂起"):
        engine.complete_task(task.id, {}, actor="alice")
    engine.resume(inst.id, actor="ops")
    engine.complete_task(task.id, {}, actor="alice")
    engine.suspend(inst.id, actor="ops")
    work(app)  # the job is skipped while suspended, and parked: no sweep enqueues it again
    assert fresh(Instance, inst.id).status == "suspended"
    assert CALLS.seen == []
    [job] = db.session.scalars(sa.select(Job).filter_by(instance_id=inst.id)).all()
    assert fresh(Job, job.id).enqueued_at == jobs.PARKED
    assert jobs.tick()["jobs"] == 0
    engine.resume(inst.id, actor="ops")  # ... and runs after resume
    assert fresh(Instance, inst.id).status == "running"
    drain(app)
    assert fresh(Instance, inst.id).status == "waiting"
    reasons = [e.data for e in db.session.scalars(
        sa.select(Event).filter_by(kind="instance_suspended").order_by(Event.id))]
    assert reasons[0] == {"reason": "核查中"}


def test_a_due_timer_of_a_suspended_instance_waits_parked_for_resume(app: Flask) -> None:
    inst = start_push(app)
    drain(app)
    [timer] = db.session.scalars(sa.select(Timer)).all()
    engine.suspend(inst.id, actor="ops", reason="核查中")
    clock.travel(timedelta(hours=2))
    assert jobs.tick()["timers"] == 1
    work(app)  # not fired while suspended ...
    assert fresh(Timer, timer.id).status == "open"
    assert fresh(Timer, timer.id).enqueued_at == jobs.PARKED
    assert jobs.tick()["timers"] == 0  # ... and not enqueued again and again
    engine.resume(inst.id, actor="ops")
    drain(app)  # fired after resume
    assert fresh(Timer, timer.id).status == "done"


def test_terminate_cancels_every_wait(app: Flask) -> None:
    inst = start_push(app)
    drain(app)
    [timer] = db.session.scalars(sa.select(Timer)).all()
    engine.terminate(inst.id, actor="ops", reason="重复申请")
    done = fresh(Instance, inst.id)
    assert done.status == "terminated" and done.ended_at is not None
    db.session.refresh(timer)
    assert timer.status == "done"
    with pytest.raises(engine.InvalidState):
        engine.terminate(inst.id, actor="ops")


def test_terminating_a_waiting_user_task_cancels_it(app: Flask) -> None:
    engine.deploy([("push.bpmn", PUSH.encode())], engine.catalog())
    inst = engine.start("flow", business_key="T-2", data={"title": "t", "wait": "PT1H"})
    [task] = open_tasks(inst.id)
    engine.terminate(inst.id, actor="ops", reason="撤回")
    assert fresh(UserTask, task.id).status == "cancelled"
    assert open_tasks(inst.id) == []


def test_a_job_lost_with_redis_is_enqueued_again_by_the_tick(app: Flask) -> None:
    start_push(app)
    empty_queue()  # Redis lost the queued job
    work(app)
    assert CALLS.seen == []
    db.session.execute(sa.update(Job).values(enqueued_at=now() - timedelta(minutes=10)))
    db.session.commit()
    assert jobs.tick()["jobs"] == 1
    assert jobs.tick()["jobs"] == 0  # claimed once, not twice
    work(app)
    assert len(CALLS.seen) == 1


def test_a_step_that_fails_after_a_job_becomes_an_incident(app: Flask) -> None:
    engine.deploy([("push.bpmn", PUSH.encode())], engine.catalog())
    inst = engine.start("flow", business_key="B-1", data={"title": "t", "wait": "not a duration"})
    [task] = open_tasks(inst.id)
    engine.complete_task(task.id, {}, actor="alice")
    drain(app)
    assert fresh(Instance, inst.id).status == "error"
    [incident] = db.session.scalars(sa.select(Incident)).all()
    assert incident.element_id == "Task_Publish"
    assert "Invalid duration" in incident.error or "流程无法继续" in incident.error


def test_an_operation_unknown_to_the_worker_fails_into_an_incident(app: Flask) -> None:
    start_push(app)
    catalog = engine.catalog()
    handler = catalog.operations.pop("test.flaky")
    try:
        drain(app)
    finally:
        catalog.operations["test.flaky"] = handler
    [incident] = db.session.scalars(sa.select(Incident)).all()
    assert "未注册的服务操作: test.flaky" in incident.error


def _outage_once(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """``jobs.<name>`` meets an unreachable database the first time it is called."""
    real, calls = getattr(jobs, name), []

    def flaky(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT", {}, Exception("the database system is shutting down"))
        return real(*args)

    monkeypatch.setattr(jobs, name, flaky)
    monkeypatch.setattr(jobs, "OUTAGE_BACKOFF", (0.01,))
    return calls


@pytest.mark.parametrize("where", ["_load", "_record_failure"])
def test_a_job_that_meets_a_database_outage_waits_and_runs_once_it_is_back(
        app: Flask, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    CALLS.fail_times = 1 if where == "_record_failure" else 0
    start_push(app)
    empty_queue()
    [job] = db.session.scalars(sa.select(Job)).all()
    calls = _outage_once(monkeypatch, where)
    assert jobs.run_service_job(job.id) == "done"
    assert calls  # the outage was met, and the whole job ran again once it was over
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job is not None and (job.status, job.attempts) == ("done", 1)
    # the handler ran again (idempotent, with the same key) when its failure could not be
    # recorded: the outage is no attempt of the job's
    assert len(CALLS.seen) == (2 if where == "_record_failure" else 1)
    assert len({c["context"]["idempotency_key"] for c in CALLS.seen}) == 1


def test_a_job_gives_up_on_a_database_that_stays_away(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    start_push(app)
    [job] = db.session.scalars(sa.select(Job)).all()

    def down(*_: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(jobs, "_load", down)
    monkeypatch.setattr(jobs, "OUTAGE_BACKOFF", (0.01,))
    monkeypatch.setattr(jobs, "OUTAGE_WAIT", timedelta(seconds=0.1))
    with pytest.raises(OperationalError):
        jobs.run_service_job(job.id)
