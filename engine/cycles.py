"""Refuse a loop that one step would run for ever: a cycle of flows on which the instance
never waits (for a person, a message, a timer or a queued service task).

Each process and sub-process is a graph of its flow nodes: sequence flows, a boundary event
after the activity it is attached to, a link throw before the catches of its name. The
nodes where an instance waits are taken out; what still goes round is such a cycle
(strongly connected components, found without recursion: a diagram may be large).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN}

WAITING = {"userTask", "manualTask", "receiveTask", "serviceTask", "eventBasedGateway"}
"""Elements where an instance always waits (a service task goes to the queue)."""

CONTAINERS = {"subProcess", "transaction", "adHocSubProcess"}
NOT_NODES = {"sequenceFlow", "laneSet", "lane", "dataObject", "dataObjectReference",
             "dataStoreReference", "textAnnotation", "association", "extensionElements",
             "documentation", "ioSpecification", "property", "group", "category"}


def _local(node: Any) -> str:
    return str(etree.QName(node).localname)


def _children(container: Any) -> list[Any]:
    return [n for n in container if isinstance(n.tag, str) and etree.QName(n).namespace == BPMN
            and _local(n) not in NOT_NODES and n.get("id")]


def _link_name(node: Any) -> str | None:
    found = node.find(f"{{{BPMN}}}linkEventDefinition")
    return None if found is None else found.get("name") or ""


class _Waits:
    """Whether an element makes the instance wait; call activities and sub-processes wait
    when something inside them does (a called process not given here counts as waiting:
    validation names it missing elsewhere)."""

    def __init__(self, processes: Mapping[str, Any]) -> None:
        self.processes = processes
        self.known: dict[int, bool] = {}

    def __call__(self, node: Any) -> bool:
        kind = _local(node)
        if kind in WAITING:
            return True
        if kind == "intermediateCatchEvent":
            return _link_name(node) is None
        if kind in CONTAINERS:
            return self._inside(node)
        if kind == "callActivity":
            called = self.processes.get(node.get("calledElement", ""))
            return called is None or self._inside(called)
        return False

    def _inside(self, container: Any) -> bool:
        marker = id(container)
        if marker not in self.known:
            self.known[marker] = False  # a process that calls itself waits only if it waits
            self.known[marker] = any(self(n) for n in _children(container))
        return self.known[marker]


def _edges(container: Any, nodes: Mapping[str, Any]) -> dict[str, list[str]]:
    edges: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for flow in container.iterfind(f"{{{BPMN}}}sequenceFlow"):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in edges and target in nodes:
            edges[source].append(target)
    catches: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        if _local(node) == "boundaryEvent" and node.get("attachedToRef") in edges:
            edges[node.get("attachedToRef")].append(node_id)
        if _local(node) == "intermediateCatchEvent" and _link_name(node) is not None:
            catches.setdefault(_link_name(node) or "", []).append(node_id)
    for node_id, node in nodes.items():
        if _local(node) == "intermediateThrowEvent" and _link_name(node) is not None:
            edges[node_id].extend(catches.get(_link_name(node) or "", []))
    return edges


class _Tarjan:
    """Tarjan's strongly connected components, iteratively (a diagram may be large)."""

    def __init__(self, edges: Mapping[str, list[str]]) -> None:
        self.edges = edges
        self.index: dict[str, int] = {}
        self.low: dict[str, int] = {}
        self.stack: list[str] = []
        self.found: list[list[str]] = []

    def run(self) -> list[list[str]]:
        for root in self.edges:
            if root not in self.index:
                self._visit(root)
        return self.found

    def _enter(self, node: str, work: list[tuple[str, Iterator[str]]]) -> None:
        self.index[node] = self.low[node] = len(self.index)
        self.stack.append(node)
        work.append((node, iter(self.edges[node])))

    def _visit(self, root: str) -> None:
        work: list[tuple[str, Iterator[str]]] = []
        self._enter(root, work)
        while work:
            node, successors = work[-1]
            succ = next((s for s in successors if s not in self.index or s in self.stack), None)
            if succ is not None and succ not in self.index:
                self._enter(succ, work)
            elif succ is not None:
                self.low[node] = min(self.low[node], self.index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    self.low[parent] = min(self.low[parent], self.low[node])
                if self.low[node] == self.index[node]:
                    self._close(node)

    def _close(self, node: str) -> None:
        at = self.stack.index(node)
        component, self.stack[at:] = self.stack[at:], []
        if len(component) > 1 or node in self.edges[node]:
            self.found.append(component)


def endless(root: Any, processes: Mapping[str, Any]) -> Iterable[list[Any]]:
    """Each cycle of ``root``'s processes and sub-processes on which nothing waits, as its
    elements in document order; ``processes`` maps process ids to elements (for calls)."""
    waits = _Waits(processes)
    containers = root.xpath("//bpmn:process | //bpmn:subProcess | //bpmn:transaction"
                            " | //bpmn:adHocSubProcess", namespaces=NS)
    for container in containers:
        nodes = {n.get("id"): n for n in _children(container) if not waits(n)}
        order = {node_id: i for i, node_id in enumerate(nodes)}
        for component in _Tarjan(_edges(container, nodes)).run():
            yield [nodes[i] for i in sorted(component, key=order.__getitem__)]
