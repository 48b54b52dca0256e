"""A worker runs consecutive service tasks of an instance in one pass, and a process reuses
the workflow it stored at the last step of an instance (only while the stored state is
unchanged), on SQLite and PostgreSQL through the real rq worker."""

from __future__ import annotations

import json
import zlib
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import OperationalError

import engine
from engine import clock, holders, state
from engine import jobs as jobs_module
from engine.db import db
from engine.jobs import tick
from engine.models import Event, Instance, Job
from engine.warm import WarmWorkflows, warm
from engine.worker import make_worker
from tests.conftest import BPMN, CALLS, deploy, work
from tests.engine.test_failures import drain
from tests.engine.test_runtime import open_tasks

CHAIN = (BPMN / "chain.bpmn").read_text()


def _events(instance_id: int) -> list[tuple[str, str | None]]:
    return [(e.kind, e.element_id) for e in db.session.scalars(
        sa.select(Event).filter_by(instance_id=instance_id).order_by(Event.id))]


def test_a_pass_leaves_its_next_job_to_the_queue_when_a_due_timer_waits(app: Flask) -> None:
    deploy("chain.bpmn")
    inst = engine.start("chain", business_key="CHAIN-Q")
    [first] = db.session.scalars(sa.select(Job).filter_by(instance_id=inst.id)).all()
    # other jobs waiting do not stop the chain (the first job is still on the queue here)
    handle = engine.queue.queues()
    engine.queue.enqueue("engine.jobs.run_timer", "no-such-timer", at_front=True,
                         job_id=holders.rq_id("timer", "no-such-timer"))  # a due timer
    assert jobs_module.run_service_job(first.id) == "done"
    assert [c["params"]["step"] for c in CALLS.seen] == ["Task_First"]
    assert handle.queue.count == 3  # the timer, the first job's entry, and Task_Second
    work(app)
    db.session.expire_all()
    assert db.session.get(Instance, inst.id).status == "completed"  # type: ignore[union-attr]


def test_jobs_waiting_on_the_queue_do_not_stop_a_chain(app: Flask) -> None:
    deploy("chain.bpmn")
    inst = engine.start("chain", business_key="CHAIN-B")
    [first] = db.session.scalars(sa.select(Job).filter_by(instance_id=inst.id)).all()
    assert engine.queue.queues().queue.count == 1  # its own entry: a backlog of one
    assert jobs_module.run_service_job(first.id) == "done"
    assert [c["params"]["step"] for c in CALLS.seen] == ["Task_First", "Task_Second"]


def test_consecutive_service_tasks_run_in_one_worker_pass(app: Flask) -> None:
    deploy("chain.bpmn")
    inst = engine.start("chain", business_key="CHAIN-1")
    work(app)
    db.session.expire_all()
    done = db.session.get(Instance, inst.id)
    assert done is not None and done.status == "completed"
    # First -> Second in one rq job; Second's step opens two parallel branches: two jobs
    # on the queue, so that two workers can take them.
    assert engine.queue.queues().queue.finished_job_registry.count == 3
    assert [c["params"]["step"] for c in CALLS.seen][:2] == ["Task_First", "Task_Second"]
    assert sorted(c["params"]["step"] for c in CALLS.seen[2:]) == ["Task_Left", "Task_Right"]
    jobs = db.session.scalars(sa.select(Job).filter_by(instance_id=inst.id)).all()
    assert [j.status for j in jobs] == ["done"] * 4 and all(j.attempts == 1 for j in jobs)
    succeeded = [el for kind, el in _events(inst.id) if kind == "job_succeeded"]
    assert succeeded[:2] == ["Task_First", "Task_Second"]
    assert sorted(succeeded[2:]) == ["Task_Left", "Task_Right"]
    data = state.data_of(done.state)
    assert data["first"] == {"echo": {"step": "Task_First"}}
    assert data["left"] == {"echo": {"step": "Task_Left"}}


def test_the_job_after_a_timer_runs_in_the_timer_s_pass(app: Flask) -> None:
    first = CHAIN[CHAIN.index('<bpmn:serviceTask id="Task_First"'):]
    first = first[:first.index("</bpmn:serviceTask>") + len("</bpmn:serviceTask>")]
    timer = ('<bpmn:intermediateCatchEvent id="Task_First" name="等待">'
             "<bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>"
             '<bpmn:timerEventDefinition id="Timer_First">'
             '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration>'
             "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")
    engine.deploy([("chain.bpmn", CHAIN.replace(first, timer).encode())], engine.catalog())
    inst = engine.start("chain", business_key="CHAIN-T")
    clock.travel(timedelta(hours=2))
    assert tick()["timers"] == 1
    work(app)
    db.session.expire_all()
    assert db.session.get(Instance, inst.id).status == "completed"  # type: ignore[union-attr]
    # the timer's pass ran Task_Second; its two branches went to the queue
    assert engine.queue.queues().queue.finished_job_registry.count == 3
    assert [kind for kind, _ in _events(inst.id)][:3] == [
        "instance_started", "timer_fired", "job_succeeded"]


def test_a_failing_link_stops_the_chain_and_is_retried_on_its_own(app: Flask) -> None:
    flaky = CHAIN.replace('id="test.echo" resultVariable="second"',
                          'id="test.flaky" resultVariable="second"')
    engine.deploy([("chain.bpmn", flaky.encode())], engine.catalog())
    CALLS.fail_times = 1
    inst = engine.start("chain", business_key="CHAIN-2")
    work(app)
    db.session.expire_all()
    jobs = {j.element_id: j for j in db.session.scalars(
        sa.select(Job).filter_by(instance_id=inst.id))}
    assert set(jobs) == {"Task_First", "Task_Second"}  # no branch opened yet
    assert (jobs["Task_First"].status, jobs["Task_Second"].status) == ("done", "pending")
    assert "国家平台暂时不可用" in (jobs["Task_Second"].last_error or "")
    drain(app)  # the tick enqueues the retry; it succeeds and the branches run
    db.session.expire_all()
    second = db.session.get(Job, jobs["Task_Second"].id)
    assert second is not None and (second.status, second.attempts) == ("done", 2)
    assert db.session.get(Instance, inst.id).status == "completed"  # type: ignore[union-attr]


def test_the_next_step_reuses_the_workflow_its_process_stored(app: Flask) -> None:
    deploy("flow.bpmn")
    inst = engine.start("flow", business_key="W-1", data={"title": "t", "wait": "PT1H"})
    hits = warm().hits
    [task] = open_tasks(inst.id)
    engine.complete_task(task.id, {"title": "新"}, actor="a")
    assert warm().hits == hits + 1
    make_worker(app).work(burst=True, logging_level="WARNING")
    db.session.expire_all()
    stored = db.session.get(Instance, inst.id)
    assert stored is not None and stored.status == "waiting"
    assert state.data_of(stored.state)["published"] == {"echo": {"title": "新（公示）"}}


def test_a_state_changed_by_another_writer_is_rebuilt_not_reused(app: Flask) -> None:
    deploy("flow.bpmn")
    inst = engine.start("flow", business_key="W-2", data={"title": "t", "wait": "PT1H"})
    # another process writes the instance: its workflow data now holds a marker
    row = db.session.get(Instance, inst.id)
    assert row is not None
    raw = json.loads(zlib.decompress(row.state))
    raw["data"] = {**raw.get("data", {}), "marker": "written elsewhere"}
    row.state = zlib.compress(json.dumps(raw, ensure_ascii=False).encode(), 1)
    db.session.commit()
    misses = warm().misses
    [task] = open_tasks(inst.id)
    engine.complete_task(task.id, {"title": "新"}, actor="a")
    assert warm().misses == misses + 1
    db.session.expire_all()
    stored = db.session.get(Instance, inst.id)
    assert stored is not None
    assert state.data_of(stored.state)["marker"] == "written elsewhere"


def test_a_failed_step_leaves_no_workflow_behind(app: Flask) -> None:
    deploy("flow.bpmn")
    inst = engine.start("flow", business_key="W-3", data={"title": "t", "wait": "PT1H"})
    [task] = open_tasks(inst.id)
    with pytest.raises(engine.StepFailed):  # the service task's parameter: 7 + "（公示）"
        engine.complete_task(task.id, {"title": 7}, actor="a")
    misses = warm().misses
    engine.complete_task(task.id, {"title": "好"}, actor="a")  # rebuilt from the database
    assert warm().misses == misses + 1
    db.session.expire_all()
    completed = [e for e in _events(inst.id) if e[0] == "task_completed"]
    assert len(completed) == 1


def test_kept_workflows_are_bounded_taken_once_and_can_be_turned_off() -> None:
    kept = WarmWorkflows(2)
    for i in (1, 2, 3):
        kept.keep(i, 10, b"s%d" % i, f"wf{i}")
    assert kept.take(1, 10, b"s1") is None  # the oldest went when the third came
    assert kept.take(3, 10, b"s3") == "wf3"
    assert kept.take(3, 10, b"s3") is None  # taken, not shared
    assert kept.take(2, 11, b"s2") is None  # another definition (a migration)
    off = WarmWorkflows(0)
    off.keep(1, 10, b"s", "wf")
    assert off.take(1, 10, b"s") is None


def test_a_result_meets_an_instance_moved_meanwhile_and_is_applied_to_the_new_state(
        app: Flask) -> None:
    deploy("chain.bpmn")
    echo = engine.catalog().operations["test.echo"]
    moved = []

    def another_writer_moves_the_instance(params: dict, context: dict) -> dict | None:
        if params["step"] == "Task_First" and not moved:
            with app.app_context():  # another process writes the instance meanwhile
                row = db.session.get(Instance, context["instance_id"])
                assert row is not None
                raw = json.loads(zlib.decompress(row.state))
                raw["data"] = {**raw.get("data", {}), "marker": "moved"}
                row.state = zlib.compress(json.dumps(raw, ensure_ascii=False).encode(), 1)
                db.session.commit()
                moved.append(row.lock_version)
        return echo(params, context)

    engine.catalog().operations["test.echo"] = another_writer_moves_the_instance
    try:
        inst = engine.start("chain", business_key="CHAIN-3")
        work(app)
    finally:
        engine.catalog().operations["test.echo"] = echo
    db.session.expire_all()
    done = db.session.get(Instance, inst.id)
    assert done is not None and done.status == "completed"
    assert state.data_of(done.state)["marker"] == "moved"  # the other write is kept
    first = db.session.scalars(sa.select(Job).filter_by(
        instance_id=inst.id, element_id="Task_First")).one()
    assert (first.status, first.attempts) == ("done", 1)  # applied again, not run again
    assert [c["params"]["step"] for c in CALLS.seen].count("Task_First") == 1
    assert [el for kind, el in _events(inst.id) if kind == "job_succeeded"].count(
        "Task_First") == 1


def test_a_pass_that_meets_a_database_outage_goes_on_where_it_stopped(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    deploy("chain.bpmn")
    inst = engine.start("chain", business_key="CHAIN-O")
    [first] = db.session.scalars(sa.select(Job).filter_by(instance_id=inst.id)).all()
    real, loads = jobs_module._load, []

    def second_load_fails(job_id: int) -> Any:
        loads.append(job_id)
        if len(loads) == 2:  # Task_Second, run in the pass of Task_First
            raise OperationalError("SELECT", {}, Exception("server closed the connection"))
        return real(job_id)

    engine.queue.queues().queue.empty()  # run here, not by a worker: nothing else waits
    monkeypatch.setattr(jobs_module, "_load", second_load_fails)
    monkeypatch.setattr(jobs_module, "OUTAGE_BACKOFF", (0.01,))
    assert jobs_module.run_service_job(first.id) == "done"
    assert loads[0] == first.id and loads[1] == loads[2] != first.id  # resumed, not restarted
    monkeypatch.undo()
    work(app)  # the two branches the pass enqueued
    db.session.expire_all()
    assert db.session.get(Instance, inst.id).status == "completed"  # type: ignore[union-attr]
    assert [c["params"]["step"] for c in CALLS.seen][:2] == ["Task_First", "Task_Second"]
    assert len(CALLS.seen) == 4
