"""Serialized forms: a definition's specs (once per version), an instance's state (without them)."""

from __future__ import annotations

import json
import zlib
from typing import Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

from .expressions import script_engine
from .specs import SERIALIZER_CONFIG, Workflow

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SERIALIZER_CONFIG))
VERSION = SERIALIZER.VERSION
"""SpiffWorkflow's serializer version, stored with each instance (state is not portable)."""


def specs_to_dict(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
    return {
        "spec": SERIALIZER.to_dict(spec),
        "subprocess_specs": {k: SERIALIZER.to_dict(v) for k, v in subprocess_specs.items()},
    }


def specs_from_dict(dct: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    spec = SERIALIZER.from_dict(dct["spec"])
    subs = {k: SERIALIZER.from_dict(v) for k, v in dct["subprocess_specs"].items()}
    return spec, subs


def new_workflow(spec: Any, subprocess_specs: dict[str, Any]) -> Workflow:
    return Workflow(spec, subprocess_specs, script_engine=script_engine())


def dump(workflow: Workflow) -> bytes:
    """The workflow's state as compressed JSON, without its specs."""
    text = json.dumps(SERIALIZER.to_dict(workflow), separators=(",", ":"), ensure_ascii=False)
    return zlib.compress(text.encode(), 1)


def load(blob: bytes, spec: Any, subprocess_specs: dict[str, Any]) -> Workflow:
    """Rebuild a workflow from ``dump``'s output and its definition's specs."""
    dct = json.loads(zlib.decompress(blob))
    workflow = SERIALIZER.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine()
    return workflow


ACTIVE_STATES = TaskState.WAITING | TaskState.READY | TaskState.STARTED


def data_of(blob: bytes) -> dict[str, Any]:
    """An instance's current data (workflow data, the last completed task's, then the data of
    the tasks that wait), read from a stored state without rebuilding the workflow."""
    dct = json.loads(zlib.decompress(blob))
    tasks = dct["tasks"]
    data = dict(dct.get("data", {}))
    if dct.get("last_task") in tasks:
        data.update(_task_data(tasks, dct["last_task"]))
    for task_id, task in tasks.items():
        if task["state"] & ACTIVE_STATES:
            data.update(_task_data(tasks, task_id))
    return data


def _task_data(tasks: dict[str, Any], task_id: str) -> dict[str, Any]:
    """Replay the serializer's per-task deltas from the root down to ``task_id``."""
    chain = []
    current: str | None = task_id
    while current is not None:
        chain.append(tasks[current])
        current = tasks[current]["parent"]
    data: dict[str, Any] = {}
    for task in reversed(chain):
        if task["parent"] is None:
            data = dict(task.get("data") or {})
            continue
        delta = task.get("delta") or {}
        data.update(delta.get("updates", {}))
        for key in delta.get("deletions", []):
            data.pop(key, None)
    return data


def task_states(tasks: dict[str, Any], element: Any = None) -> dict[str, str]:
    """Where one workflow of an instance stands, from its serialized tasks, by element id
    (``element`` maps a task spec's name to it; the name itself by default): ``completed``,
    ``active`` (ready, waiting, started) or ``error``; elements not reached are absent."""
    out: dict[str, str] = {}
    for task in tasks.values():
        name, value = task["task_spec"], task["state"]
        name = element(name) if element else name
        if value & TaskState.ERROR:
            out[name] = "error"
        elif value & ACTIVE_STATES and out.get(name) != "error":
            out[name] = "active"
        elif value & TaskState.COMPLETED:
            out.setdefault(name, "completed")
    return out
