"""Reading and writing a diagram's tree for the dialect adapters: namespaces, the element a
problem belongs to, and the engine's own extensions (properties, lanes) written in place."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from ..problems import Problem

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF, "camunda": CAMUNDA, "zeebe": ZEEBE}

_BEFORE_EXTENSIONS = {"documentation"}
_BEFORE_LANES = {"documentation", "extensionElements", "auditing", "monitoring", "property"}
"""A process's children that come before its lane sets (BPMN 2.0 XSD, tProcess)."""


def xp(node: Any, path: str) -> list[Any]:
    return node.xpath(path, namespaces=NS)


def local(node: Any) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def attr(node: Any, namespace: str, name: str) -> str | None:
    return node.get(f"{{{namespace}}}{name}")


def element_of(node: Any) -> Any:
    """The flow element a node belongs to: its nearest ancestor with an id, skipping event
    definitions (a timer's expression belongs to its event)."""
    while node is not None and (node.get("id") is None or local(node).endswith("EventDefinition")):
        node = node.getparent()
    return node


def problem(file: str, node: Any, message: str) -> Problem:
    """A problem on the flow element ``node`` belongs to (or on the file)."""
    owner = element_of(node)
    if owner is None:
        return Problem(file, getattr(node, "sourceline", None), "", "", message)
    return Problem(file, owner.sourceline, owner.get("id", ""), owner.get("name", ""), message)


def elements(root: Any, namespace: str) -> Iterator[Any]:
    """Every element of ``namespace`` in the tree."""
    return (node for node in root.iter(f"{{{namespace}}}*"))


def extension(node: Any, namespace: str, name: str) -> list[Any]:
    """``node``'s extension elements ``namespace:name``."""
    return [child for parent in node.findall(f"{{{BPMN}}}extensionElements")
            for child in parent.findall(f"{{{namespace}}}{name}")]


def _child(parent: Any, tag: str, after: set[str]) -> Any:
    """``parent``'s first child ``tag``, made after the children named in ``after`` if none."""
    found = parent.find(tag)
    if found is not None:
        return found
    made = etree.Element(tag)
    position = 0
    for index, child in enumerate(parent):
        if isinstance(child.tag, str) and local(child) in after:
            position = index + 1
    parent.insert(position, made)
    return made


def properties(node: Any) -> dict[str, str]:
    """``node``'s engine properties (``spiffworkflow:property``) by name."""
    return {p.get("name", ""): p.get("value", "")
            for p in xp(node, "bpmn:extensionElements/spiffworkflow:properties/"
                              "spiffworkflow:property")}


def set_property(node: Any, name: str, value: str) -> None:
    """Give ``node`` the engine property ``name`` unless it has one."""
    if name in properties(node):
        return
    extensions = _child(node, f"{{{BPMN}}}extensionElements", _BEFORE_EXTENSIONS)
    holder = extensions.find(f"{{{SPIFF}}}properties")
    if holder is None:
        holder = etree.SubElement(extensions, f"{{{SPIFF}}}properties")
    etree.SubElement(holder, f"{{{SPIFF}}}property", name=name, value=value)


def set_operator(node: Any, operation: str, result: str | None,
                 parameters: dict[str, str]) -> None:
    """Make ``node`` call the service operation ``operation`` (spiff-arena's element)."""
    extensions = _child(node, f"{{{BPMN}}}extensionElements", _BEFORE_EXTENSIONS)
    operator = etree.SubElement(extensions, f"{{{SPIFF}}}serviceTaskOperator", id=operation)
    if result:
        operator.set("resultVariable", result)
    holder = etree.SubElement(operator, f"{{{SPIFF}}}parameters")
    for name, value in parameters.items():
        etree.SubElement(holder, f"{{{SPIFF}}}parameter", id=name, type="any", value=value)


def process_of(node: Any) -> Any:
    while node is not None and local(node) != "process":
        node = node.getparent()
    return node


def put_in_lane(node: Any, group: str) -> None:
    """Move flow node ``node`` into its process's lane named ``group`` (made if missing), out
    of any other lane: the lane is what the engine and SpiffWorkflow read as its group."""
    process = process_of(node)
    if process is None:
        return
    node_id = node.get("id", "")
    for ref in xp(process, ".//bpmn:lane/bpmn:flowNodeRef"):
        if (ref.text or "").strip() == node_id:
            ref.getparent().remove(ref)
    lane = next((lane for lane in xp(process, ".//bpmn:lane") if lane.get("name") == group), None)
    if lane is None:
        lanes = _child(process, f"{{{BPMN}}}laneSet", _BEFORE_LANES)
        if lanes.get("id") is None:
            lanes.set("id", _fresh_id(process, "LaneSet_cqpi"))
        lane = etree.Element(f"{{{BPMN}}}lane", id=_fresh_id(process, "Lane_cqpi"), name=group)
        refs = lanes.findall(f"{{{BPMN}}}lane")
        lanes.insert(lanes.index(refs[-1]) + 1 if refs else len(lanes), lane)
    position = len(lane.findall(f"{{{BPMN}}}flowNodeRef")) + _leading(lane)
    ref = etree.Element(f"{{{BPMN}}}flowNodeRef")
    ref.text = node_id
    lane.insert(position, ref)


def _leading(lane: Any) -> int:
    """How many of ``lane``'s children come before its flow node references."""
    return sum(1 for child in lane if isinstance(child.tag, str)
               and local(child) in ("documentation", "extensionElements", "partitionElement"))


def _fresh_id(process: Any, prefix: str) -> str:
    taken = set(process.getroottree().getroot().xpath("//@id"))
    number = 1
    while f"{prefix}_{number}" in taken:
        number += 1
    return f"{prefix}_{number}"
