"""The budget of one engine step (issue 16): a step that runs too many elements or for too
long is rolled back, leaves an incident on the element that was running when the instance
exists, and the caller gets a Chinese error at once; real procedures stay far below it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine import budget, clock, jobs
from engine.db import db
from engine.jobs import tick
from engine.models import Event, Incident, Instance, UserTask, WaitStatus
from tests.conftest import work

HEAVY = 'n = len([len(sorted(list(s))) for c in "y" * 3000])'
"""An expression that works for a long time in small pieces (issue 16: it held a step for
59 s with 3,500 rounds)."""


def _diagram(scripts: list[str], user_task: bool, service: bool = False,
             form_key: str = "test_form", timer: bool = False) -> bytes:
    """Start, [a user task], [a service task], [an hour's timer], then one script task per
    entry, then end."""
    elements, flows, previous = [], [], "Event_Start"
    steps: list[tuple[str, str]] = []
    if user_task:
        steps.append(("Task_Review", '<bpmn:userTask id="Task_Review" name="审核">'
                      '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property'
                      f' name="formKey" value="{form_key}"/></spiffworkflow:properties>'
                      '</bpmn:extensionElements></bpmn:userTask>'))
    if service:
        steps.append(("Task_Echo", '<bpmn:serviceTask id="Task_Echo" name="回显">'
                      '<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="test.echo"'
                      ' resultVariable="echoed"><spiffworkflow:parameters/>'
                      '</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>'
                      '</bpmn:serviceTask>'))
    if timer:
        steps.append(("Event_Hour", '<bpmn:intermediateCatchEvent id="Event_Hour" name="一小时">'
                      '<bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration>'
                      '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'))
    for n, script in enumerate(scripts):
        steps.append((f"Task_S{n}", f'<bpmn:scriptTask id="Task_S{n}" name="计算{n}">'
                      f'<bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'))
    for element_id, xml in steps:
        elements.append(xml)
        flows.append((previous, element_id))
        previous = element_id
    flows.append((previous, "Event_End"))
    lane = ('<bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="reviewer">'
            '<bpmn:flowNodeRef>Task_Review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>'
            if user_task else "")
    sequence = "".join(f'<bpmn:sequenceFlow id="Flow_{n}" sourceRef="{a}" targetRef="{b}"/>'
                       for n, (a, b) in enumerate(flows))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" '
        'targetNamespace="http://cqpi.example/bpmn"><bpmn:process id="budget" name="预算" '
        f'isExecutable="true">{lane}<bpmn:startEvent id="Event_Start" name="开始"/>'
        f'{"".join(elements)}<bpmn:endEvent id="Event_End" name="结束"/>{sequence}'
        '</bpmn:process></bpmn:definitions>').encode()


def _deploy(scripts: list[str], user_task: bool, service: bool = False,
            timer: bool = False) -> None:
    engine.deploy([("budget.bpmn", _diagram(scripts, user_task, service, timer=timer))],
                  engine.catalog())


def _count(model: Any, **where: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where)))


def test_a_start_over_the_element_budget_writes_nothing(app: Flask) -> None:
    app.config["CQPI_STEP_MAX_ELEMENTS"] = 10
    _deploy(["x = 1"] * 12, user_task=False)
    with pytest.raises(engine.StepOverBudget) as refused:
        engine.start("budget", business_key="B-1")
    assert "超出单步执行预算" in str(refused.value) and "10 个环节" in str(refused.value)
    assert refused.value.element_id == "Task_S8"  # the 11th element: start event, 9 scripts
    assert _count(Instance) == 0 and _count(Event) == 0


def test_a_task_completion_over_budget_is_undone_and_leaves_an_incident(app: Flask) -> None:
    app.config["CQPI_STEP_MAX_ELEMENTS"] = 10
    _deploy(["x = 1"] * 12, user_task=True)
    instance_id = engine.start("budget", business_key="B-2").id
    [task] = db.session.scalars(sa.select(UserTask)).all()
    with pytest.raises(engine.StepOverBudget):
        engine.complete_task(task.id, {}, actor="alice")
    db.session.expire_all()
    assert db.session.get(UserTask, task.id).status == WaitStatus.OPEN  # nothing moved on
    instance = db.session.get(Instance, instance_id)
    assert instance.status == "error"
    [incident] = db.session.scalars(sa.select(Incident)).all()
    assert incident.element_id.startswith("Task_S") and "超出单步执行预算" in incident.error
    assert _count(Event, instance_id=instance_id, kind="task_completed") == 0

    app.config["CQPI_STEP_MAX_ELEMENTS"] = budget.MAX_ELEMENTS  # the fix, then ops retry
    assert engine.retry(instance_id, actor="ops") == 1
    engine.complete_task(task.id, {}, actor="alice")
    db.session.expire_all()
    assert db.session.get(Instance, instance_id).status == "completed"


def test_a_step_over_its_time_is_stopped_inside_the_expression(app: Flask) -> None:
    app.config["CQPI_STEP_MAX_SECONDS"] = 0.2
    _deploy(["s = 'x' * 9000", HEAVY], user_task=True)
    instance_id = engine.start("budget", business_key="B-3").id
    [task] = db.session.scalars(sa.select(UserTask)).all()
    with pytest.raises(engine.StepOverBudget) as refused:
        engine.complete_task(task.id, {}, actor="alice")
    assert "运行超过 0.2 秒" in str(refused.value) and refused.value.element_id == "Task_S1"
    db.session.expire_all()
    assert db.session.get(Instance, instance_id).status == "error"


def test_a_job_result_over_budget_fails_at_once_into_an_incident(app: Flask) -> None:
    """No retries with back-off: the same result would run over again."""
    app.config["CQPI_STEP_MAX_ELEMENTS"] = 10
    _deploy(["x = 1"] * 12, user_task=False, service=True)
    instance_id = engine.start("budget", business_key="B-4").id
    work(app)
    db.session.expire_all()
    [incident] = db.session.scalars(sa.select(Incident)).all()
    assert incident.element_id == "Task_Echo" and "超出单步执行预算" in incident.error
    assert incident.attempts == 1
    assert db.session.get(Instance, instance_id).status == "error"


def test_a_timer_whose_step_runs_over_is_parked_until_ops_retry(app: Flask) -> None:
    """One incident, not one per sweep: the timer is fired again only by a retry."""
    app.config["CQPI_STEP_MAX_ELEMENTS"] = 10
    _deploy(["x = 1"] * 12, user_task=False, timer=True)
    instance_id = engine.start("budget", business_key="B-5").id
    clock.travel(timedelta(hours=2))
    for _ in range(3):  # the tick, the stale sweep and a queue found empty leave it parked
        tick()
        work(app)
        clock.travel(jobs.STALE_AFTER + timedelta(minutes=1))
        jobs._forget_enqueued()
    assert _count(Incident, instance_id=instance_id) == 1
    assert _count(Event, instance_id=instance_id, kind="incident_opened") == 1

    app.config["CQPI_STEP_MAX_ELEMENTS"] = budget.MAX_ELEMENTS
    engine.retry(instance_id, actor="ops")
    tick()
    work(app)
    db.session.expire_all()
    assert db.session.get(Instance, instance_id).status == "completed"
