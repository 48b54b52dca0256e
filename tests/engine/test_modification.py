"""Instance modification: ops move a waiting instance back to an element it passed, with a
reason; refused (in Chinese, with the reason) where that cannot end well."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine.db import db
from engine.models import Event, Incident, Instance, Job, UserTask
from engine.modification import SkipNotConfirmed, modify
from tests.conftest import BPMN, CALLS
from tests.engine.test_failures import drain, start_push
from tests.engine.test_runtime import fresh, open_tasks

CHAIN = (BPMN / "chain.bpmn").read_text()
RIGHT_FAILS = CHAIN.replace(
    '<bpmn:serviceTask id="Task_Right" name="乙路">\n      <bpmn:extensionElements>\n'
    '        <spiffworkflow:serviceTaskOperator id="test.echo"',
    '<bpmn:serviceTask id="Task_Right" name="乙路">\n      <bpmn:extensionElements>\n'
    '        <spiffworkflow:serviceTaskOperator id="test.flaky"')


def test_a_move_back_cancels_the_service_task_only_once_confirmed(app: Flask) -> None:
    inst = start_push(app)  # Task_Enter done, Task_Publish's job pending
    with pytest.raises(SkipNotConfirmed, match="发布公示") as refused:
        modify(inst.id, "Task_Enter", actor="ops", reason="申请填错")
    assert refused.value.skipped == ["Task_Publish"]
    assert [j.status for j in db.session.scalars(sa.select(Job))] == ["pending"]

    modify(inst.id, "Task_Enter", actor="ops", reason="申请填错", skip=["Task_Publish"])
    [task] = open_tasks(inst.id)
    assert task.element_id == "Task_Enter"
    done = db.session.scalars(sa.select(UserTask).filter_by(status="done")).all()
    assert len(done) == 1 and done[0].id != task.id  # the earlier run keeps its row
    assert [j.status for j in db.session.scalars(sa.select(Job))] == ["cancelled"]
    event = db.session.scalar(sa.select(Event).filter_by(kind="instance_modified"))
    assert event is not None and event.actor == "ops" and event.element_id == "Task_Enter"
    assert event.data == {"reason": "申请填错", "from": ["Task_Publish"], "to": "Task_Enter",
                          "skipped": ["Task_Publish"], "incidents": []}
    engine.complete_task(task.id, {}, actor="alice")  # it runs on as before
    drain(app)
    assert fresh(Instance, inst.id).status == "waiting"
    assert [j.status for j in db.session.scalars(sa.select(Job).order_by(Job.id))] == [
        "cancelled", "done"]


def test_a_move_back_from_a_failed_service_task_resolves_its_incident(app: Flask) -> None:
    CALLS.fail_times = 100
    inst = start_push(app)
    drain(app)
    assert fresh(Instance, inst.id).status == "error"
    modify(inst.id, "Task_Enter", actor="ops", reason="重新填写", skip=["Task_Publish"])
    assert fresh(Instance, inst.id).status == "waiting"
    [incident] = db.session.scalars(sa.select(Incident)).all()
    assert incident.resolved_at is not None


def test_refusals_say_why(app: Flask) -> None:
    inst = start_push(app)
    with pytest.raises(engine.InvalidState, match="须填写原因"):
        modify(inst.id, "Task_Enter", actor="ops", reason=" ")
    with pytest.raises(engine.InvalidState, match="尚未经过环节 Event_Reply"):
        modify(inst.id, "Event_Reply", actor="ops", reason="r")
    with pytest.raises(engine.InvalidState, match="没有环节 Nowhere"):
        modify(inst.id, "Nowhere", actor="ops", reason="r")
    engine.suspend(inst.id, "ops", "查")
    with pytest.raises(engine.InvalidState, match="实例已挂起，不能移动"):
        modify(inst.id, "Task_Enter", actor="ops", reason="r", skip=["Task_Publish"])
    engine.resume(inst.id, "ops")
    engine.terminate(inst.id, "ops", "撤")
    with pytest.raises(engine.InvalidState, match="不能移动"):
        modify(inst.id, "Task_Enter", actor="ops", reason="r", skip=["Task_Publish"])
    assert db.session.scalar(sa.select(Event).filter_by(kind="instance_modified")) is None


def test_a_move_into_a_parallel_branch_is_refused(app: Flask) -> None:
    engine.deploy([("chain.bpmn", RIGHT_FAILS.encode())], engine.catalog())
    CALLS.fail_times = 100
    inst = engine.start("chain", business_key="CHAIN-M")
    drain(app)
    assert fresh(Instance, inst.id).status == "error"  # Task_Left done, Task_Right failed
    with pytest.raises(engine.InvalidState, match="并行汇合“会合”将永远等待"):
        modify(inst.id, "Task_Left", actor="ops", reason="r", skip=["Task_Right"])
    CALLS.fail_times = 0
    modify(inst.id, "Task_Second", actor="ops", reason="重做第二步", skip=["Task_Right"])
    drain(app)
    assert fresh(Instance, inst.id).status == "completed"
