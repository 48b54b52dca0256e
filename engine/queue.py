"""The rq side: the connection, the queue, and enqueueing engine jobs by name.

With ``REDIS_URL`` set the queue lives in Redis and ``cqpi worker`` processes run the jobs.
Without it (the embedded default) the queue lives in an in-memory fakeredis server and a
worker thread inside the web process runs them: the same rq code path, nothing to install.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import fakeredis
import redis
from flask import Flask, current_app
from rq import Queue

QUEUE_NAME = "cqpi"
"""The rq queue the engine uses (``CQPI_QUEUE_NAME`` changes it, e.g. for parallel test runs)."""

JOB_TIMEOUT = 300
"""Seconds an rq job may run before the worker kills it."""

log = logging.getLogger(__name__)


@dataclass
class Queues:
    connection: Any
    embedded: bool
    name: str = QUEUE_NAME

    @property
    def queue(self) -> Queue:
        return Queue(self.name, connection=self.connection, default_timeout=JOB_TIMEOUT)


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    name = app.config.get("CQPI_QUEUE_NAME") or QUEUE_NAME
    if url:
        conn: Any = redis.Redis.from_url(url)
        app.extensions["cqpi.queue"] = Queues(conn, embedded=False, name=name)
    else:
        conn = fakeredis.FakeRedis(server=fakeredis.FakeServer())
        app.extensions["cqpi.queue"] = Queues(conn, embedded=True, name=name)


def queues(app: Flask | None = None) -> Queues:
    return (app or current_app).extensions["cqpi.queue"]


def enqueue(function: str, *args: Any, at_front: bool = False,
            job_id: str | None = None) -> bool:
    """Enqueue ``function`` (a dotted path) with ``args`` (``at_front``: before the jobs that
    wait, as a due timer is; ``job_id``: the rq job's id, see ``engine.holders``); False
    (and logged) if the queue is down.

    A job that could not be enqueued is not lost: its row stays pending and the scheduler
    tick enqueues it again once it is stale.
    """
    try:
        queues().queue.enqueue(function, *args, at_front=at_front, job_id=job_id)
    except redis.RedisError as exc:
        log.warning("could not enqueue %s%r: %s", function, args, exc)
        return False
    return True


def ping(app: Flask | None = None) -> bool:
    try:
        return bool(queues(app).connection.ping())
    except redis.RedisError:
        return False


def emptied() -> bool:
    """Whether the queue's Redis has lost everything since this was last asked (a restart
    without persistence, a flush): a marker key that only this function writes is missing.
    The first caller to see it missing sets it again and gets True; the others get False."""
    try:
        return bool(queues().connection.set(f"{queues().name}:marker", "1", nx=True))
    except redis.RedisError:  # down: the next tick asks again
        return False
