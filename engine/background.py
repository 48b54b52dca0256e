"""How background work is doing, read from the database and the queue: the workers alive,
how long the oldest due job has waited, how many timers are overdue. ``/healthz`` and
``/metrics`` report it; it never deserializes a workflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import redis
import sqlalchemy as sa
from rq import Worker

from .clock import now
from .db import db
from .models import Job, JobStatus, Timer, WaitStatus
from .queue import queues

TIMER_GRACE = timedelta(seconds=30)
"""A timer this long past its due time is overdue (the tick fires due ones every second)."""

STALLED_AFTER = timedelta(minutes=5)
"""Due work waiting this long with no worker alive means background work has stopped."""


@dataclass(frozen=True)
class Background:
    workers: int | None  # None: the queue did not answer
    oldest_due_job_seconds: float
    overdue_timers: int

    @property
    def stopped(self) -> bool:
        """No worker is alive while due work has waited past STALLED_AFTER (a busy worker
        with a backlog is not stopped: it answers 200 and its figures say how far behind)."""
        waited = max(self.oldest_due_job_seconds,
                     TIMER_GRACE.total_seconds() if self.overdue_timers else 0.0)
        return not self.workers and waited >= STALLED_AFTER.total_seconds()


def workers_alive() -> int | None:
    """rq workers alive on the engine's queue: those whose record still exists (a worker
    refreshes it with its heartbeat; one that died leaves within rq's worker TTL, though
    the set of names may still list it); None when the queue does not answer."""
    handle = queues()
    try:
        return len(Worker.all(connection=handle.connection, queue=handle.queue))
    except redis.RedisError:
        return None


def read() -> Background:
    moment = now()
    oldest = db.session.scalar(sa.select(sa.func.min(Job.run_after)).where(
        Job.status == JobStatus.PENDING, Job.run_after <= moment))
    overdue = db.session.scalar(sa.select(sa.func.count()).select_from(Timer).where(
        Timer.status == WaitStatus.OPEN, Timer.due_at <= moment - TIMER_GRACE)) or 0
    waited = (moment - oldest).total_seconds() if oldest is not None else 0.0
    return Background(workers_alive(), round(max(waited, 0.0), 1), int(overdue))
