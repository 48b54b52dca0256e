"""Instance modification (Camunda's "modification", spiff-arena's "reset to task"): ops move
a waiting instance back to an element it has passed. The tokens after that element are
cancelled (their waits closed, the incidents of the service tasks they held resolved) and
the instance starts again before it, with the data it had there.

Refused, with the reason: an ended or suspended instance; an element the instance has not
passed (SpiffWorkflow resets to a task it ran, it cannot jump ahead); an element inside a
parallel section (its join would wait for ever for the branches that are not run again); and
cancelling a service task that has not completed unless ``skip`` names each one (the caller
confirms that they will not run)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.util.task import TaskState

from .clock import now
from .db import db
from .errors import InvalidState
from .marks import layout
from .models import Incident, Instance, InstanceStatus, Job, status_label
from .runtime import ACTIVE, _commit, _open, _run
from .waits import JOB, snapshot


class SkipNotConfirmed(InvalidState):
    """The move would cancel service tasks that the caller did not name in ``skip``."""

    def __init__(self, message: str, skipped: list[str]):
        super().__init__(message)
        self.skipped = skipped


def modify(instance_id: int, target: str, *, actor: str | None, reason: str,
           skip: Iterable[str] = ()) -> Instance:
    """Move the instance back to the element ``target`` (an element id of its diagram or of
    a process it called) and run it until every path waits; ``skip`` confirms the service
    tasks (element ids) that the move cancels before they completed."""
    if not reason.strip():
        raise InvalidState("移动实例须填写原因")
    step = _open(instance_id)
    try:
        if step.instance.status not in ACTIVE:
            raise InvalidState(f"实例{status_label(step.instance.status)}，不能移动")
        task = _passed(step.workflow, target)
        join = _stranded_join(task.task_spec)
        if join is not None:
            raise InvalidState(f"环节“{_name(task.task_spec)}”位于并行分支内：移到此处后并行汇合"
                               f"“{_name(join)}”将永远等待其他分支，不能移动")
        left = sorted({w.task.task_spec.bpmn_id for w in step.before.values()
                       if w.task.state & (TaskState.READY | TaskState.STARTED
                                          | TaskState.WAITING)})
        step.workflow.reset_from_task_id(task.id)
        _renew(task)
        gone = [w for k, w in step.before.items() if k not in snapshot(step.workflow)]
        skipped = sorted({w.task.task_spec.bpmn_id for w in gone if w.kind == JOB})
        missing = [e for e in skipped if e not in set(skip)]
        if missing:
            names = "、".join(f"“{_name(w.task.task_spec)}”" for w in gone
                             if w.kind == JOB and w.task.task_spec.bpmn_id in missing)
            raise SkipNotConfirmed(f"移动将跳过未完成的系统环节 {names}，"
                                   "请确认跳过这些环节后再移动", skipped)
    except InvalidState:
        db.session.rollback()
        raise
    resolved = _resolve(step.instance.id, [w.task_id for w in gone if w.kind == JOB])
    _run(step)
    step.record("instance_modified", element_id=task.task_spec.bpmn_id, actor=actor,
                data={"reason": reason, "from": left, "to": task.task_spec.bpmn_id,
                      "skipped": skipped, "incidents": resolved})
    return _commit(step)


def _passed(workflow: Any, target: str) -> Any:
    """The last run of ``target`` that completed, anywhere in the instance."""
    runs = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if getattr(t.task_spec, "bpmn_id", None) == target]
    if not runs:
        known = any(getattr(s, "bpmn_id", None) == target
                    for spec in (workflow.spec, *workflow.subprocess_specs.values())
                    for s in spec.task_specs.values())
        if not known:
            raise InvalidState(f"流程中没有环节 {target}")
        raise InvalidState(f"实例尚未经过环节 {target}：只能移回已经过的环节")
    return max(runs, key=lambda t: t.last_state_change)


def _stranded_join(spec: Any) -> Any | None:
    """A parallel or inclusive join that a token started at ``spec`` reaches without passing
    the split that pairs it with other branches: it would wait for ever."""
    seen, todo = set(), list(spec.outputs)
    while todo:
        current = todo.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        gateway = isinstance(current, ParallelGateway | InclusiveGateway)
        if gateway and len(current.inputs) > 1:
            return current
        if gateway and len(current.outputs) > 1:
            continue  # a split: the join after it waits for the branches it starts
        todo.extend(current.outputs)
    return None


def _renew(task: Any) -> None:
    """Give the reset task a new id: the rows of its earlier run (a done user task, a job)
    keep theirs, the new run gets its own."""
    workflow, old, new = task.workflow, task.id, uuid4()
    del workflow.tasks[old]
    task.id = new
    workflow.tasks[new] = task
    for child in task.children:
        child._parent = new
    parent = task.parent
    if parent is not None:
        parent._children = [new if child == old else child for child in parent._children]


def _resolve(instance_id: int, task_ids: list[str]) -> list[int]:
    """Resolve the open incidents of the cancelled service tasks (and those of no job: the
    step they stopped runs again)."""
    job_ids = sa.select(Job.id).where(Job.task_id.in_(task_ids))
    incidents = db.session.scalars(sa.select(Incident).where(
        Incident.instance_id == instance_id, Incident.resolved_at.is_(None),
        sa.or_(Incident.job_id.in_(job_ids), Incident.job_id.is_(None)))).all()
    for incident in incidents:
        incident.resolved_at = now()
    instance = db.session.get(Instance, instance_id)
    open_left = db.session.scalar(sa.select(sa.func.count(Incident.id)).where(
        Incident.instance_id == instance_id, Incident.resolved_at.is_(None),
        Incident.id.not_in([i.id for i in incidents])))
    if instance is not None and instance.status == InstanceStatus.ERROR and not open_left:
        instance.status = InstanceStatus.WAITING  # _commit recomputes it from the workflow
    return [i.id for i in incidents]


def _name(spec: Any) -> str:
    return getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name


def targets(instance: Instance) -> list[str]:
    """The named elements the instance has passed (where a move may go), first passed first;
    read from its stored state."""
    passed: dict[str, float] = {}
    for scope in layout(instance).scopes:
        for task in scope.tasks.values():
            spec = scope.spec.task_specs.get(task["task_spec"])
            if task["state"] & TaskState.COMPLETED and getattr(spec, "bpmn_name", None):
                when = float(task.get("last_state_change") or 0)
                passed[spec.bpmn_id] = min(passed.get(spec.bpmn_id, when), when)
    return sorted(passed, key=lambda element: passed[element])
