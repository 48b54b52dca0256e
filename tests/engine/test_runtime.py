"""Running instances on SQLite and PostgreSQL, with jobs through a real Redis and rq worker."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine import runtime, state
from engine.db import db
from engine.jobs import tick
from engine.models import (
    Event,
    Instance,
    Job,
    MessageWait,
    Timer,
    UserTask,
    WaitStatus,
)
from tests.conftest import BPMN, CALLS, deploy, work


def fresh(model: Any, key: Any) -> Any:
    db.session.expire_all()
    return db.session.get(model, key)


def open_tasks(instance_id: int) -> list[UserTask]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(UserTask).filter_by(
        instance_id=instance_id, status=WaitStatus.OPEN)))


def wait_for(predicate: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_user_service_timer_message_to_end_through_the_real_worker(app: Flask) -> None:
    deploy("flow.bpmn")
    inst = engine.start("flow", business_key="APP-1", scope="500103",
                        data={"title": "某项目", "wait": "PT1S"}, actor="system")
    [task] = open_tasks(inst.id)
    assert (task.element_id, task.name, task.candidate_group, task.form_key, task.scope) == (
        "Task_Enter", "填写申请", "applicant", "test_form", "500103")
    hook = engine.catalog().due_at  # the application counts P5D in working days
    assert hook is not None and task.due_at == hook(task.created_at, "P5D")

    engine.complete_task(task.id, {"title": "新项目"}, actor="alice")
    assert fresh(Instance, inst.id).status == "running"
    work(app)  # rq worker runs the service job
    assert CALLS.seen[0]["params"] == {"title": "新项目（公示）"}
    assert CALLS.seen[0]["context"]["idempotency_key"].startswith("cqpi-job-")
    assert fresh(Instance, inst.id).status == "waiting"
    [timer] = db.session.scalars(sa.select(Timer).filter_by(instance_id=inst.id)).all()
    assert timer.status == "open"

    wait_for(lambda: tick()["timers"] == 1, seconds=5)
    work(app)  # the worker fires the timer
    [wait] = db.session.scalars(sa.select(MessageWait).filter_by(status="open")).all()
    assert (wait.name, wait.correlation_key) == ("reply", "APP-1")

    assert engine.correlate("reply", "OTHER-KEY", {"ok": True}) == 0
    assert engine.correlate("reply", "APP-1", {"ok": True}, actor="ministry") == 1
    done = fresh(Instance, inst.id)
    assert done.status == "completed" and done.ended_at is not None
    assert state.data_of(done.state)["published"] == {"echo": {"title": "新项目（公示）"}}
    kinds = [e.kind for e in db.session.scalars(
        sa.select(Event).filter_by(instance_id=inst.id).order_by(Event.id))]
    assert kinds == ["instance_started", "task_completed", "job_succeeded", "timer_fired",
                     "message_received", "instance_completed"]
    completed = db.session.scalars(sa.select(Event).filter_by(kind="task_completed")).one()
    assert (completed.actor, completed.data) == ("alice", {"title": "新项目"})


def test_state_is_stored_without_the_spec(app: Flask) -> None:
    deploy("loop.bpmn")
    inst = engine.start("loop", data={"rounds": 0})
    stored = state.data_of(fresh(Instance, inst.id).state)
    assert stored == {"rounds": 0}
    import json
    import zlib
    raw = json.loads(zlib.decompress(fresh(Instance, inst.id).state))
    assert "spec" not in raw and "subprocess_specs" not in raw
    assert len(fresh(Instance, inst.id).state) < 2000


def test_completing_a_task_twice_is_a_conflict(app: Flask) -> None:
    deploy("loop.bpmn")
    inst = engine.start("loop", data={"rounds": 0})
    [task] = open_tasks(inst.id)
    engine.complete_task(task.id, {"decision": "approve"}, actor="a")
    with pytest.raises(engine.Conflict):
        engine.complete_task(task.id, {"decision": "approve"}, actor="b")
    assert fresh(Instance, inst.id).status == "completed"


def test_a_stale_writer_gets_a_conflict_and_writes_nothing(app: Flask) -> None:
    deploy("loop.bpmn")
    inst = engine.start("loop", data={"rounds": 0})
    [task] = open_tasks(inst.id)
    with app.app_context():  # writer A loads the instance ...
        step = runtime._open(inst.id)
        with app.app_context():  # ... writer B completes the task meanwhile ...
            engine.complete_task(task.id, {"decision": "return"}, actor="b")
        step.workflow.get_task_from_id(step.workflow.get_tasks(state=16)[0].id)
        with pytest.raises(engine.Conflict):  # ... and A's write is refused
            runtime._commit(step)
    after = fresh(Instance, inst.id)
    assert after.lock_version == 2
    assert len(open_tasks(inst.id)) == 1


def test_concurrent_completions_one_wins(app: Flask) -> None:
    deploy("flow.bpmn")
    inst = engine.start("flow", business_key="K", data={"title": "t", "wait": "PT1H"})
    [task] = open_tasks(inst.id)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def complete(who: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                engine.complete_task(task.id, {"title": who}, actor=who)
                outcomes.append("ok")
            except engine.Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=complete, args=(w,)) for w in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 1
    assert fresh(Instance, inst.id).lock_version == 2


def test_three_hundred_rounds_of_return_keep_working(app: Flask) -> None:
    deploy("loop.bpmn")
    inst = engine.start("loop", data={"rounds": 0})
    for _ in range(300):
        [task] = open_tasks(inst.id)
        engine.complete_task(task.id, {"decision": "return"}, actor="r")
    [task] = open_tasks(inst.id)
    engine.complete_task(task.id, {"decision": "approve"}, actor="r")
    done = fresh(Instance, inst.id)
    assert done.status == "completed"
    assert state.data_of(done.state)["rounds"] == 300


def test_failing_expression_refuses_the_step_and_leaves_the_instance_as_it_was(
        app: Flask) -> None:
    deploy("loop.bpmn")
    inst = engine.start("loop", data={})  # no "rounds": the script will fail
    [task] = open_tasks(inst.id)
    with pytest.raises(engine.StepFailed, match="rounds"):
        engine.complete_task(task.id, {"decision": "return"}, actor="r")
    assert [t.id for t in open_tasks(inst.id)] == [task.id]
    assert fresh(Instance, inst.id).lock_version == 1


def test_claim_and_unclaim(app: Flask) -> None:
    deploy("loop.bpmn")
    inst = engine.start("loop", data={"rounds": 0})
    [task] = open_tasks(inst.id)
    engine.claim(task.id, "alice")
    with pytest.raises(engine.Conflict):
        engine.claim(task.id, "bob")
    with pytest.raises(engine.Conflict):
        engine.complete_task(task.id, {"decision": "approve"}, actor="bob")
    with pytest.raises(engine.Conflict):
        engine.unclaim(task.id, "bob")
    engine.unclaim(task.id, "alice")
    engine.claim(task.id, "bob")
    engine.complete_task(task.id, {"decision": "approve"}, actor="bob")


def test_unknown_process_and_task_are_not_found(app: Flask) -> None:
    with pytest.raises(engine.NotFound, match="尚未部署"):
        engine.start("nothing")
    with pytest.raises(engine.NotFound):
        engine.complete_task("00000000-0000-0000-0000-000000000000", {}, actor="x")


def test_state_saved_by_another_serializer_version_is_refused_clearly(app: Flask) -> None:
    deploy("loop.bpmn")
    inst = engine.start("loop", data={"rounds": 0})
    [task] = open_tasks(inst.id)
    db.session.execute(sa.update(Instance).values(serializer_version="1.0"))
    db.session.commit()
    with pytest.raises(engine.InvalidState, match="序列化格式 1.0"):
        engine.complete_task(task.id, {"decision": "approve"}, actor="r")


SCOPED = (BPMN / "flow.bpmn").read_text().replace(
    '<spiffworkflow:property name="dueIn" value="P5D"/>',
    '<spiffworkflow:property name="dueIn" value="P5D"/>\n'
    '          <spiffworkflow:property name="scope" value="&quot;org:&quot; + str(applicant)"/>')


def test_a_user_task_scope_expression_picks_who_sees_it(app: Flask) -> None:
    engine.deploy([("flow.bpmn", SCOPED.encode())], engine.catalog())
    inst = engine.start("flow", business_key="S", scope="500103",
                        data={"title": "t", "wait": "PT1H", "applicant": 42})
    [task] = open_tasks(inst.id)
    assert task.scope == "org:42"
    with pytest.raises(engine.StepFailed, match="applicant"):
        engine.start("flow", business_key="S2", data={"title": "t", "wait": "PT1H"})
    assert db.session.scalar(sa.select(sa.func.count(Instance.id))) == 1


def test_a_bad_due_duration_is_refused_at_validation(app: Flask) -> None:
    bad = SCOPED.replace('value="P5D"', 'value="five days"')
    with pytest.raises(engine.DefinitionInvalid, match="dueIn"):
        engine.deploy([("flow.bpmn", bad.encode())], engine.catalog())


def test_a_timer_whose_time_is_up_within_its_step_is_in_the_history(app: Flask) -> None:
    short = (BPMN / "timer.bpmn").read_text().replace('"PT1S"', '"PT0S"')
    engine.deploy([("timer.bpmn", short.encode())], engine.catalog())
    inst = engine.start("timer", business_key="T-0")
    assert fresh(Instance, inst.id).status == "completed"  # never waited: no timer row
    assert db.session.scalars(sa.select(Timer).filter_by(instance_id=inst.id)).all() == []
    events = db.session.scalars(sa.select(Event).filter_by(instance_id=inst.id)
                                .order_by(Event.id)).all()
    assert [(e.kind, e.element_id) for e in events] == [
        ("instance_started", None), ("timer_fired", "Event_Due"), ("instance_completed", None)]
    assert events[1].data == {"within_step": True}


def test_a_timer_fired_by_the_tick_is_recorded_once(app: Flask) -> None:
    deploy("timer.bpmn")
    inst = engine.start("timer", business_key="T-1")
    time.sleep(1.1)
    wait_for(lambda: tick()["timers"] == 1, seconds=5)
    work(app)
    assert fresh(Instance, inst.id).status == "completed"
    kinds = [e.kind for e in db.session.scalars(
        sa.select(Event).filter_by(instance_id=inst.id).order_by(Event.id))]
    assert kinds == ["instance_started", "timer_fired", "instance_completed"]


def test_a_due_timer_goes_before_the_jobs_waiting_on_the_queue(app: Flask) -> None:
    deploy("timer.bpmn")
    engine.start("timer", business_key="T-2")
    waiting = [engine.queue.queues().queue.enqueue("engine.jobs.run_service_job", n).id
               for n in (10**6, 10**6 + 1)]  # a backlog (no such job rows: they would skip)
    time.sleep(1.1)
    wait_for(lambda: tick()["timers"] == 1, seconds=5)
    first, *rest = engine.queue.queues().queue.get_jobs()
    assert first.func_name == "engine.jobs.run_timer"
    assert [job.id for job in rest] == waiting
