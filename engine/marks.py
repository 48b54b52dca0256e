"""Where an instance stands on its diagrams, element by element: on its own diagram and on the
diagram of each process its call activities called. SpiffWorkflow runs a called process as a
subprocess workflow inside the same instance, so a called diagram is a view of the same
instance, reached by a path: the call activities' element ids from the top down.

An element is ``completed``, ``active`` (a task waiting for a person), ``waiting`` (a timer,
a message or a job), ``failed`` (an open incident) or ``error``. A call activity takes the
state of what is active inside it (the strongest: failed, error, waiting, active)."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.util.task import TaskState

from .db import db
from .definitions import specs_of
from .errors import NotFound
from .models import Definition, Incident, Instance, Job, MessageWait, Timer, UserTask, WaitStatus
from .state import ACTIVE_STATES, task_states

Path = tuple[str, ...]
RANK = {"completed": 0, "active": 1, "waiting": 2, "error": 3, "failed": 4}


@dataclass
class _Scope:
    path: Path
    process: str  # the process id of the diagram its elements are on
    spec: Any
    tasks: dict[str, Any]


@dataclass
class Layout:
    """The workflows of an instance with the diagram path of each, and of each task."""

    scopes: list[_Scope] = field(default_factory=list)
    task_path: dict[str, Path] = field(default_factory=dict)
    task_element: dict[str, str] = field(default_factory=dict)

    def processes(self) -> dict[Path, str]:
        """The process id of the diagram at each path."""
        return {scope.path: scope.process for scope in self.scopes}


def _element(spec: Any, name: str) -> str:
    task_spec = spec.task_specs.get(name)
    return getattr(task_spec, "bpmn_id", None) or name


def layout(instance: Instance) -> Layout:
    """Read the instance's stored state (without rebuilding the workflow)."""
    top, subprocess_specs = specs_of(instance.definition_id)
    dct = json.loads(zlib.decompress(instance.state))
    workflows: dict[str | None, dict[str, Any]] = {None: dct}  # key: the calling task's id
    workflows.update(dct.get("subprocesses", {}))
    owner = {task_id: key for key, wf in workflows.items() for task_id in wf["tasks"]}
    placed: dict[str | None, tuple[Path, Any]] = {None: ((), top)}

    def place(key: str) -> tuple[Path, Any]:
        """The path and spec of a subprocess: its calling task is in its parent workflow."""
        if key not in placed:
            parent = owner[key]
            parent_path, parent_spec = placed[parent] if parent is None else place(parent)
            task = workflows[parent]["tasks"][key]
            call = parent_spec.task_specs.get(task["task_spec"])
            spec = subprocess_specs.get(workflows[key]["spec"], parent_spec)
            # an embedded subprocess is drawn on its parent's diagram, a called one is not
            path = ((*parent_path, call.bpmn_id) if isinstance(call, CallActivity)
                    else parent_path)
            placed[key] = (path, spec)
        return placed[key]

    found = Layout()
    for key, wf in workflows.items():
        if key is not None and key not in owner:
            continue  # a subprocess whose calling task is gone
        path, spec = placed[None] if key is None else place(key)
        found.scopes.append(_Scope(path, top.name if not path else spec.name, spec, wf["tasks"]))
        for task_id, task in wf["tasks"].items():
            found.task_path[task_id] = path
            found.task_element[task_id] = _element(spec, task["task_spec"])
    return found


def _base(scope: _Scope) -> dict[str, str]:
    return task_states(scope.tasks, lambda name: _element(scope.spec, name))


def _waits(instance_id: int) -> list[tuple[str | None, str, str]]:
    """What the instance waits for and where it failed: (task id, element id, mark)."""
    found: list[tuple[str | None, str, str]] = []
    open_ = WaitStatus.OPEN
    for task_id, element in db.session.execute(sa.select(Timer.id, Timer.element_id).filter_by(
            instance_id=instance_id, status=open_)):
        found.append((task_id, element, "waiting"))
    for task_id, element in db.session.execute(sa.select(
            MessageWait.task_id, MessageWait.element_id).filter_by(instance_id=instance_id,
                                                                    status=open_)):
        found.append((task_id, element, "waiting"))
    for task_id, element in db.session.execute(sa.select(Job.task_id, Job.element_id).filter_by(
            instance_id=instance_id, status="pending")):
        found.append((task_id, element, "waiting"))
    for task_id, element in db.session.execute(sa.select(
            UserTask.id, UserTask.element_id).filter_by(instance_id=instance_id, status=open_)):
        found.append((task_id, element, "active"))
    for task_id, element in db.session.execute(
            sa.select(Job.task_id, Incident.element_id)
            .outerjoin(Job, Job.id == Incident.job_id)
            .where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))):
        found.append((task_id, element, "failed"))
    return found


def _locate(found: Layout, element: str) -> Path:
    """The path of an element known only by its id (an incident without a job): where a task
    of it is active, else where it is at all, else the top."""
    fallback: Path | None = None
    for scope in found.scopes:
        for task in scope.tasks.values():
            if _element(scope.spec, task["task_spec"]) != element:
                continue
            if task["state"] & (ACTIVE_STATES | TaskState.ERROR):
                return scope.path
            if fallback is None:
                fallback = scope.path
    return fallback or ()


def marks(instance: Instance, path: Path = (), found: Layout | None = None) -> dict[str, str]:
    """How each element of the diagram at ``path`` is marked (elements not reached are absent);
    a call activity on it takes the strongest state of what is active inside it."""
    found = found or layout(instance)
    out: dict[str, str] = {}
    inside: dict[str, str] = {}

    def note(at: Path, element: str, mark: str) -> None:
        if at == path:
            out[element] = mark
        elif at[:len(path)] == path and len(at) > len(path):
            call = at[len(path)]
            if RANK[mark] > RANK[inside.get(call, "completed")]:
                inside[call] = mark

    for scope in found.scopes:
        for element, mark in _base(scope).items():
            if scope.path != path and mark == "error":
                note(scope.path, element, mark)
            elif scope.path == path and RANK[mark] >= RANK[out.get(element, "completed")]:
                out[element] = mark
    for task_id, element, mark in sorted(_waits(instance.id), key=lambda w: RANK[w[2]]):
        at = found.task_path.get(task_id or "")
        note(at if at is not None else _locate(found, element), element, mark)
    out.update(inside)
    return out


def called(instance: Instance, path: Path, found: Layout | None = None) -> str:
    """The process id of the diagram at ``path``; NotFound if the instance never called it."""
    process = (found or layout(instance)).processes().get(path)
    if process is None:
        raise NotFound(f"流程实例 {instance.id} 没有经由“{' › '.join(path)}”调用的流程")
    return process


def calls(instance: Instance, path: Path = (), found: Layout | None = None) -> list[str]:
    """The call activities on the diagram at ``path`` that have called their process."""
    found = found or layout(instance)
    return sorted({p[len(path)] for p in found.processes()
                   if len(p) > len(path) and p[:len(path)] == path})


def called_definition(caller: Definition, process: str) -> Definition | None:
    """The deployed version of ``process`` whose diagram the caller's version runs: the one
    whose specs are those the caller was deployed with, else the newest deployed before it."""
    embedded = (caller.spec or {}).get("subprocess_specs", {}).get(process)
    versions = db.session.scalars(sa.select(Definition).filter_by(key=process)
                                  .order_by(Definition.version.desc())).all()
    if embedded is not None:
        for version in versions:
            if (version.spec or {}).get("spec") == embedded:
                return version
    earlier = [v for v in versions if v.deployed_at <= caller.deployed_at]
    return earlier[0] if earlier else None
