"""Moving running instances to another version of their process, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine import migration, state
from engine.db import db
from engine.migration import Result, check
from engine.models import Definition, Event, Instance, Timer, UserTask, WaitStatus
from tests.conftest import BPMN, deploy

V1, V2, V3 = "versioned_v1.bpmn", "versioned_v2.bpmn", "versioned_v3.bpmn"
PARENT = "versioned_parent.bpmn"
WITH_DEADLINE = (BPMN / V1).read_text().replace("""    <bpmn:endEvent id="Event_End" """, """\
    <bpmn:boundaryEvent id="Event_Late" name="审核超期" attachedToRef="Task_Review">
      <bpmn:outgoing>Flow_Late</bpmn:outgoing>
      <bpmn:timerEventDefinition id="Timer_Late">
        <bpmn:timeDuration>"P3D"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="Event_Late_End" name="超期结束">
      <bpmn:incoming>Flow_Late</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_Late" sourceRef="Event_Late" targetRef="Event_Late_End"/>
    <bpmn:endEvent id="Event_End" """)


_SPLIT_AND_JOIN = """
    <bpmn:parallelGateway id="Gateway_Split" name="分头审核">
      <bpmn:incoming>Flow_ToSplit</bpmn:incoming>
      <bpmn:outgoing>Flow_A</bpmn:outgoing>
      <bpmn:outgoing>Flow_B</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:userTask id="Task_Check" name="复核">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="test_form"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_B</bpmn:incoming>
      <bpmn:outgoing>Flow_BJ</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:parallelGateway id="Gateway_Join" name="会合">
      <bpmn:incoming>Flow_AJ</bpmn:incoming>
      <bpmn:incoming>Flow_BJ</bpmn:incoming>
      <bpmn:outgoing>Flow_ToEnd</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:sequenceFlow id="Flow_ToSplit" sourceRef="Task_Enter" targetRef="Gateway_Split"/>
    <bpmn:sequenceFlow id="Flow_A" sourceRef="Gateway_Split" targetRef="Task_Review"/>
    <bpmn:sequenceFlow id="Flow_B" sourceRef="Gateway_Split" targetRef="Task_Check"/>
    <bpmn:sequenceFlow id="Flow_AJ" sourceRef="Task_Review" targetRef="Gateway_Join"/>
    <bpmn:sequenceFlow id="Flow_BJ" sourceRef="Task_Check" targetRef="Gateway_Join"/>
    <bpmn:sequenceFlow id="Flow_ToEnd" sourceRef="Gateway_Join" targetRef="Event_End"/>"""


def _parallel_review() -> str:
    """Version 1 with the review split in two: 审核 and a new 复核 run in parallel after
    填写申请 and meet at 会合 before the end."""
    text = (BPMN / V1).read_text()
    for old, new in (("<bpmn:outgoing>Flow_2<", "<bpmn:outgoing>Flow_ToSplit<"),
                     ("<bpmn:incoming>Flow_2<", "<bpmn:incoming>Flow_A<"),
                     ("<bpmn:outgoing>Flow_3<", "<bpmn:outgoing>Flow_AJ<"),
                     ("<bpmn:incoming>Flow_3<", "<bpmn:incoming>Flow_ToEnd<"),
                     ('bpmnElement="Flow_2"', 'bpmnElement="Flow_A"'),
                     ('bpmnElement="Flow_3"', 'bpmnElement="Flow_AJ"'),
                     ("<bpmn:flowNodeRef>Task_Review</bpmn:flowNodeRef>",
                      "<bpmn:flowNodeRef>Task_Review</bpmn:flowNodeRef>"
                      "<bpmn:flowNodeRef>Task_Check</bpmn:flowNodeRef>")):
        text = text.replace(old, new, 1)
    for flow in ("Flow_2", "Flow_3"):  # replaced by the flows through the gateways
        line = text[text.index(f'    <bpmn:sequenceFlow id="{flow}"'):]
        text = text.replace(line[:line.index("\n") + 1], "", 1)
    end = "  </bpmn:process>"
    return text.replace(end, _SPLIT_AND_JOIN.lstrip("\n") + "\n" + end, 1)


def version(number: int, key: str = "versioned") -> Definition:
    found = db.session.scalar(sa.select(Definition).filter_by(key=key, version=number))
    assert found is not None
    return found


def fresh(instance_id: int) -> Instance:
    db.session.expire_all()
    found = db.session.get(Instance, instance_id)
    assert found is not None
    return found


def open_task(instance_id: int) -> UserTask:
    db.session.expire_all()
    [task] = db.session.scalars(sa.select(UserTask).filter_by(
        instance_id=instance_id, status=WaitStatus.OPEN)).all()
    return task


def events(instance_id: int) -> list[Event]:
    return list(db.session.scalars(
        sa.select(Event).filter_by(instance_id=instance_id).order_by(Event.id)))


def at_enter() -> int:
    """A new instance waiting on 填写申请 (Task_Enter)."""
    return engine.start("versioned", data={"title": "某项目"}, actor="applicant").id


def at_review() -> int:
    """A new instance that has passed Task_Enter and waits on the review (Task_Review)."""
    instance_id = at_enter()
    engine.complete_task(open_task(instance_id).id, {"title": "某项目"}, actor="applicant")
    assert open_task(instance_id).element_id == "Task_Review"
    return instance_id


def finish(instance_id: int, *elements: str) -> None:
    """Complete the open tasks in turn, checking that they are ``elements``."""
    for element in elements:
        task = open_task(instance_id)
        assert task.element_id == element
        engine.complete_task(task.id, {element: "done"}, actor="reviewer")
    assert fresh(instance_id).status == "completed"


def test_waiting_instances_move_to_v2_and_follow_its_new_path(app: Flask) -> None:
    deploy(V1)
    reviewing, entering = at_review(), at_enter()
    before = open_task(reviewing)
    due = engine.catalog().due_at  # the application counts days as working days
    assert due is not None
    assert (before.name, before.due_at) == ("审核", due(before.created_at, "P5D"))
    assert deploy(V2)[0].version == 2

    results = engine.migrate([reviewing, entering], version(2).id, actor="ops",
                             reason="新增确认环节")

    assert results == [Result(reviewing, True), Result(entering, True)]
    moved = fresh(reviewing)
    assert (moved.definition_id, moved.status, moved.lock_version) == (version(2).id, "waiting", 3)
    after = open_task(reviewing)  # the same task, its row re-derived from v2
    assert (after.id, after.name, after.created_at) == (before.id, "逐项审核", before.created_at)
    assert after.due_at == due(after.created_at, "P10D")  # still from its arrival
    [event] = [e for e in events(reviewing) if e.kind == "instance_migrated"]
    assert (event.actor, event.data) == (
        "ops", {"from_version": 1, "to_version": 2, "reason": "新增确认环节"})

    finish(reviewing, "Task_Review", "Task_Confirm")  # v2's new task, then the end
    finish(entering, "Task_Enter", "Task_Review", "Task_Confirm")
    assert [e.kind for e in events(reviewing)] == [
        "instance_started", "task_completed", "instance_migrated", "task_completed",
        "task_completed", "instance_completed"]


def test_an_instance_on_an_element_removed_in_v3_is_refused_and_untouched(app: Flask) -> None:
    deploy(V1)
    instance_id = at_review()
    deploy(V2)
    deploy(V3)
    stored = fresh(instance_id)
    state, lock_version, task = stored.state, stored.lock_version, open_task(instance_id)
    reason = "实例停留在“审核”(Task_Review)，新版本中不存在该环节"

    assert check(stored, version(3)) == [reason]
    assert engine.migrate([instance_id], version(3).id, actor="ops") == [
        Result(instance_id, False, reason)]

    after = fresh(instance_id)
    assert (after.state, after.definition_id, after.lock_version) == (
        state, version(1).id, lock_version)
    assert open_task(instance_id).name == task.name == "审核"
    assert "instance_migrated" not in [e.kind for e in events(instance_id)]
    finish(instance_id, "Task_Review")  # still runs on v1


def test_the_reason_names_the_element_as_the_current_version_calls_it(app: Flask) -> None:
    deploy(V1)
    instance_id = at_review()
    deploy(V2)
    deploy(V3)
    assert engine.migrate([instance_id], version(2).id, actor="ops")[0].ok
    assert check(fresh(instance_id), version(3)) == [
        "实例停留在“逐项审核”(Task_Review)，新版本中不存在该环节"]


def test_finished_instances_are_refused(app: Flask) -> None:
    deploy(V1)
    completed, terminated = at_review(), at_enter()
    finish(completed, "Task_Review")
    engine.terminate(terminated, actor="ops")
    deploy(V2)
    results = engine.migrate([completed, terminated], version(2).id, actor="ops")
    assert results == [Result(completed, False, "实例已结束（已完成），不能迁移"),
                       Result(terminated, False, "实例已结束（已终止），不能迁移")]
    assert fresh(completed).definition_id == fresh(terminated).definition_id == version(1).id


def test_one_call_moves_some_and_refuses_others(app: Flask) -> None:
    deploy(V1)
    entering, reviewing, completed = at_enter(), at_review(), at_review()
    finish(completed, "Task_Review")
    deploy(V2)
    deploy(V3)

    results = engine.migrate([entering, reviewing, completed, 9999], version(3).id, actor="ops")

    assert [(r.instance_id, r.ok) for r in results] == [
        (entering, True), (reviewing, False), (completed, False), (9999, False)]
    assert "Task_Review" in (results[1].reason or "")
    assert results[3].reason == "流程实例 9999 不存在"
    assert fresh(entering).definition_id == version(3).id
    assert fresh(reviewing).definition_id == version(1).id
    finish(entering, "Task_Enter", "Task_Confirm")  # v3 goes straight to the confirmation
    finish(reviewing, "Task_Review")


def test_other_refusals(app: Flask) -> None:
    deploy(V1, "loop.bpmn")
    instance_id = at_review()
    other = engine.start("loop", data={"rounds": 0}).id
    deploy(V2)
    assert check(fresh(instance_id), version(1)) == ["实例已在第 1 版上"]
    assert check(fresh(other), version(2)) == [
        "目标版本属于流程“versioned”，而实例属于流程“loop”"]
    assert check(fresh(instance_id), version(2)) == []
    db.session.execute(sa.update(Instance).where(Instance.id == instance_id)
                       .values(serializer_version="1.0"))
    db.session.commit()
    [reason] = check(fresh(instance_id), version(2))
    assert "序列化格式 1.0" in reason
    with pytest.raises(engine.NotFound):
        engine.migrate([instance_id], 9999, actor="ops")


def test_a_concurrent_change_makes_that_instance_a_conflict(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    deploy(V1)
    raced, calm = at_review(), at_review()
    deploy(V2)
    restore = migration._restore

    def racing_restore(stored: dict[str, Any], specs: Any) -> Any:
        if not racing_restore.done:  # type: ignore[attr-defined]
            racing_restore.done = True  # type: ignore[attr-defined]
            with app.app_context():  # someone completes the task meanwhile, on v1
                engine.complete_task(open_task(raced).id, {}, actor="reviewer")
        return restore(stored, specs)

    racing_restore.done = False  # type: ignore[attr-defined]
    monkeypatch.setattr(migration, "_restore", racing_restore)

    results = engine.migrate([raced, calm], version(2).id, actor="ops")

    assert results == [Result(raced, False, "流程实例已被他人更新，请刷新后重试"),
                       Result(calm, True)]
    assert (fresh(raced).status, fresh(raced).definition_id) == ("completed", version(1).id)
    assert fresh(calm).definition_id == version(2).id
    finish(calm, "Task_Review", "Task_Confirm")


def test_an_instance_inside_a_call_activity_moves_with_its_subprocess(app: Flask) -> None:
    deploy(V1, PARENT)
    instance_id = engine.start("versioned_parent", data={"title": "某项目"}).id
    engine.complete_task(open_task(instance_id).id, {}, actor="applicant")
    deploy(V2, PARENT)
    deploy(V3, PARENT)
    to_v3 = engine.migrate([instance_id], version(3, "versioned_parent").id, actor="ops")
    assert to_v3 == [Result(instance_id, False,
                            "实例停留在“审核”(Task_Review)，新版本中不存在该环节")]

    assert engine.migrate([instance_id], version(2, "versioned_parent").id, actor="ops") == [
        Result(instance_id, True)]
    assert open_task(instance_id).name == "逐项审核"
    finish(instance_id, "Task_Review", "Task_Confirm")  # v2's path inside the subprocess
    assert state.data_of(fresh(instance_id).state)["archived"] is True  # then the parent's


def test_a_boundary_event_added_to_the_waiting_task_is_refused(app: Flask) -> None:
    deploy(V1)
    reviewing, entering = at_review(), at_enter()
    engine.deploy([(V1, WITH_DEADLINE.encode())], engine.catalog())
    reason = "实例停留在“审核”(Task_Review)，新版本为该环节增加了边界事件，无法迁移"
    assert engine.migrate([reviewing, entering], version(2).id, actor="ops") == [
        Result(reviewing, False, reason), Result(entering, True)]
    finish(reviewing, "Task_Review")
    engine.complete_task(open_task(entering).id, {}, actor="applicant")
    [timer] = db.session.scalars(sa.select(Timer).filter_by(instance_id=entering)).all()
    assert (timer.element_id, timer.status) == ("Event_Late", "open")  # armed on v2
    finish(entering, "Task_Review")


def test_a_new_parallel_join_the_instance_could_never_complete_is_refused(app: Flask) -> None:
    deploy(V1)
    reviewing, entering = at_review(), at_enter()
    engine.deploy([(V1, _parallel_review().encode())], engine.catalog())
    assert version(2).id
    reason = ("新版本在“会合”(Gateway_Join)处会合，而该实例不会经过分支“复核”(Task_Check)："
              "迁移后将在会合处永远等待")
    stored = fresh(reviewing).state
    assert engine.migrate([reviewing, entering], version(2).id, actor="ops") == [
        Result(reviewing, False, reason), Result(entering, True)]
    assert fresh(reviewing).state == stored  # the refused one is untouched, ends on v1
    finish(reviewing, "Task_Review")
    engine.complete_task(open_task(entering).id, {}, actor="applicant")  # then the split
    tasks = sorted(t.element_id for t in db.session.scalars(sa.select(UserTask).filter_by(
        instance_id=entering, status=WaitStatus.OPEN)))
    assert tasks == ["Task_Check", "Task_Review"]
    for element in tasks:
        [task] = db.session.scalars(sa.select(UserTask).filter_by(
            instance_id=entering, element_id=element, status=WaitStatus.OPEN)).all()
        engine.complete_task(task.id, {}, actor="reviewer")
    assert fresh(entering).status == "completed"
