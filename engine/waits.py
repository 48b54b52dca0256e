"""Wait states: read them off a workflow, and keep their tables in step with it.

A snapshot maps each waiting SpiffWorkflow task id to what it waits for. Comparing the
snapshots before and after a step tells which rows to insert and which to close, without
querying the tables first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
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


def snapshot(workflow: Any) -> dict[str, Wait]:
    """Everything the workflow waits for, by task id."""
    found: dict[str, Wait] = {}
    mask = TaskState.READY | TaskState.STARTED | TaskState.WAITING
    for task in workflow.get_tasks(state=mask):
        kind = _kind(task)
        if kind:
            found[str(task.id)] = Wait(kind, task)
    return found


def _kind(task: Any) -> str | None:
    spec = task.task_spec
    if task.state == TaskState.READY and spec.manual:
        return USER
    if task.state == TaskState.STARTED and isinstance(spec, DeferredServiceTask):
        return JOB
    if task.state == TaskState.WAITING:
        event = getattr(spec, "event_definition", None)
        if isinstance(event, TimerEventDefinition):
            return TIMER
        if isinstance(event, MessageEventDefinition):
            return MESSAGE
    return None


@dataclass
class Settings:
    max_attempts: int
    backoff_base: int


def apply(instance: Instance, before: dict[str, Wait], after: dict[str, Wait],
          settings: Settings) -> list[Job]:
    """Insert rows for new waits, close rows of waits that ended; return the new jobs."""
    gone = [k for k in before if k not in after]
    if gone:
        _close(gone, {k: before[k].kind for k in gone})
    jobs = []
    for key, wait in after.items():
        if key in before:
            continue
        row = _row(instance, key, wait, settings)
        db.session.add(row)
        if isinstance(row, Job):
            jobs.append(row)
    return jobs


def _close(keys: list[str], kinds: dict[str, str]) -> None:
    by_kind: dict[str, list[str]] = {}
    for key in keys:
        by_kind.setdefault(kinds[key], []).append(key)
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


def _row(instance: Instance, key: str, wait: Wait, settings: Settings) -> Any:
    task, spec = wait.task, wait.task.task_spec
    if wait.kind == USER:
        props = (getattr(spec, "extensions", None) or {}).get("properties", {})
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
    return MessageWait(id=key, instance_id=instance.id, element_id=spec.bpmn_id,
                       name=spec.event_definition.name, correlation_key=instance.business_key)


def _due(start: datetime, duration: str | None) -> datetime | None:
    if not duration:
        return None
    parsed = TimerEventDefinition.parse_iso_duration(duration)
    return start + TimerEventDefinition.get_timedelta_from_start(parsed)


def timer_due(task: Any) -> datetime:
    """When a waiting timer task fires, as SpiffWorkflow computed it."""
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):  # a cycle timer
        value = value.get("next")
    if value is None:
        return now() + timedelta(seconds=1)
    return to_naive_utc(TimerEventDefinition.get_datetime(value))
