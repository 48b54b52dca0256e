"""Constructs of Camunda 7 and 8 that this engine does not run, refused once per element with
what to do instead, and the one it maps by name (Camunda 8's called process).

Left aside without a word, as they change nothing here: ``camunda:asyncBefore``/``asyncAfter``
(every step is committed and service operations already run in the queue), job priorities
and retries, task headers and properties, modeler templates, ``zeebe:subscription``'s
correlation key (a message reaches the instance of its business key) and a call activity's
``camunda:in``/``camunda:out variables="all"`` (a called process always gets and gives back
every variable).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..problems import Problem
from .tree import CAMUNDA, ZEEBE, attr, elements, extension, local, problem, xp
from .values import is_foreign

LISTENERS = {"executionListener", "taskListener", "executionListeners", "taskListeners"}
LISTENER = "监听器不受支持：请把监听器要做的事画成流程中的服务任务或脚本任务"
MAPPING = ("输入输出映射不受支持：本系统的任务直接读写流程变量，请去掉映射、在表单中用同名字段，"
           "或用脚本任务赋值")
LOOP = ("多实例的集合表达式（camunda:collection、zeebe:loopCharacteristics）不受支持：请用"
        "循环次数 loopCardinality，或 spiff-arena 的写法（loopDataInputRef 与 inputDataItem）")
CALL = ("调用活动的变量映射（camunda:in/out 的 source/target）不受支持：被调用的流程总是获得并"
        "交回全部变量，请去掉映射或写 variables=\"all\"")


def adapt(file: str, root: Any) -> Iterator[Problem]:
    for namespace in (CAMUNDA, ZEEBE):
        for node in elements(root, namespace):
            if local(node) in LISTENERS:
                yield problem(file, node, LISTENER)
            elif local(node) in ("inputOutput", "ioMapping") and not _service(node):
                yield problem(file, node, MAPPING)
            elif local(node) == "loopCharacteristics":
                yield problem(file, node, LOOP)
    for node in xp(root, "//bpmn:multiInstanceLoopCharacteristics[@camunda:collection]"):
        yield problem(file, node, LOOP)
    for node in xp(root, "//bpmn:callActivity"):
        yield from _call(file, node)


def _service(mapping: Any) -> bool:
    """Whether a mapping belongs to a service task (whose inputs become parameters)."""
    task = mapping.getparent().getparent()
    return task is not None and local(task) == "serviceTask"


def _call(file: str, node: Any) -> Iterator[Problem]:
    for called in extension(node, ZEEBE, "calledElement"):
        key = called.get("processId") or ""
        if is_foreign(key) or not key.strip():
            yield problem(file, node, f"被调用的流程 “{key}” 须是固定的流程 id，不能是表达式")
        elif not node.get("calledElement"):
            node.set("calledElement", key.strip())
    if attr(node, CAMUNDA, "calledElementBinding") == "deployment":
        return
    for mapping in [*extension(node, CAMUNDA, "in"), *extension(node, CAMUNDA, "out")]:
        if mapping.get("variables") != "all" and not mapping.get("businessKey"):
            yield problem(file, node, CALL)
