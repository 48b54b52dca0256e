"""Comparing two versions of a process element by element."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine.db import db
from engine.diff import Change
from engine.models import Definition
from tests.conftest import BPMN, deploy

V1 = (BPMN / "versioned_v1.bpmn").read_text()
FLOW = (BPMN / "flow.bpmn").read_text()
LOOP = (BPMN / "loop.bpmn").read_text()


def version(number: int) -> Definition:
    found = db.session.scalar(sa.select(Definition).filter_by(key="versioned", version=number))
    assert found is not None
    return found


def definition(key: str, text: str) -> Definition:
    """A definition row that is never stored (diff reads only its key and XML)."""
    return Definition(key=key, file_name=f"{key}.bpmn", bpmn=text.encode())


def changes(key: str, old: str, new: str) -> dict[str, Change]:
    return {c.element_id: c for c in engine.diff(definition(key, old), definition(key, new))}


def test_v2_adds_a_task_and_renames_the_waiting_one(app: Flask) -> None:
    deploy("versioned_v1.bpmn")
    deploy("versioned_v2.bpmn")
    found = engine.diff(version(1), version(2))
    assert [(c.kind, c.element_id) for c in found] == [
        ("changed", "Lane_Reviewer"), ("changed", "Task_Review"), ("changed", "Event_End"),
        ("changed", "Flow_3"), ("added", "Task_Confirm"), ("added", "Flow_4")]
    by_id = {c.element_id: c for c in found}
    assert by_id["Task_Review"] == Change("changed", "Task_Review", "userTask", "逐项审核",
                                          ["名称: 审核 → 逐项审核", "期限: P5D → P10D"])
    assert by_id["Task_Confirm"] == Change("added", "Task_Confirm", "userTask", "确认结果")
    assert by_id["Flow_3"].details == ["终点: Event_End → Task_Confirm"]
    assert by_id["Event_End"].details == ["流入: Flow_3 → Flow_4"]
    assert by_id["Lane_Reviewer"].details == [
        "成员: Event_End、Task_Review → Event_End、Task_Confirm、Task_Review"]


def test_v3_removes_the_review(app: Flask) -> None:
    deploy("versioned_v1.bpmn")
    deploy("versioned_v2.bpmn")
    deploy("versioned_v3.bpmn")
    found = engine.diff(version(2), version(3))
    assert [(c.kind, c.element_id, c.name) for c in found if c.kind == "removed"] == [
        ("removed", "Task_Review", "逐项审核"), ("removed", "Flow_3", None)]
    assert not [c for c in found if c.kind == "added"]


def test_a_layout_only_change_is_a_new_version_without_differences(app: Flask) -> None:
    moved = re.sub(r'(x|y)="(\d+)"', lambda m: f'{m[1]}="{int(m[2]) + 40}"', V1)
    moved = moved.replace("    <bpmn:sequenceFlow", "\n    <bpmn:sequenceFlow")
    assert moved != V1
    deploy("versioned_v1.bpmn")
    [deployed] = engine.deploy([("versioned_v1.bpmn", moved.encode())], engine.catalog())
    assert (deployed.created, deployed.version) == (True, 2)
    assert engine.diff(version(1), version(2)) == []


def test_extension_properties_are_compared() -> None:
    new = (FLOW.replace('name="formKey" value="test_form"', 'name="formKey" value="review"')
           .replace('Operator id="test.echo"', 'Operator id="test.flaky"')
           .replace("title + &quot;（公示）&quot;", "title")
           .replace("<bpmn:flowNodeRef>Task_Publish</bpmn:flowNodeRef>", "")
           .replace("<bpmn:flowNodeRef>Task_Enter</bpmn:flowNodeRef>",
                    "<bpmn:flowNodeRef>Task_Enter</bpmn:flowNodeRef>"
                    "<bpmn:flowNodeRef>Task_Publish</bpmn:flowNodeRef>"))
    found = changes("flow", FLOW, new)
    assert found["Task_Enter"].details == ["表单: test_form → review"]
    assert found["Task_Publish"].details == [
        "服务操作: test.echo → test.flaky", "参数 title: title + \"（公示）\" (str) → title (str)",
        "泳道: system → applicant"]
    assert set(found) == {"Task_Enter", "Task_Publish", "Lane_Applicant", "Lane_System"}


def test_conditions_and_types_are_compared() -> None:
    new = (LOOP.replace('decision == "return"', 'decision in ("return", "redo")')
           .replace('<bpmn:scriptTask id="Task_Count"', '<bpmn:task id="Task_Count"')
           .replace("</bpmn:scriptTask>", "</bpmn:task>")
           .replace("<bpmn:script>rounds = rounds + 1 if rounds else 1</bpmn:script>", ""))
    found = changes("loop", LOOP, new)
    assert found["Flow_Return"].details == [
        '条件: decision == "return" → decision in ("return", "redo")']
    assert found["Task_Count"] == Change("changed", "Task_Count", "task", "记录退回次数", [
        "类型: scriptTask → task", "脚本: rounds = rounds + 1 if rounds else 1 → 无"])
    assert set(found) == {"Flow_Return", "Task_Count"}


def test_diagrams_are_parsed_safely() -> None:
    entity = V1.replace('<?xml version="1.0" encoding="UTF-8"?>',
                        '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>')
    with pytest.raises(engine.InvalidState, match="DOCTYPE"):
        engine.diff(definition("versioned", entity), definition("versioned", V1))
    with pytest.raises(engine.InvalidState, match="没有流程"):
        engine.diff(definition("other", V1), definition("other", V1))
