"""Service tasks as Camunda 7 (external tasks) and Camunda 8 (job workers) write them: the
topic or job type names a service operation, registered in the application by that name.

Camunda 7's Java delegates (``camunda:class``, ``delegateExpression``, ``expression``) and
connectors have no counterpart here and are refused with what to write instead. Input
mappings become the operation's parameters; what a handler returns is set on the process
(as Camunda sets an external task's or a job's variables) unless a result variable is named.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import ExpressionError
from ..problems import Problem
from .tree import BPMN, CAMUNDA, ZEEBE, attr, extension, local, problem, set_operator, xp
from .values import is_foreign, parameter

JAVA = ("Java 委托不受支持：请改用外部任务 camunda:type=\"external\" 并填写 topic，运维在系统中"
        "注册同名服务操作")
TASKS = "//bpmn:serviceTask | //bpmn:sendTask | //bpmn:businessRuleTask"


def adapt(file: str, root: Any) -> Iterator[Problem]:
    for task in xp(root, TASKS):
        if xp(task, "bpmn:extensionElements/spiffworkflow:serviceTaskOperator"):
            continue
        if any(attr(task, CAMUNDA, name) for name in ("class", "delegateExpression",
                                                       "expression")):
            yield problem(file, task, JAVA)
        elif extension(task, CAMUNDA, "connector"):
            yield problem(file, task, "Camunda 连接器（connector）不受支持：" + JAVA.split("：")[1])
        elif attr(task, CAMUNDA, "decisionRef") or extension(task, ZEEBE, "calledDecision"):
            yield problem(file, task, "暂不支持 DMN 决策表：请把决策写成网关条件或脚本任务")
        elif attr(task, CAMUNDA, "type") == "external" or extension(task, ZEEBE, "taskDefinition"):
            yield from _operation(file, task)


def _operation(file: str, task: Any) -> Iterator[Problem]:
    if local(task) != "serviceTask":  # a send or rule task run by a worker is a service task
        task.tag = f"{{{BPMN}}}serviceTask"
        task.attrib.pop("messageRef", None)
    operation = attr(task, CAMUNDA, "topic")
    result = attr(task, CAMUNDA, "resultVariable")
    for definition in extension(task, ZEEBE, "taskDefinition"):
        operation = definition.get("type")
    if not operation or is_foreign(operation) or "${" in operation:
        yield problem(file, task, f"服务操作名 “{operation or ''}” 须是固定的名称（本系统中注册的"
                                  "服务操作），不能为空或是表达式")
        return
    try:
        parameters = dict(_inputs(task))
    except ExpressionError as exc:
        yield problem(file, task, f"输入映射不可用: {exc}")
        return
    except ValueError as exc:
        yield problem(file, task, str(exc))
        return
    set_operator(task, operation.strip(), result, parameters)


def _inputs(task: Any) -> Iterator[tuple[str, str]]:
    """The task's input mappings as (parameter, engine expression); raises ValueError for a
    mapping that cannot become a parameter."""
    for mapping in extension(task, CAMUNDA, "inputOutput"):
        for child in mapping:
            name = child.get("name", "")
            nested = [c for c in child if isinstance(c.tag, str)]
            if child.tag != f"{{{CAMUNDA}}}inputParameter" or nested or not name:
                raise ValueError(_UNMAPPED)
            yield name, parameter(child.text or "")
    for mapping in extension(task, ZEEBE, "ioMapping"):
        for child in mapping:
            target = child.get("target", "")
            if child.tag != f"{{{ZEEBE}}}input" or not target.isidentifier():
                raise ValueError(_UNMAPPED)
            yield target, parameter(child.get("source", ""))


_UNMAPPED = ("只支持把值映射为服务操作的输入参数（camunda:inputParameter 的文本或表达式、"
             "zeebe:input）；输出映射、脚本、列表和 map 不受支持：操作的结果会直接写入流程变量，"
             "或用 resultVariable 指定变量")
