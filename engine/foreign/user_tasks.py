"""User tasks as Camunda 7, Camunda 8 and spiff-arena write them: their form, their candidate
group (our lane) and their due date, written as the engine's own properties and lanes.

In Camunda, a user task's candidate groups decide who works it and lanes are decoration;
here the lane is the group. A task with candidate groups is moved into the lane named by
them (made if the process has none). Several groups are accepted when they all stand for
the same lane; otherwise the task is refused, since one role works each task here. An
assignee or candidate users are left aside: tasks are claimed by someone of the lane.

A process started by hand is started from its none start event: its form is read like a user
task's, and Camunda 7's ``camunda:candidateStarterGroups`` puts the event in the lane of the
people who may start it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..errors import ExpressionError
from ..problems import Problem
from . import embedded
from .tree import (
    CAMUNDA,
    ZEEBE,
    attr,
    extension,
    problem,
    properties,
    put_in_lane,
    set_property,
    xp,
)
from .values import DURATION, names

LaneOf = Callable[[str], str | None]
"""The catalog lane a group name stands for (with the deployment's declared lanes)."""

_FORM_FILE = "请在 Camunda Modeler 中用表单编辑器做成 .form 文件，随图一同部署，并写成 "
_FORM_FILE += "camunda-forms:deployment:文件名.form（Camunda 7）或 formId（Camunda 8）"
FORM_REFUSALS = {
    "camunda-forms:app:": "应用内的表单（camunda-forms:app:…）不随部署提供：" + _FORM_FILE,
    "embedded:": "嵌入式 HTML 表单不受支持：" + _FORM_FILE,
    "app:": "应用内的表单（JSF 或 HTML 页面）不受支持：" + _FORM_FILE,
}


def adapt(file: str, root: Any, lane_of: LaneOf) -> Iterator[Problem]:
    for task in xp(root, "//bpmn:userTask"):
        yield from _form(file, task)
        yield from _group(file, task, _groups(task), lane_of)
        yield from _due(file, task)
    for event in xp(root, "//bpmn:process/bpmn:startEvent[not(*[contains(local-name(), "
                          "'EventDefinition')])]"):  # started by hand: its form and starters
        yield from _form(file, event)
        starters = attr(event.getparent(), CAMUNDA, "candidateStarterGroups")
        yield from _group(file, event, starters, lane_of)


def form_key(key: str) -> tuple[str | None, str | None]:
    """The engine's form key for a Camunda form key, or the reason it is refused."""
    key = key.strip()
    if key.startswith("camunda-forms:deployment:"):
        return key.removeprefix("camunda-forms:deployment:"), None
    if key.startswith(embedded.PREFIX):
        return embedded.file_name(key.removeprefix(embedded.PREFIX)), None
    for prefix, reason in FORM_REFUSALS.items():
        if key.startswith(prefix):
            return None, reason
    if key.lower().endswith((".jsf", ".xhtml", ".html", ".htm")):
        return None, "JSF/HTML 表单不受支持：" + _FORM_FILE
    return key, None


def _form(file: str, task: Any) -> Iterator[Problem]:
    if "formKey" in properties(task):
        return
    key, reason = _foreign_form(task)
    if reason:
        yield problem(file, task, reason)
    elif key:
        set_property(task, "formKey", key)


def _foreign_form(task: Any) -> tuple[str | None, str | None]:
    """The form a user task names in a foreign dialect, or why it is refused."""
    spiff = properties(task).get("formJsonSchemaFilename")
    if spiff:
        return spiff, None
    for definition in extension(task, ZEEBE, "formDefinition"):
        return _zeebe_form(definition)
    if extension(task, CAMUNDA, "formData"):
        return None, "Camunda 生成式表单（formData）不受支持：" + _FORM_FILE
    if attr(task, CAMUNDA, "formRef"):
        return attr(task, CAMUNDA, "formRef"), None
    key = attr(task, CAMUNDA, "formKey")
    return form_key(key) if key else (None, None)


def _zeebe_form(definition: Any) -> tuple[str | None, str | None]:
    if definition.get("formId"):
        return definition.get("formId"), None
    if definition.get("formKey"):
        return form_key(definition.get("formKey"))
    if definition.get("externalReference"):
        return None, "外部表单（externalReference）不受支持：" + _FORM_FILE
    return None, None


def _groups(task: Any) -> str | None:
    for definition in extension(task, ZEEBE, "assignmentDefinition"):
        if definition.get("candidateGroups"):
            return str(definition.get("candidateGroups"))
    return attr(task, CAMUNDA, "candidateGroups")


def _group(file: str, task: Any, written: str | None, lane_of: LaneOf) -> Iterator[Problem]:
    if not written:
        return
    try:
        groups = names(written)
    except ExpressionError as exc:
        yield problem(file, task, f"候选组 “{written}” {exc}：请写本系统的泳道名或角色名")
        return
    if not groups:
        return
    lanes = {lane_of(group) for group in groups}
    if len(groups) > 1 and (len(lanes) > 1 or None in lanes):
        yield problem(file, task, f"候选组 {'、'.join(groups)} 不是同一个办理角色：本系统中一个"
                                  "环节由一个泳道（角色）办理，请只保留一个候选组，或在 "
                                  "deployment.json 中把它们声明为同一泳道")
        return
    put_in_lane(task, groups[0])


def _due(file: str, task: Any) -> Iterator[Problem]:
    due = attr(task, CAMUNDA, "dueDate")
    for schedule in extension(task, ZEEBE, "taskSchedule"):
        due = schedule.get("dueDate") or due
    if not due or "dueIn" in properties(task):
        return
    if DURATION.fullmatch(due.strip()):
        set_property(task, "dueIn", due.strip())
    else:
        yield problem(file, task, f"期限 “{due}” 不受支持：请写成 ISO 8601 时长（如 P5D，"
                                  "从任务开始算起）")

