"""Wait states: read them off a workflow, and keep their tables in step with it.

A snapshot maps each wait (``kind:task id``, and the message name for messages) to the
waiting SpiffWorkflow task. Comparing the snapshots before and after a step tells which rows
to insert and which to close, without querying the tables first. An event-based gateway is
one waiting task with several events: it gets a timer row and a row per message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from .clock import now, to_naive_utc
from .db import db
from .expressions import evaluate
from .models import Instance, Job, JobStatus, MessageWait, Timer, UserTask, WaitStatus
from .specs import PARAMS_KEY, DeferredServiceTask

USER, JOB, TIMER, MESSAGE = "user", "job", "timer", "message"


@dataclass(frozen=True)
class Wait:
    kind: str
    task: Any = field(compare=False)
    message: Any = field(default=None, compare=False)  # the message definition it catches

    @property
    def task_id(self) -> str:
        return str(self.task.id)

    @property
    def row_id(self) -> str:
        """The id of its row: the task id, plus the message name for a message wait."""
        if self.kind == MESSAGE:
            return f"{self.task_id}:{self.message.name}"
        return self.task_id


def snapshot(workflow: Any) -> dict[str, Wait]:
    """Everything the workflow waits for, by ``kind:row id``."""
    found: dict[str, Wait] = {}
    mask = TaskState.READY | TaskState.STARTED | TaskState.WAITING
    for task in workflow.get_tasks(state=mask):
        for wait in _waits(task):
            found[f"{wait.kind}:{wait.row_id}"] = wait
    return found


def timers_passed(workflow: Any, since: float, before: dict[str, Wait]) -> list[Any]:
    """Timer events a step reached and passed without waiting (their time was up before the
    step ended: a short timer under load): they never had a row, the history notes them."""
    if not _has_timers(workflow):
        return []
    passed = []
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        if task.last_state_change < since or key(TIMER, str(task.id)) in before:
            continue
        if _is_timer(task.task_spec):
            passed.append(task)
    return passed


def _is_timer(spec: Any) -> bool:
    event = getattr(spec, "event_definition", None)
    events = event.event_definitions if isinstance(event, MultipleEventDefinition) else [event]
    return any(isinstance(e, TimerEventDefinition) for e in events)


def _has_timers(workflow: Any) -> bool:
    """Whether any diagram of the workflow has a timer event (read once per spec object)."""
    specs = [workflow.spec, *workflow.subprocess_specs.values()]
    found = False
    for spec in specs:
        cached = getattr(spec, "_cqpi_has_timers", None)
        if cached is None:
            cached = any(_is_timer(ts) for ts in spec.task_specs.values())
            spec._cqpi_has_timers = cached
        found = found or cached
    return found


def key(kind: str, task_id: str) -> str:
    """The snapshot key of a user task, job or timer."""
    return f"{kind}:{task_id}"


def _waits(task: Any) -> list[Wait]:
    spec = task.task_spec
    if task.state == TaskState.READY and spec.manual:
        return [Wait(USER, task)]
    if task.state == TaskState.STARTED and isinstance(spec, DeferredServiceTask):
        return [Wait(JOB, task)]
    if task.state != TaskState.WAITING:
        return []
    event = getattr(spec, "event_definition", None)
    events = event.event_definitions if isinstance(event, MultipleEventDefinition) else [event]
    waits = [Wait(MESSAGE, task, e) for e in events if isinstance(e, MessageEventDefinition)]
    if _is_timer(spec):
        waits.append(Wait(TIMER, task))
    return waits


@dataclass
class Settings:
    max_attempts: int
    backoff_base: int


@dataclass
class Created:
    """The rows a step added for new waits."""

    jobs: list[Job] = field(default_factory=list)
    tasks: list[UserTask] = field(default_factory=list)


def apply(instance: Instance, before: dict[str, Wait], after: dict[str, Wait],
          settings: Settings) -> Created:
    """Insert rows for new waits, close rows of waits that ended; return the new rows."""
    gone = [before[k] for k in before if k not in after]
    if gone:
        _close(gone)
    created = Created()
    for name, wait in after.items():
        if name in before:
            continue
        row = _row(instance, wait, settings)
        db.session.add(row)
        if isinstance(row, Job):
            created.jobs.append(row)
        elif isinstance(row, UserTask):
            created.tasks.append(row)
    return created


def _close(waits: list[Wait]) -> None:
    by_kind: dict[str, list[str]] = {}
    for wait in waits:
        by_kind.setdefault(wait.kind, []).append(wait.row_id)
    for kind, ids in by_kind.items():
        if kind == USER:
            stmt = sa.update(UserTask).where(UserTask.id.in_(ids),
                                             UserTask.status == WaitStatus.OPEN)
            db.session.execute(stmt.values(status=WaitStatus.CANCELLED, completed_at=now()))
        elif kind == JOB:
            stmt = sa.update(Job).where(Job.task_id.in_(ids), Job.status == JobStatus.PENDING)
            db.session.execute(stmt.values(status=JobStatus.CANCELLED, finished_at=now()))
        else:
            model: Any = Timer if kind == TIMER else MessageWait
            db.session.execute(sa.update(model).where(
                model.id.in_(ids), model.status == WaitStatus.OPEN).values(status=WaitStatus.DONE))


def _row(instance: Instance, wait: Wait, settings: Settings) -> Any:
    task, spec, key = wait.task, wait.task.task_spec, wait.task_id
    if wait.kind == USER:
        props = _properties(spec)
        created = now()
        scope = props.get("scope")
        return UserTask(id=key, instance_id=instance.id, element_id=spec.bpmn_id,
                        name=spec.bpmn_name, candidate_group=spec.lane,
                        form_key=props.get("formKey"),
                        scope=str(evaluate(scope, task.data)) if scope else instance.scope,
                        created_at=created, due_at=_due(created, props.get("dueIn")))
    if wait.kind == JOB:
        params = task._get_internal_data(PARAMS_KEY) or {}
        return Job(instance_id=instance.id, task_id=key, element_id=spec.bpmn_id,
                   operation=spec.operation_name,
                   params={k: v["value"] for k, v in params.items()},
                   max_attempts=spec.retries or settings.max_attempts,
                   backoff_base=spec.retry_backoff_base or settings.backoff_base,
                   run_after=now(), enqueued_at=now())
    if wait.kind == TIMER:
        return Timer(id=key, instance_id=instance.id, element_id=spec.bpmn_id,
                     due_at=timer_due(task))
    return MessageWait(id=wait.row_id, task_id=key, instance_id=instance.id,
                       element_id=spec.bpmn_id, name=wait.message.name,
                       correlation_key=instance.business_key)


def _properties(spec: Any) -> dict[str, Any]:
    return (getattr(spec, "extensions", None) or {}).get("properties", {})


def user_task_due(task: Any, created: datetime) -> datetime | None:
    """When a user task created at ``created`` is due by its ``dueIn`` (None: no due date)."""
    return _due(created, _properties(task.task_spec).get("dueIn"))


def _due(start: datetime, duration: str | None) -> datetime | None:
    """``start`` plus ``duration`` as the catalog's ``due_at`` hook counts it (the
    application's working days), else as elapsed time."""
    if not duration:
        return None
    hook = getattr(current_app.extensions.get("cqpi.catalog"), "due_at", None)
    found = hook(start, duration) if hook is not None else None
    if found is not None:
        return found
    parsed = TimerEventDefinition.parse_iso_duration(duration)
    return start + TimerEventDefinition.get_timedelta_from_start(parsed)


def expire_timer(task: Any) -> None:
    """Make a waiting timer task due by SpiffWorkflow's reading of the wall clock too (the
    engine's clock, which may have travelled, has decided that it is due)."""
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):  # a cycle timer
        task._set_internal_data(event_value={**value, "next": past})
    else:
        task._set_internal_data(event_value=past)


def timer_due(task: Any) -> datetime:
    """When a waiting timer task fires, as SpiffWorkflow computed it."""
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):  # a cycle timer
        value = value.get("next")
    if value is None:
        return now() + timedelta(seconds=1)
    return to_naive_utc(TimerEventDefinition.get_datetime(value))
