"""Ops operations on instances: suspend, resume, terminate, retry. Each is audited."""

from __future__ import annotations

import sqlalchemy as sa

from . import history
from .clock import now
from .db import db
from .errors import InvalidState, NotFound
from .models import (
    Incident,
    Instance,
    InstanceStatus,
    Job,
    JobStatus,
    Timer,
    WaitStatus,
    status_label,
)
from .runtime import ACTIVE, _commit, _open, _status, enqueue_job, racing_writers
from .waits import snapshot

ENDED = (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED)


def _get(instance_id: int) -> Instance:
    instance = db.session.get(Instance, instance_id, populate_existing=True)
    if instance is None:
        raise NotFound(f"流程实例 {instance_id} 不存在")
    return instance


def suspend(instance_id: int, actor: str | None, reason: str | None = None) -> Instance:
    """Pause an instance: no task completion, job or timer advances it until resumed."""
    instance = _get(instance_id)
    if instance.status not in ACTIVE:
        raise InvalidState(f"只有运行中的实例可以挂起（当前: {status_label(instance.status)}）")
    instance.status = InstanceStatus.SUSPENDED
    history.record(instance_id, "instance_suspended", actor=actor, data={"reason": reason})
    _save()
    return instance


def _save() -> None:
    """Commit a change of an instance's row (a racing writer makes it a Conflict)."""
    with racing_writers():
        db.session.commit()


def resume(instance_id: int, actor: str | None, reason: str | None = None) -> Instance:
    """Un-pause an instance; what came due meanwhile runs at the next scheduler tick."""
    instance = _get(instance_id)
    if instance.status != InstanceStatus.SUSPENDED:
        raise InvalidState(f"实例未挂起（当前: {status_label(instance.status)}）")
    _refresh_status(instance)
    _requeue(instance_id)
    history.record(instance_id, "instance_resumed", actor=actor, data={"reason": reason})
    _save()
    return instance


def terminate(instance_id: int, actor: str | None, reason: str | None = None) -> Instance:
    """End an instance for good: its waits are cancelled and its incidents closed."""
    step = _open(instance_id)
    if step.instance.status in ENDED:
        db.session.rollback()
        raise InvalidState(f"实例已结束（{status_label(step.instance.status)}）")
    step.workflow.cancel()
    _resolve_incidents(instance_id)
    step.record("instance_terminated", actor=actor, data={"reason": reason})
    step.instance.ended_at = now()
    return _commit(step, status=InstanceStatus.TERMINATED)


def retry(instance_id: int, actor: str | None, reason: str | None = None) -> int:
    """Give every open incident of the instance a fresh set of attempts; returns how many.
    The reason (ops give one; the engine's own callers need not) goes into the history."""
    instance = _get(instance_id)
    if instance.status in ENDED or instance.status == InstanceStatus.SUSPENDED:
        raise InvalidState(f"实例{status_label(instance.status)}，不能重试")
    incidents = _resolve_incidents(instance_id)
    if not incidents:
        raise InvalidState("该实例没有待处理的故障")
    job_ids = [i.job_id for i in incidents if i.job_id is not None]
    if job_ids:
        db.session.execute(sa.update(Job).where(Job.id.in_(job_ids)).values(
            status=JobStatus.PENDING, attempts=0, run_after=now(), enqueued_at=now(),
            finished_at=None))
    _refresh_status(instance)
    _requeue(instance_id, jobs=False)
    history.record(instance_id, "instance_retried", actor=actor,
                   data={"incidents": [i.id for i in incidents], "reason": reason})
    db.session.commit()
    for job_id in job_ids:
        enqueue_job(job_id)
    return len(incidents)


def _resolve_incidents(instance_id: int) -> list[Incident]:
    incidents = db.session.scalars(sa.select(Incident).filter_by(
        instance_id=instance_id, resolved_at=None)).all()
    for incident in incidents:
        incident.resolved_at = now()
    return list(incidents)


def _refresh_status(instance: Instance) -> None:
    """Recompute the status from the workflow (error if incidents remain open)."""
    open_incidents = db.session.scalar(sa.select(sa.func.count(Incident.id)).filter_by(
        instance_id=instance.id, resolved_at=None))
    if open_incidents:
        instance.status = InstanceStatus.ERROR
        return
    step = _open(instance.id)
    instance.status = InstanceStatus.WAITING  # neither paused nor failed any more
    instance.status = _status(step, snapshot(step.workflow))


def _requeue(instance_id: int, jobs: bool = True) -> None:
    """Let the scheduler tick pick up the instance's pending jobs and timers at once."""
    if jobs:
        db.session.execute(sa.update(Job).where(
            Job.instance_id == instance_id, Job.status == JobStatus.PENDING
        ).values(enqueued_at=None))
    db.session.execute(sa.update(Timer).where(
        Timer.instance_id == instance_id, Timer.status == WaitStatus.OPEN).values(enqueued_at=None))
