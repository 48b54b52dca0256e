"""Move running instances to another version of their process.

SpiffWorkflow 3.2.0 restores a stored task by looking its spec name up in the spec it is
given (``workflow.spec.task_specs.get(name)``) and, when the name is missing, silently gives
the task a fresh ``StartTask`` instead of failing; a subprocess is restored against
``subprocess_specs[<its call activity's spec>.spec]``. So an instance can only move to a
version that has every task spec its state names, checked here before loading.

The state also holds the *predicted* future of the old version (FUTURE, LIKELY and MAYBE
tasks under unfinished ones): left as it is, the instance would follow the old path. Those
predictions are dropped from the stored state before it is loaded, and SpiffWorkflow predicts
again from the target's specs. A target that adds a parallel join ahead of the instance, one
of whose branches the instance can no longer reach, is refused: it would wait there for ever.
Tasks that are ready, waiting or started keep their id, data and internal data (a timer keeps
its due time); the rows of open user tasks are re-derived from the target (name, lane, form,
due date, scope).
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway
from SpiffWorkflow.util.task import TaskState

from . import state
from .control import ENDED
from .db import db
from .definitions import specs_of
from .errors import EngineError, InvalidState, NotFound
from .expressions import script_engine
from .models import Definition, Instance, UserTask, WaitStatus, status_label
from .runtime import _commit, _settings, _Step
from .specs import Workflow
from .waits import USER, Wait, _row, snapshot, user_task_due

log = logging.getLogger(__name__)

UNFINISHED = TaskState.NOT_FINISHED_MASK
PREDICTED = TaskState.FUTURE | TaskState.PREDICTED_MASK

Specs = tuple[Any, dict[str, Any]]


@dataclass(frozen=True)
class Result:
    instance_id: int
    ok: bool
    reason: str | None = None  # why it was not moved, in Chinese


@dataclass
class _Plan:
    reasons: list[str]
    state: dict[str, Any] | None = None  # the stored state without its predictions


def check(instance: Instance, target: Definition) -> list[str]:
    """Why ``instance`` cannot move to ``target`` (in Chinese); empty when it can."""
    return _plan(instance, target).reasons


def migrate(instance_ids: list[int], target_definition_id: int, actor: str | None,
            reason: str | None = None) -> list[Result]:
    """Move each instance to the target version, each in its own transaction: a refusal or
    a conflict on one instance does not stop the others."""
    _definition(target_definition_id)  # NotFound for the whole call
    results = []
    for instance_id in instance_ids:
        try:
            _move(instance_id, target_definition_id, actor, reason)
            results.append(Result(instance_id, True))
        except EngineError as exc:
            db.session.rollback()
            results.append(Result(instance_id, False, str(exc)))
        except Exception as exc:  # a library error on one instance must not stop the batch
            db.session.rollback()
            log.exception("migrating instance %s failed", instance_id)
            results.append(Result(instance_id, False, f"迁移失败: {exc}"))
    return results


def _move(instance_id: int, target_id: int, actor: str | None, reason: str | None) -> None:
    instance = db.session.get(Instance, instance_id, populate_existing=True)
    if instance is None:
        raise NotFound(f"流程实例 {instance_id} 不存在")
    target = _definition(target_id)
    plan = _plan(instance, target)
    if plan.reasons or plan.state is None:
        raise InvalidState("；".join(plan.reasons))
    source = _definition(instance.definition_id)
    before = snapshot(state.load(instance.state, *specs_of(source.id)))
    step = _Step(instance, _restore(plan.state, specs_of(target.id)), before)
    _refresh_user_tasks(instance, before, snapshot(step.workflow))
    data: dict[str, Any] = {"from_version": source.version, "to_version": target.version}
    if reason:
        data["reason"] = reason
    instance.definition_id = target.id
    step.record("instance_migrated", actor=actor, data=data)
    _commit(step, status=instance.status)


def _definition(definition_id: int) -> Definition:
    found = db.session.get(Definition, definition_id)
    if found is None:
        raise NotFound(f"流程定义 {definition_id} 不存在")
    return found


def _plan(instance: Instance, target: Definition) -> _Plan:
    reasons = _refusals(instance, target)
    if reasons:
        return _Plan(reasons)
    stored = json.loads(zlib.decompress(instance.state))
    _prune(stored)
    missing = _missing(stored, specs_of(instance.definition_id), specs_of(target.id))
    return _Plan(list(dict.fromkeys(missing)), stored)


def _refusals(instance: Instance, target: Definition) -> list[str]:
    """The reasons that do not depend on the diagrams."""
    if instance.status in ENDED:
        return [f"实例已结束（{status_label(instance.status)}），不能迁移"]
    source = _definition(instance.definition_id)
    reasons = []
    if source.key != target.key:
        reasons.append(f"目标版本属于流程“{target.key}”，而实例属于流程“{source.key}”")
    elif source.id == target.id:
        reasons.append(f"实例已在第 {target.version} 版上")
    if instance.serializer_version != state.VERSION:
        reasons.append(f"实例由序列化格式 {instance.serializer_version} 保存，"
                       f"当前引擎为 {state.VERSION}，需要先迁移其格式")
    return reasons


def _prune(stored: dict[str, Any]) -> None:
    """Drop the predicted tasks (those under unfinished ones) from a stored state, in the top
    workflow and in each subprocess, and the subprocesses of dropped tasks."""
    subprocesses = stored.get("subprocesses", {})
    dropped: set[str] = set()
    for workflow in [stored, *subprocesses.values()]:
        dropped |= _prune_tasks(workflow["tasks"])
    for task_id in dropped & set(subprocesses):
        del subprocesses[task_id]


def _prune_tasks(tasks: dict[str, Any]) -> set[str]:
    doomed = [task_id for task_id, task in tasks.items()
              if task["state"] & PREDICTED and task["parent"] is not None
              and tasks[task["parent"]]["state"] & UNFINISHED]
    dropped: set[str] = set()
    for task_id in doomed:
        if task_id in dropped:
            continue
        tasks[tasks[task_id]["parent"]]["children"].remove(task_id)
        pending = [task_id]
        while pending:
            current = pending.pop()
            pending.extend(tasks.pop(current)["children"])
            dropped.add(current)
    return dropped


def _missing(stored: dict[str, Any], source: Specs, target: Specs) -> list[str]:
    """A reason for each task of the state that the target cannot restore (the serializer
    would give a task whose spec is missing a bogus start task), and for each subprocess."""
    reasons: list[str | None] = []
    subprocesses = stored.get("subprocesses", {})
    pending = [(stored, source[0], target[0])]
    while pending:
        workflow, old_spec, new_spec = pending.pop()
        tasks = workflow["tasks"]
        reasons.extend(_stalled_joins(tasks, old_spec, new_spec))
        for task_id, task in tasks.items():
            name = task["task_spec"]
            reasons.append(_unrestorable(tasks, task, old_spec, new_spec))
            if task_id not in subprocesses or name not in new_spec.task_specs:
                continue
            new_sub = _called(target, new_spec, name)
            if new_sub is None:
                label, element = _element(old_spec, name)
                reasons.append(f"实例正在执行“{label}”({element})的子流程，"
                               "新版本中该环节调用的流程不存在")
            else:
                old_sub = _called(source, old_spec, name) or new_sub
                pending.append((subprocesses[task_id], old_sub, new_sub))
    return [reason for reason in reasons if reason]


def _stalled_joins(tasks: dict[str, Any], old_spec: Any, new_spec: Any) -> list[str]:
    """A parallel join that the target adds (or joins differently) ahead of where the
    instance stands waits for every incoming branch: a branch the instance neither stands on
    nor can reach from where it stands would never arrive, and the instance would wait for
    ever. A join the instance's own version has with the same branches is left alone, and so
    is one the instance has already reached on some branch (SpiffWorkflow counts those)."""
    active = {task["task_spec"] for task in tasks.values() if task["state"] & UNFINISHED}
    reach = _reachable(new_spec.task_specs[n] for n in active if n in new_spec.task_specs)
    reasons = []
    for join in reach:
        if not isinstance(join, ParallelGateway) or len(join.inputs) < 2 or join.name in active:
            continue
        before = old_spec.task_specs.get(join.name)
        if before is not None and {i.name for i in before.inputs} == {i.name for i in join.inputs}:
            continue
        label, element = _element(new_spec, join.name)
        for branch in join.inputs:
            if branch not in reach:
                blabel, belement = _element(new_spec, branch.name)
                reasons.append(f"新版本在“{label}”({element})处会合，而该实例不会经过分支"
                               f"“{blabel}”({belement})：迁移后将在会合处永远等待")
    return reasons


def _reachable(starts: Iterable[Any]) -> set[Any]:
    """The task specs reachable from ``starts`` along the diagram's flows (``starts`` too)."""
    seen: set[Any] = set()
    pending = list(starts)
    while pending:
        spec = pending.pop()
        if spec not in seen:
            seen.add(spec)
            pending.extend(spec.outputs)
    return seen


def _unrestorable(tasks: dict[str, Any], task: dict[str, Any], old_spec: Any,
                  new_spec: Any) -> str | None:
    """Why one stored task cannot go on under ``new_spec``, if it cannot."""
    name = task["task_spec"]
    if name not in new_spec.task_specs:
        return _absent(old_spec, new_spec, name, task["state"])
    # a task that waits without the boundary events the target attaches to it would fail
    # when it completes (their join looks for the split among its ancestors)
    split = f"{name}.BoundaryEventSplit"
    parent = tasks.get(task["parent"] or "")
    if (task["state"] & UNFINISHED and split in new_spec.task_specs
            and (parent is None or parent["task_spec"] != split)):
        label, element = _element(old_spec, name)
        return f"实例停留在“{label}”({element})，新版本为该环节增加了边界事件，无法迁移"
    return None


def _called(specs: Specs, parent: Any, name: str) -> Any:
    """The spec of the subprocess that task spec ``name`` of ``parent`` runs, if any."""
    called = getattr(parent.task_specs.get(name), "spec", None)
    return specs[1].get(called) if isinstance(called, str) else None


def _element(spec: Any, name: str) -> tuple[str, str]:
    """(name, id) of the element behind task spec ``name`` (internal specs such as
    ``Task_X.BoundaryEventSplit`` stand for their element ``Task_X``)."""
    task_spec = spec.task_specs.get(name)
    if getattr(task_spec, "bpmn_id", None) is None:
        task_spec = spec.task_specs.get(name.split(".", maxsplit=1)[0])
    element = getattr(task_spec, "bpmn_id", None) or name
    return getattr(task_spec, "bpmn_name", None) or element, element


def _absent(old_spec: Any, new_spec: Any, name: str, value: int) -> str | None:
    label, element = _element(old_spec, name)
    if getattr(old_spec.task_specs.get(name), "bpmn_id", None) is None:  # an internal spec
        if element != name and element not in new_spec.task_specs:
            return None  # the element itself is missing: its own task gives the reason
        return f"“{label}”({element})在新版本中的结构不同（{name}），实例无法迁移"
    if value & UNFINISHED:
        return f"实例停留在“{label}”({element})，新版本中不存在该环节"
    return f"实例已经过“{label}”({element})，新版本中不存在该环节，无法恢复其记录"


def _restore(stored: dict[str, Any], specs: Specs) -> Workflow:
    """Load a pruned state on the target's specs and predict its future from them."""
    spec, subs = specs
    workflow = state.SERIALIZER.from_dict(stored, spec=spec, subprocess_specs=subs)
    workflow.script_engine = script_engine()
    for part in [workflow, *workflow.subprocesses.values()]:
        for task in list(part.tasks.values()):
            if task.has_state(UNFINISHED) and not task.children:
                task.task_spec._predict(task, mask=UNFINISHED)
    return workflow


def _refresh_user_tasks(instance: Instance, before: dict[str, Wait],
                        after: dict[str, Wait]) -> None:
    """Rewrite the open user-task rows that stay open from the target's specs; the due date
    keeps counting from when the task was created."""
    waits = {w.task_id: w for k, w in after.items() if w.kind == USER and k in before}
    if not waits:
        return
    rows = db.session.scalars(sa.select(UserTask).where(
        UserTask.id.in_(waits), UserTask.status == WaitStatus.OPEN)).all()
    for row in rows:
        fresh = _row(instance, waits[row.id], _settings())
        row.element_id, row.name = fresh.element_id, fresh.name
        row.candidate_group, row.form_key, row.scope = (
            fresh.candidate_group, fresh.form_key, fresh.scope)
        row.due_at = user_task_due(waits[row.id].task, row.created_at)
