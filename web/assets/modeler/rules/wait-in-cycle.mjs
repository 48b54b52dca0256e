// A cycle of flows on which the instance never waits runs for ever in one step
// (engine/cycles.py, reported by engine.validation._check_cycles): each process and
// sub-process is a graph of its flow nodes (sequence flows, a boundary event after the
// activity it is attached to, a link throw before the catches of its name); the nodes where
// an instance waits are taken out, and what still goes round is such a cycle. It is named on
// its first element in document order, its elements listed in that order, as the server
// does. A call activity waits when the process it calls does: one of this file, or, for a
// process not in the file (deployed before), the rule assumes it waits.
import { foreignService, local, operators } from "./util.mjs";

const WAITING = new Set(["userTask", "manualTask", "receiveTask", "serviceTask", "eventBasedGateway"]);
const CONTAINERS = new Set(["subProcess", "transaction", "adHocSubProcess"]);
const NOT_NODES = new Set(["sequenceFlow", "dataObject", "dataObjectReference", "dataStoreReference"]);

// The kind the server sees once Camunda's worker tasks are made service tasks
// (engine/foreign/service_tasks.py).
function kind(node) {
  const name = local(node);
  if ((name === "sendTask" || name === "businessRuleTask") && foreignService(node)
      && !operators(node).length) {
    return "serviceTask";
  }
  return name;
}

function children(container) {
  return (container.flowElements || []).filter((n) => !NOT_NODES.has(local(n)) && n.id);
}

function linkName(node) {
  const found = (node.eventDefinitions || []).find((d) => d.$type === "bpmn:LinkEventDefinition");
  return found ? found.name || "" : null;
}

// Whether an element makes the instance wait (engine.cycles._Waits).
function waiting(processes) {
  const known = new Map();
  function inside(container) {
    if (!known.has(container)) {
      known.set(container, false); // a process that calls itself waits only if it waits
      known.set(container, children(container).some(waits));
    }
    return known.get(container);
  }
  function waits(node) {
    const name = kind(node);
    if (WAITING.has(name)) { return true; }
    if (name === "intermediateCatchEvent") { return linkName(node) === null; }
    if (CONTAINERS.has(name)) { return inside(node); }
    if (name === "callActivity") {
      const called = processes.get(node.calledElement || "");
      return called === undefined || inside(called);
    }
    return false;
  }
  return waits;
}

function edgesOf(container, nodes) {
  const edges = new Map([...nodes.keys()].map((id) => [id, []]));
  (container.flowElements || []).filter((f) => f.$type === "bpmn:SequenceFlow").forEach((flow) => {
    const source = flow.sourceRef && flow.sourceRef.id;
    const target = flow.targetRef && flow.targetRef.id;
    if (edges.has(source) && nodes.has(target)) { edges.get(source).push(target); }
  });
  const catches = new Map();
  nodes.forEach((node, id) => {
    const attached = node.attachedToRef && node.attachedToRef.id;
    if (local(node) === "boundaryEvent" && edges.has(attached)) { edges.get(attached).push(id); }
    if (local(node) === "intermediateCatchEvent" && linkName(node) !== null) {
      if (!catches.has(linkName(node))) { catches.set(linkName(node), []); }
      catches.get(linkName(node)).push(id);
    }
  });
  nodes.forEach((node, id) => {
    if (local(node) === "intermediateThrowEvent" && linkName(node) !== null) {
      edges.get(id).push(...(catches.get(linkName(node)) || []));
    }
  });
  return edges;
}

// Tarjan's strongly connected components, iteratively, as engine.cycles._Tarjan: the same
// components in the same order.
function components(edges) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const found = [];
  function enter(node, work) {
    index.set(node, index.size);
    low.set(node, index.get(node));
    stack.push(node);
    work.push({ node, successors: edges.get(node), at: 0 });
  }
  function close(node) {
    const component = stack.splice(stack.indexOf(node));
    if (component.length > 1 || edges.get(node).includes(node)) { found.push(component); }
  }
  function visit(root) {
    const work = [];
    enter(root, work);
    while (work.length) {
      const top = work[work.length - 1];
      let succ;
      while (top.at < top.successors.length) {
        const s = top.successors[top.at];
        top.at += 1;
        if (!index.has(s) || stack.includes(s)) { succ = s; break; }
      }
      if (succ !== undefined && !index.has(succ)) {
        enter(succ, work);
      } else if (succ !== undefined) {
        low.set(top.node, Math.min(low.get(top.node), index.get(succ)));
      } else {
        work.pop();
        if (work.length) {
          const parent = work[work.length - 1].node;
          low.set(parent, Math.min(low.get(parent), low.get(top.node)));
        }
        if (low.get(top.node) === index.get(top.node)) { close(top.node); }
      }
    }
  }
  edges.forEach((_, root) => { if (!index.has(root)) { visit(root); } });
  return found;
}

// Each cycle of the file's processes and sub-processes on which nothing waits, as its
// elements in document order (engine.cycles.endless).
export function endless(definitions) {
  const roots = (definitions.rootElements || []).filter((e) => e.$type === "bpmn:Process");
  const processes = new Map();
  roots.forEach((p) => { processes.set(p.id, p); });
  const containers = [];
  function collect(container) {
    containers.push(container);
    (container.flowElements || []).forEach((child) => {
      if (CONTAINERS.has(local(child))) { collect(child); }
    });
  }
  roots.forEach(collect);
  const waits = waiting(processes);
  const cycles = [];
  containers.forEach((container) => {
    const nodes = new Map();
    children(container).forEach((n) => { if (!waits(n)) { nodes.set(n.id, n); } });
    const order = new Map([...nodes.keys()].map((id, i) => [id, i]));
    components(edgesOf(container, nodes)).forEach((component) => {
      cycles.push(component.sort((a, b) => order.get(a) - order.get(b)).map((id) => nodes.get(id)));
    });
  });
  return cycles;
}

export default function waitInCycle() {
  function check(node, reporter) {
    if (node.$type !== "bpmn:Definitions") { return; }
    endless(node).forEach((cycle) => {
      const path = cycle.map((n) => `“${n.name || n.id}”`).join(" → ");
      reporter.report(cycle[0].id, `循环 ${path} 中没有等待环节（用户任务、接收消息、定时器或服务任务），` +
        "一次办理会无休止地运行：请在循环中加入等待环节");
    });
  }
  return { check };
}
