"""The rq job functions, and the scheduler tick that feeds them from the database.

Jobs take ids, never objects. The database is the source of truth: a job row stays PENDING
until its handler's result has advanced the instance, and the tick enqueues every pending
job and due timer that is not on the queue (a retry whose back-off ended, a job lost with
Redis, a timer that came due), so a lost Redis loses no work.
"""

from __future__ import annotations

import itertools
import logging
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import redis
import sqlalchemy as sa
from flask import current_app
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.exc import InterfaceError, OperationalError

from . import history, holders, queue, schedule
from .clock import now
from .db import db, remove_session
from .errors import Conflict, EngineError, StepOverBudget
from .models import Instance, InstanceStatus, Job, JobStatus, Timer, WaitStatus
from .runtime import (
    ACTIVE,
    RUN_JOB,
    StepFailed,
    _advance,
    _commit,
    _restore,
    enqueue_job,
    fire_timer,
    open_incident,
)
from .waits import JOB, key

FIRE_TIMER = "engine.jobs.run_timer"
PARKED = datetime(9999, 1, 1)
"""The enqueued mark of a timer whose step failed: no sweep takes it; a retry clears it."""

STALE_AFTER = timedelta(minutes=5)
"""A row enqueued this long ago and still waiting is enqueued again (the queue lost it)."""

CONFLICT_RETRIES = 5
"""How often a job's result is applied again when another writer changed the instance."""

CHAIN_LIMIT = 20
"""How many service tasks of one instance a worker runs in a row when each step leads to
exactly one next job (close -> push -> record): no queue round trip between them. Several
jobs at once (parallel branches) go to the queue, so that any worker can take each; so does
the next job when a due timer waits at the queue's front (it takes its turn)."""

log = logging.getLogger(__name__)


OUTAGE_WAIT = timedelta(minutes=2)
"""How long a job that meets an unreachable database waits for it, trying again with
back-off, before it gives up (its row then waits for the stale sweep)."""

OUTAGE_BACKOFF = (0.5, 1.0, 2.0, 5.0)
"""Seconds between a job's attempts while the database is unreachable (the last repeats)."""


def riding_out_outages(body: Callable[[], str]) -> str:
    """Run ``body`` (a whole rq job) again, from the start, while the database it needs is
    unreachable (a restart, a failover), until ``OUTAGE_WAIT`` has passed: a job whose row
    the database cannot update must not end in rq's failed list with its row still marked
    enqueued. What ran before the outage is not done twice: each step commits or not, a
    done job is skipped, handlers are idempotent. The worker holds the job meanwhile,
    rather than take others it could not run either."""
    deadline = time.monotonic() + OUTAGE_WAIT.total_seconds()
    for pause in itertools.chain(OUTAGE_BACKOFF, itertools.repeat(OUTAGE_BACKOFF[-1])):
        try:
            return body()
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() >= deadline:
                raise
            remove_session()  # its connection is dead, and so may be its rollback
            log.warning("the database is unreachable (%s); the job tries again in %.1f s",
                        str(exc).splitlines()[0][:200], pause)
            time.sleep(pause)
    raise AssertionError("the back-off repeats for ever")


def run_service_job(job_id: int) -> str:
    """rq entry point: run the handler of a deferred service task and apply its result; then
    run the job that step created, if it created exactly one (see CHAIN_LIMIT)."""
    return Pass(lambda: _run_held(job_id)).ride_out()


def _run_held(job_id: int) -> tuple[str, list[int]]:
    """``_run``, with the job marked as this process's while it runs (engine.holders)."""
    with holders.running("job", job_id):
        return _run(job_id)


def _timer_waits() -> bool:
    """Whether a due timer waits at the front of the queue: a pass then puts its next job on
    the queue behind it instead of running it at once (a burst of due timers would
    otherwise wait for each other's chains). Other jobs waiting do not stop a chain: it
    saves them the queue's round trips."""
    handle = queue.queues()
    try:
        head = handle.connection.lindex(handle.queue.key, 0)
    except redis.RedisError:
        return False
    return head is not None and head.decode().startswith(holders.rq_id("timer", ""))


class Pass:
    """One rq job's work: its first step, then the chain of jobs that step led to. An outage
    of the database makes ``riding_out_outages`` try again; the pass goes on from where it
    stopped (the jobs it ran are done, the ones it marked enqueued are its own to run, and
    no queue holds them), never from its first step."""

    def __init__(self, first: Callable[[], tuple[str, list[int]]]) -> None:
        self.first: Callable[[], tuple[str, list[int]]] | None = first
        self.outcome = ""
        self.todo: list[int] = []
        self.runs = 0

    def ride_out(self) -> str:
        return riding_out_outages(self._go_on)

    def _go_on(self) -> str:
        if self.first is not None:
            self.outcome, self.todo = self.first()
            self.first = None
        while len(self.todo) == 1 and self.runs < CHAIN_LIMIT and not _timer_waits():
            _, self.todo = _run_held(self.todo[0])
            self.runs += 1
        while self.todo:
            enqueue_job(self.todo[0])
            self.todo.pop(0)
        return self.outcome


def _load(job_id: int) -> tuple[Job, Instance] | None:
    """A job and its instance, read fresh in one round trip."""
    found = db.session.execute(
        sa.select(Job, Instance).join(Instance, Instance.id == Job.instance_id)
        .where(Job.id == job_id).execution_options(populate_existing=True)).first()
    return (found[0], found[1]) if found is not None else None


def _run(job_id: int) -> tuple[str, list[int]]:
    """Run one job: its outcome and the ids of the jobs its step created."""
    found = _load(job_id)
    if found is None:
        return "skipped", []
    job, instance = found
    if job.status != JobStatus.PENDING or job.run_after > now() or instance.status not in ACTIVE:
        db.session.rollback()
        return _park_if_paused(Job, job_id), []
    context = {"instance_id": job.instance_id, "business_key": instance.business_key,
               "job_id": job.id, "idempotency_key": f"cqpi-job-{job.id}",
               "attempt": job.attempts + 1, "scope": instance.scope}
    params = dict(job.params)
    db.session.commit()  # no transaction stays open while the handler works; the rows stay read
    try:  # an operation unknown to this process fails like any other attempt
        handler = current_app.extensions["cqpi.catalog"].handler(job.operation)
        result = handler(params, context) or {}
        following = _apply_result(job, instance, result)
    except Exception as exc:
        db.session.rollback()
        _record_failure(job_id, exc)
        return "failed", []
    return "done", following


def _apply_result(job: Job, instance: Instance, result: dict[str, Any]) -> list[int]:
    """Apply the result to the rows read before the handler ran; if another writer moved the
    instance meanwhile (its lock_version), read both again and apply it to what is there."""
    for attempt in range(CONFLICT_RETRIES):
        if attempt:
            found = _load(job.id)
            if found is None:
                return []
            job, instance = found
        try:
            return _complete(job, instance, result)
        except Conflict:
            if attempt == CONFLICT_RETRIES - 1:
                raise
    return []


def _complete(job: Job, instance: Instance, result: dict[str, Any]) -> list[int]:
    """Apply a job's result to its instance; the ids of the jobs the step created (not yet
    enqueued: the caller runs or enqueues them)."""
    if job.status != JobStatus.PENDING:
        db.session.rollback()
        return []
    step = _restore(instance)
    task = step.workflow.get_task_from_id(UUID(job.task_id))
    job.attempts += 1
    job.finished_at = now()
    if task.state != TaskState.STARTED:  # the instance moved on (cancelled, terminated)
        job.status = JobStatus.CANCELLED
        db.session.commit()
        return []

    def take_result() -> None:
        variable = task.task_spec.result_variable
        if variable.startswith("spiff__"):
            task.data.update(result)
        else:
            task.data[variable] = result
        task.complete()

    _advance(step.workflow, take_result)
    job.status = JobStatus.DONE
    step.before.pop(key(JOB, job.task_id))  # its row is closed here, not as a cancelled wait
    step.record("job_succeeded", element_id=job.element_id,
                data={"operation": job.operation, "attempt": job.attempts, "result": result})
    _commit(step, enqueue=False)
    return step.created_jobs


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if not isinstance(exc, EngineError | StepFailed):
        text += "\n" + "".join(traceback.format_exception(exc, limit=-3))
    return text[:4000]


def _record_failure(job_id: int, exc: BaseException) -> None:
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None or job.status != JobStatus.PENDING:
        return
    job.attempts += 1
    job.last_error = _describe(exc)
    history.record(job.instance_id, "job_failed", element_id=job.element_id,
                   data={"operation": job.operation, "attempt": job.attempts,
                         "error": f"{type(exc).__name__}: {exc}"})
    if job.attempts < job.max_attempts and not isinstance(exc, StepOverBudget):
        delay = job.backoff_base * 2 ** (job.attempts - 1)
        job.run_after = now() + timedelta(seconds=delay)
        job.enqueued_at = None
    else:
        job.status = JobStatus.FAILED
        job.finished_at = now()
        instance = db.session.get(Instance, job.instance_id, populate_existing=True)
        assert instance is not None
        open_incident(instance, job.element_id, job.last_error, job.attempts, job.id)
    db.session.commit()


def run_timer(timer_id: str) -> str:
    """rq entry point: fire a due timer (then run the job its step created, as a service job's
    pass does); a timer whose step fails becomes an incident."""
    def first() -> tuple[str, list[int]]:
        with holders.running("timer", timer_id):
            return _fire(timer_id)

    return Pass(first).ride_out()


def _fire(timer_id: str) -> tuple[str, list[int]]:
    """Fire one timer: the outcome, and the jobs its step created for the pass to run."""
    try:
        following = fire_timer(timer_id, enqueue=False)
    except Conflict:
        db.session.rollback()
        db.session.execute(sa.update(Timer).filter_by(id=timer_id).values(enqueued_at=None))
        db.session.commit()
        return "conflict", []
    except StepFailed as exc:
        db.session.rollback()
        timer = db.session.get(Timer, timer_id, populate_existing=True)
        if timer is None:
            return "skipped", []
        timer.enqueued_at = PARKED  # no sweep fires it again before ops retry the instance
        instance = db.session.get(Instance, timer.instance_id, populate_existing=True)
        if instance is not None and not isinstance(exc, StepOverBudget):  # that one has its own
            open_incident(instance, timer.element_id, _describe(exc), 1)
        db.session.commit()
        return "failed", []
    if following is None:
        return _park_if_paused(Timer, timer_id), []
    return "fired", following


def _park_if_paused(model: Any, row_id: Any) -> str:
    """A due job or timer of a suspended instance is parked until resume clears the mark
    (control.resume): left enqueued, the sweeps would put it on the queue again and again.
    The instance's status is read in the same statement, so a resume that commits first
    wins."""
    waiting = Job.status == JobStatus.PENDING if model is Job else Timer.status == WaitStatus.OPEN
    suspended = sa.select(Instance.id).where(Instance.status == InstanceStatus.SUSPENDED)
    result: Any = db.session.execute(sa.update(model).where(
        model.id == row_id, waiting, model.instance_id.in_(suspended)).values(enqueued_at=PARKED))
    db.session.commit()
    return "parked" if result.rowcount else "skipped"


def tick(limit: int = 500) -> dict[str, int]:
    """Enqueue what is due and not on the queue, run the periodic functions; safe to run in
    many processes at once."""
    schedule.run_all(current_app.extensions["cqpi.catalog"].periodic)
    if not queue.ping():  # nothing can be enqueued now; the rows wait for a tick that can
        return {"jobs": 0, "timers": 0}
    moment = now()
    if queue.emptied():
        _forget_enqueued()
    stale = moment - STALE_AFTER
    _release_unheld(moment, stale)
    due_jobs = db.session.scalars(
        sa.select(Job.id).where(Job.status == JobStatus.PENDING, Job.run_after <= moment,
                                sa.or_(Job.enqueued_at.is_(None), Job.enqueued_at < stale))
        .order_by(Job.run_after).limit(limit)).all()
    due_timers = db.session.scalars(
        sa.select(Timer.id).where(Timer.status == WaitStatus.OPEN, Timer.due_at <= moment,
                                  sa.or_(Timer.enqueued_at.is_(None), Timer.enqueued_at < stale))
        .order_by(Timer.due_at).limit(limit)).all()
    jobs = [i for i in due_jobs if _claim(Job, i, moment, stale)]
    timers = [i for i in due_timers if _claim(Timer, i, moment, stale)]
    db.session.commit()
    for job_id in jobs:
        queue.enqueue(RUN_JOB, job_id, job_id=holders.rq_id("job", job_id))
    for timer_id in timers:  # a due timer goes before the jobs waiting: it is late already
        queue.enqueue(FIRE_TIMER, timer_id, at_front=True,
                      job_id=holders.rq_id("timer", timer_id))
    return {"jobs": len(jobs), "timers": len(timers)}


RELEASE_EVERY = 2.0
"""Seconds between two looks of one process at who holds the rows enqueued a while ago."""
_last_release = {"at": float("-inf")}


def _release_unheld(moment: Any, stale: Any) -> None:
    """Clear the enqueued mark of rows that no queue and no live worker holds (a worker
    killed mid-job, an rq entry lost or failed outside the engine), so that this tick
    enqueues them again; rows enqueued before ``stale`` are the stale sweep's already."""
    if time.monotonic() - _last_release["at"] < RELEASE_EVERY:
        return
    _last_release["at"] = time.monotonic()
    kinds: list[tuple[str, Any, Any]] = [("job", Job, Job.status == JobStatus.PENDING),
                                        ("timer", Timer, Timer.status == WaitStatus.OPEN)]
    for kind, model, open_ in kinds:
        seen = {row.id: row.enqueued_at for row in db.session.execute(
            sa.select(model.id, model.enqueued_at).where(
                open_, model.enqueued_at < moment - holders.CHECK_AFTER,
                model.enqueued_at >= stale).limit(500))}
        for row_id in holders.unheld(kind, list(seen)):
            result: Any = db.session.execute(sa.update(model).where(
                model.id == row_id, model.enqueued_at == seen[row_id]).values(enqueued_at=None))
            if result.rowcount:
                log.warning("%s %s was held by no queue and no live worker; enqueued again",
                            kind, row_id)
    db.session.commit()


def _forget_enqueued() -> None:
    """The queue lost everything (Redis restarted empty): what the rows say was enqueued is
    on no queue any more; clear the marks so that this tick enqueues it again at once (a job
    that a worker was running meanwhile may run twice: handlers are idempotent and a result
    is applied once)."""
    waiting: list[tuple[Any, Any]] = [(Job, Job.status == JobStatus.PENDING),
                                      (Timer, Timer.status == WaitStatus.OPEN)]
    for model, open_ in waiting:
        result: Any = db.session.execute(sa.update(model).where(
            open_, model.enqueued_at < PARKED).values(enqueued_at=None))
        if result.rowcount:
            log.warning("the queue was emptied: %d %s rows to enqueue again",
                        result.rowcount, model.__tablename__)
    db.session.commit()


def _claim(model: Any, row_id: Any, moment: Any, stale: Any) -> bool:
    """Mark a row enqueued unless another process just did (compare-and-set)."""
    stmt = (sa.update(model).where(model.id == row_id,
                                   sa.or_(model.enqueued_at.is_(None), model.enqueued_at < stale))
            .values(enqueued_at=moment))
    return bool(db.session.execute(stmt).rowcount)  # type: ignore[attr-defined]
