"""Run instances: start them, complete their user tasks, deliver messages, fire timers, and
take the results of service jobs; each operation is one transaction that ends in ``_commit``,
or, inside a caller's ``engine.transaction()``, part of the caller's transaction.

Every operation loads the instance, lets SpiffWorkflow advance it until every path waits,
then writes the state, the wait-state rows and the history together, guarded by the
instance's ``lock_version``: of two concurrent writers one wins and the other gets Conflict.
Jobs created by a step are enqueued only after its commit.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from flask import current_app
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from . import expressions, history, holders, queue, state, unit
from .budget import Budget
from .clock import now
from .db import db
from .definitions import latest, specs_of
from .errors import (
    Conflict,
    ExpressionError,
    InvalidState,
    NotFound,
    StepFailed,
    StepOverBudget,
)
from .models import (
    Incident,
    Instance,
    InstanceStatus,
    Job,
    MessageWait,
    Timer,
    UserTask,
    WaitStatus,
    status_label,
)
from .specs import Workflow
from .waits import (
    JOB,
    MESSAGE,
    TIMER,
    USER,
    Settings,
    Wait,
    apply,
    expire_timer,
    key,
    snapshot,
    timers_passed,
)
from .warm import warm

ACTIVE = (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR)
RUN_JOB = "engine.jobs.run_service_job"


@dataclass
class _Step:
    instance: Instance
    workflow: Workflow
    before: dict[str, Wait]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    created_jobs: list[int] = field(default_factory=list)
    """Ids of the jobs the step created, once it is committed."""
    started: float = field(default_factory=time.time)
    """When the step began (SpiffWorkflow's clock: tasks that changed since changed in it)."""

    def record(self, kind: str, **details: Any) -> None:
        """Add a history event, written with the step (once the instance has an id)."""
        self.events.append((kind, details))


def _settings() -> Settings:
    cfg = current_app.config
    return Settings(int(cfg["CQPI_JOB_MAX_ATTEMPTS"]), int(cfg["CQPI_JOB_BACKOFF_SECONDS"]))


def _open(instance_id: int) -> _Step:
    instance = db.session.get(Instance, instance_id, populate_existing=True)
    if instance is None:
        raise NotFound(f"流程实例 {instance_id} 不存在")
    return _restore(instance)


def _restore(instance: Instance) -> _Step:
    """The step of a loaded instance: its workflow rebuilt and what it waits for now."""
    instance_id = instance.id
    if instance.serializer_version != state.VERSION:
        raise InvalidState(f"流程实例 {instance_id} 由序列化格式 {instance.serializer_version} "
                           f"保存，当前引擎为 {state.VERSION}，需要先迁移")
    workflow = warm().take(instance_id, instance.definition_id, instance.state)
    if workflow is None:
        spec, subs = specs_of(instance.definition_id)
        workflow = state.load(instance.state, spec, subs)
    return _Step(instance, workflow, snapshot(workflow))


def _require_active(instance: Instance) -> None:
    if instance.status not in ACTIVE:
        raise InvalidState(f"流程实例 {instance.id} 当前{status_label(instance.status)}，"
                           "不能继续办理")


def _advance(workflow: Workflow, action: Any = None) -> None:
    """Run ``action`` then the engine steps within the step's budget, turning the library's
    errors into StepFailed (StepOverBudget when the budget ran out)."""
    budget = Budget.configured()
    try:
        with expressions.time_limit(budget.seconds_left()):
            if action is not None:
                action()
            workflow.do_engine_steps(will_complete_task=budget.before)
    except StepFailed:
        raise
    except Exception as exc:  # the library raises bare Exceptions too (e.g. a bad duration)
        if budget.spent():  # an expression stopped by the budget's clock, however wrapped
            raise budget.over_time() from None
        if isinstance(exc, ExpressionError):
            raise StepFailed(str(exc), budget.running) from None
        spec = getattr(getattr(exc, "task", None), "task_spec", None)
        element = getattr(spec, "bpmn_id", None)
        raise StepFailed(f"流程无法继续（{element or '未知环节'}）: {exc}", element) from None


def _status(step: _Step, after: dict[str, Wait]) -> str:
    if step.workflow.is_completed():
        return InstanceStatus.COMPLETED
    if step.instance.status in (InstanceStatus.ERROR, InstanceStatus.SUSPENDED):
        return step.instance.status
    if any(w.kind == JOB for w in after.values()):
        return InstanceStatus.RUNNING
    return InstanceStatus.WAITING


def _commit(step: _Step, status: str | None = None, enqueue: bool = True) -> Instance:
    """Write the step: state, wait rows, status; then enqueue the jobs it created (unless the
    caller runs them itself: ``enqueue=False``, their ids in ``step.created_jobs``)."""
    after = snapshot(step.workflow)
    for task in timers_passed(step.workflow, step.started, step.before):
        step.record("timer_fired", element_id=task.task_spec.bpmn_id,
                    data={"within_step": True})
    inst = step.instance
    inst.state = state.dump(step.workflow)
    inst.status = status or _status(step, after)
    inst.updated_at = now()
    if inst.status == InstanceStatus.COMPLETED:
        inst.ended_at = inst.updated_at
        step.record("instance_completed")
    try:
        with racing_writers():
            _write(step, after)
    except IntegrityError as exc:
        db.session.rollback()
        if not _holds_key(exc):
            raise
        raise Conflict(f"业务 {inst.business_key} 已有进行中的流程") from None
    except ExpressionError as exc:  # e.g. a user task's scope expression
        db.session.rollback()
        raise StepFailed(str(exc)) from None
    except Exception:
        db.session.rollback()
        raise
    unit.after_commit(functools.partial(_committed, step, enqueue))
    return inst


@contextlib.contextmanager
def racing_writers() -> Iterator[None]:
    """Writes of an instance's row: another writer that moved it first (its lock_version, or
    SQLite's write lock) makes them a Conflict, with nothing written."""
    try:
        yield
    except (StaleDataError, OperationalError) as exc:
        db.session.rollback()
        if isinstance(exc, OperationalError) and "locked" not in str(exc):
            raise
        raise Conflict("流程实例已被他人更新，请刷新后重试") from None


def _committed(step: _Step, enqueue: bool) -> None:
    """What follows a step's commit: keep its workflow, enqueue the jobs it created."""
    inst = step.instance
    if inst.status in ACTIVE:
        warm().keep(inst.id, inst.definition_id, inst.state, step.workflow)
    if enqueue:
        for job_id in step.created_jobs:
            enqueue_job(job_id)


def enqueue_job(job_id: int) -> None:
    """Put a job on the queue; if the queue is down, clear its mark so that the next tick
    that reaches the queue enqueues it (not only once it is stale)."""
    if not queue.enqueue(RUN_JOB, job_id, job_id=holders.rq_id("job", job_id)):
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(enqueued_at=None))
        db.session.commit()


def _holds_key(exc: IntegrityError) -> bool:
    """Whether ``exc`` is the one-active-instance-per-business-key index refusing a start."""
    text = str(exc.orig)
    return ("uq_engine_instance_active_key" in text
            or "engine_instance.business_key" in text)


def _write(step: _Step, after: dict[str, Wait]) -> None:
    """The step's rows, in one transaction that ends in its commit."""
    inst = step.instance
    if inst.id is None:  # a new instance: insert it first, its rows refer to its id
        db.session.add(inst)
        db.session.flush()
    created = apply(inst, step.before, after, _settings())
    for kind, details in step.events:
        history.record(inst.id, kind, **details)
    for listener in current_app.extensions["cqpi.catalog"].task_listeners:
        listener(created.tasks)  # in this transaction: it commits with the step
    db.session.flush()  # the lock_version check happens here, with every other write
    step.created_jobs = [job.id for job in created.jobs]
    if not unit.active():  # inside a caller's unit of work, the caller commits
        db.session.commit()


def start(key: str, *, business_key: str | None = None, data: dict[str, Any] | None = None,
          scope: str | None = None, actor: str | None = None,
          area: str | None = None, started_by: str | None = None) -> Instance:
    """Start the latest version of process ``key`` and run it until every path waits.
    ``actor`` is who the history names (a username, or a label such as ``system``);
    ``started_by`` is the person whose own list of started instances shows it (a username;
    None, the default, for what the system starts), kept apart from ``actor`` so that no
    label the system writes can ever be read as someone's username."""
    definition = latest(key)
    spec, subs = specs_of(definition.id)
    workflow = state.new_workflow(spec, subs)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data or {})
    instance = Instance(definition_id=definition.id, business_key=business_key, scope=scope,
                        area=area, started_by=started_by, status=InstanceStatus.RUNNING,
                        serializer_version=state.VERSION)
    step = _Step(instance, workflow, {})
    step.record("instance_started", actor=actor,
                data={"definition": f"{definition.key}:{definition.version}"})
    _run(step)
    return _commit(step)


def complete_task(task_id: str, data: dict[str, Any], actor: str | None) -> Instance:
    """Complete a waiting user task with ``data`` (already validated by its form)."""
    found = db.session.execute(  # the task and its instance in one round trip
        sa.select(UserTask, Instance).join(Instance, Instance.id == UserTask.instance_id)
        .where(UserTask.id == task_id).execution_options(populate_existing=True)).first()
    if found is None:
        raise NotFound(f"任务 {task_id} 不存在")
    row, instance = found
    if row.status != WaitStatus.OPEN:
        raise Conflict("该任务已被办理或已取消")
    if row.assignee and actor and row.assignee != actor:
        raise Conflict(f"该任务已被 {row.assignee} 认领")
    step = _restore(instance)
    _require_active(step.instance)
    task = step.workflow.get_task_from_id(UUID(task_id))
    if task.state != TaskState.READY:
        raise Conflict("该任务已不在待办状态")

    def fill_and_run() -> None:
        task.task_spec.add_data_from_form(task, data)
        task.run()

    _run(step, fill_and_run)
    row.status, row.completed_at, row.completed_by = WaitStatus.DONE, now(), actor
    step.before.pop(key(USER, task_id))  # its row is closed here, not as a cancelled wait
    step.record("task_completed", element_id=row.element_id, actor=actor, data=data)
    return _commit(step)


def _run(step: _Step, action: Any = None) -> None:
    """Advance the step; on failure roll back, so that no half-written step stays in the
    session. A step of an existing instance that ran over its budget leaves an incident on
    the element that was running: ops see it, fix the diagram and retry."""
    try:
        _advance(step.workflow, action)
    except Exception as exc:
        db.session.rollback()
        if isinstance(exc, StepOverBudget) and step.instance.id is not None:
            _over_budget(step.instance.id, exc)
        raise


def _over_budget(instance_id: int, exc: StepOverBudget) -> None:
    instance = db.session.get(Instance, instance_id, populate_existing=True)
    if instance is not None:
        open_incident(instance, exc.element_id or "", str(exc), 1)
        db.session.commit()


def claim(task_id: str, actor: str) -> None:
    """Take an open task; Conflict if someone else holds it."""
    changed = db.session.execute(
        sa.update(UserTask)
        .where(UserTask.id == task_id, UserTask.status == WaitStatus.OPEN,
               sa.or_(UserTask.assignee.is_(None), UserTask.assignee == actor))
        .values(assignee=actor)).rowcount  # type: ignore[attr-defined]
    if not changed:
        db.session.rollback()
        raise Conflict("任务已被他人认领或已办理")
    db.session.commit()


def unclaim(task_id: str, actor: str) -> None:
    """Give back a task held by ``actor``."""
    changed = db.session.execute(
        sa.update(UserTask)
        .where(UserTask.id == task_id, UserTask.status == WaitStatus.OPEN,
               UserTask.assignee == actor)
        .values(assignee=None)).rowcount  # type: ignore[attr-defined]
    if not changed:
        db.session.rollback()
        raise Conflict("该任务不在你的名下")
    db.session.commit()


def correlate(name: str, correlation_key: str | None, payload: dict[str, Any] | None = None,
              actor: str | None = None) -> int:
    """Deliver message ``name`` to the instances that wait for it with this key.

    Returns how many instances caught it (0 when none waits).
    """
    waits = db.session.scalars(sa.select(MessageWait).filter_by(
        status=WaitStatus.OPEN, name=name, correlation_key=correlation_key)).all()
    delivered = 0
    for instance_id in sorted({w.instance_id for w in waits}):
        step = _open(instance_id)
        if step.instance.status not in ACTIVE:
            db.session.rollback()
            continue
        catching = [w for w in step.before.values()
                    if w.kind == MESSAGE and w.message.name == name]
        event = BpmnEvent(catching[0].message, payload or {})
        _run(step, functools.partial(step.workflow.send_event, event))
        step.record("message_received", element_id=catching[0].task.task_spec.bpmn_id,
                    actor=actor, data={"name": name, "payload": payload or {}})
        _commit(step)
        delivered += 1
    return delivered


def fire_timer(timer_id: str, enqueue: bool = True) -> list[int] | None:
    """Fire a due timer: the ids of the jobs its step created (enqueued unless ``enqueue`` is
    False: the caller runs them); None if it is gone, not due yet, or its instance is paused."""
    timer = db.session.get(Timer, timer_id, populate_existing=True)
    if timer is None or timer.status != WaitStatus.OPEN or timer.due_at > now():
        return None
    step = _open(timer.instance_id)
    if step.instance.status not in ACTIVE:
        db.session.rollback()
        return None
    waiting = step.before.get(key(TIMER, timer_id))
    if waiting is not None:
        expire_timer(waiting.task)
    _run(step, step.workflow.refresh_timers)
    step.record("timer_fired", element_id=timer.element_id)
    _commit(step, enqueue=enqueue)
    return step.created_jobs


def open_incident(instance: Instance, element_id: str, error: str, attempts: int,
                  job_id: int | None = None) -> None:
    """Record an incident and put the instance in ERROR (in the caller's transaction)."""
    db.session.add(Incident(instance_id=instance.id, job_id=job_id, element_id=element_id,
                            error=error, attempts=attempts))
    if instance.status in ACTIVE:
        instance.status = InstanceStatus.ERROR
    history.record(instance.id, "incident_opened", element_id=element_id,
                   data={"error": error, "attempts": attempts})
    for listener in current_app.extensions["cqpi.catalog"].incident_listeners:
        listener(instance, element_id)
