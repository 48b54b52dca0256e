"""Compare two versions of a process element by element: what was added, removed, changed.

Both diagrams are parsed with the validator's safe parser (no DTDs, entities or network)
and adapted as the engine reads them (a Camunda form key or candidate group is compared as
the form key property and lane it becomes).
Elements are matched by id: the flow elements of the process (nested ones too) and its
lanes. Diagram layout (BPMN DI) is outside the process element and so never compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .errors import InvalidState
from .foreign import adapt
from .models import Definition
from .validation import NS, parse_xml

ADDED, REMOVED, CHANGED = "added", "removed", "changed"

FLOW_ELEMENTS = frozenset({
    "adHocSubProcess", "boundaryEvent", "businessRuleTask", "callActivity", "complexGateway",
    "dataObject", "dataObjectReference", "dataStoreReference", "endEvent", "eventBasedGateway",
    "exclusiveGateway", "inclusiveGateway", "intermediateCatchEvent", "intermediateThrowEvent",
    "manualTask", "parallelGateway", "receiveTask", "scriptTask", "sendTask", "sequenceFlow",
    "serviceTask", "startEvent", "subProcess", "task", "transaction", "userTask", "lane",
})
"""BPMN elements compared (the flowElement substitution group, plus lanes)."""

EXT = "bpmn:extensionElements/"
OPERATOR = f"{EXT}spiffworkflow:serviceTaskOperator"
FACTS = (
    ("名称", "string(@name)"),
    ("起点", "string(@sourceRef)"),
    ("终点", "string(@targetRef)"),
    ("条件", "string(bpmn:conditionExpression)"),
    ("默认分支", "string(@default)"),
    ("附着于", "string(@attachedToRef)"),
    ("中断", "string(@cancelActivity)"),
    ("调用流程", "string(@calledElement)"),
    ("脚本", "string(bpmn:script)"),
    ("前置脚本", f"string({EXT}spiffworkflow:preScript)"),
    ("后置脚本", f"string({EXT}spiffworkflow:postScript)"),
    ("服务操作", f"string({OPERATOR}/@id)"),
    ("结果变量", f"string({OPERATOR}/@resultVariable)"),
    ("定时", "string(bpmn:timerEventDefinition/*)"),
    ("消息", "string(bpmn:messageEventDefinition/@messageRef)"),
)
"""(label, XPath) of the single-valued facts of an element; an absent one reads as ""."""

PROPERTY_LABELS = {"formKey": "表单", "scope": "范围", "dueIn": "期限"}
MAX_VALUE = 60
"""Longest value quoted in a change line (scripts and conditions can be long)."""


@dataclass(frozen=True)
class Change:
    kind: str  # added, removed or changed
    element_id: str
    element_type: str  # the BPMN tag's local name, e.g. userTask
    name: str | None  # the new name, else the old one
    details: list[str] = field(default_factory=list)  # for a change: what changed, in Chinese


def diff(old: Definition, new: Definition) -> list[Change]:
    """What changed from ``old`` to ``new``: removed and changed elements in the old
    diagram's order, then the added ones in the new diagram's order."""
    before, after = _elements(old), _elements(new)
    changes: list[Change] = []
    for element_id, (node, facts) in before.items():
        if element_id not in after:
            changes.append(Change(REMOVED, element_id, _tag(node), node.get("name")))
            continue
        new_node, new_facts = after[element_id]
        details = _compare(_tag(node), facts, _tag(new_node), new_facts)
        if details:
            name = new_node.get("name") or node.get("name")
            changes.append(Change(CHANGED, element_id, _tag(new_node), name, details))
    changes.extend(Change(ADDED, element_id, _tag(node), node.get("name"))
                   for element_id, (node, _) in after.items() if element_id not in before)
    return changes


def _elements(definition: Definition) -> dict[str, tuple[Any, dict[str, str]]]:
    """The process's compared elements by id, each with its facts."""
    process = _process(definition)
    lanes = _lanes(process)
    found = {}
    for node in process.iter():
        if isinstance(node.tag, str) and _tag(node) in FLOW_ELEMENTS and node.get("id"):
            found[node.get("id")] = (node, _facts(node, lanes))
    return found


def _process(definition: Definition) -> Any:
    name = definition.file_name or definition.key
    root, problems = parse_xml(name, bytes(definition.bpmn))
    if root is None:
        raise InvalidState(f"流程定义“{definition.key}”无法解析: {problems[0].message}")
    adapt(name, root, lambda group: group)  # compared as the engine reads it (forms, lanes)
    found = root.xpath("//bpmn:process[@id=$key]", namespaces=NS, key=definition.key)
    if not found:
        raise InvalidState(f"流程定义中没有流程“{definition.key}”")
    return found[0]


def _tag(node: Any) -> str:
    return etree.QName(node).localname


def _lanes(process: Any) -> dict[str, str]:
    """The lane (its name, else its id) of each flow node, by node id."""
    lanes = {}
    for lane in process.xpath(".//bpmn:lane", namespaces=NS):
        for ref in lane.xpath("bpmn:flowNodeRef/text()", namespaces=NS):
            lanes[ref.strip()] = lane.get("name") or lane.get("id")
    return lanes


def _facts(node: Any, lanes: dict[str, str]) -> dict[str, str]:
    """What is compared of an element, by Chinese label; empty values are left out."""
    facts = {label: _xp_text(node, path) for label, path in FACTS}
    facts.update(_properties(node))
    facts.update(_parameters(node))
    facts["流入"] = _joined(node, "bpmn:incoming/text()")
    facts["流出"] = _joined(node, "bpmn:outgoing/text()")
    if _tag(node) == "lane":
        facts["成员"] = _joined(node, "bpmn:flowNodeRef/text()")
    else:
        facts["泳道"] = lanes.get(node.get("id"), "")
    return {label: value for label, value in facts.items() if value}


def _xp_text(node: Any, path: str) -> str:
    return " ".join(str(node.xpath(path, namespaces=NS)).split())


def _joined(node: Any, path: str) -> str:
    return "、".join(sorted(v.strip() for v in node.xpath(path, namespaces=NS)))


def _properties(node: Any) -> dict[str, str]:
    path = f"{EXT}spiffworkflow:properties/spiffworkflow:property"
    return {PROPERTY_LABELS.get(p.get("name"), f"属性 {p.get('name')}"): p.get("value") or ""
            for p in node.xpath(path, namespaces=NS)}


def _parameters(node: Any) -> dict[str, str]:
    path = f"{OPERATOR}/spiffworkflow:parameters/spiffworkflow:parameter"
    return {f"参数 {p.get('id')}": f"{p.get('value') or ''} ({p.get('type') or '-'})"
            for p in node.xpath(path, namespaces=NS)}


def _compare(old_type: str, old: dict[str, str], new_type: str,
             new: dict[str, str]) -> list[str]:
    details = [f"类型: {old_type} → {new_type}"] if old_type != new_type else []
    labels = list(old) + [label for label in new if label not in old]
    for label in labels:
        if old.get(label) != new.get(label):
            details.append(f"{label}: {_short(old.get(label))} → {_short(new.get(label))}")
    return details


def _short(value: str | None) -> str:
    if not value:
        return "无"
    return value if len(value) <= MAX_VALUE else value[:MAX_VALUE - 1] + "…"
