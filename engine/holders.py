"""Who holds a job or timer row that the database says is enqueued: the queue (an rq job
whose id is made from the row's), a worker process running it (a mark in Redis naming the
process, which its tick thread keeps saying is alive), or no one: a worker killed mid-job,
an rq entry lost or failed outside the engine's code. The tick asks about rows enqueued
more than ``CHECK_AFTER`` ago and enqueues again those no one holds, within seconds rather
than after ``engine.jobs.STALE_AFTER``; a double run is harmless (a done job is skipped,
handlers are idempotent)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
from collections.abc import Iterator
from datetime import timedelta

import redis

from .queue import JOB_TIMEOUT, queues

log = logging.getLogger(__name__)

CHECK_AFTER = timedelta(seconds=10)
"""A row enqueued this long ago is asked about (younger ones may be on their way)."""

ALIVE_SECONDS = 10
"""How long a process counts as alive after its tick thread last said so."""

WAITING = {b"queued", b"scheduled", b"deferred"}
"""rq statuses of a job that the queue still holds."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def rq_id(kind: str, row_id: object) -> str:
    """The rq job id of a row (``kind``: job or timer): one per row and queue."""
    return _UNSAFE.sub("_", f"{queues().name}-{kind}-{row_id}")


def _me() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _key(*parts: object) -> str:
    return ":".join([queues().name, *map(str, parts)])


def beat() -> None:
    """Say that this process is alive (its tick thread calls this every tick)."""
    queues().connection.set(_key("alive", _me()), 1, ex=ALIVE_SECONDS)


@contextlib.contextmanager
def running(kind: str, row_id: object) -> Iterator[None]:
    """Mark the row as run by this process while the block runs (best effort: without
    Redis the mark is missing and the row is treated as the queue would treat it)."""
    key = _key("running", kind, row_id)
    connection = queues().connection
    try:
        connection.set(key, _me(), ex=JOB_TIMEOUT)
    except redis.RedisError as exc:
        log.debug("could not mark %s %s as running: %s", kind, row_id, exc)
    try:
        yield
    finally:
        with contextlib.suppress(redis.RedisError):
            connection.delete(key)


def unheld(kind: str, row_ids: list[object]) -> list[object]:
    """The rows of ``row_ids`` that neither the queue nor a live process holds."""
    if not row_ids:
        return []
    connection = queues().connection
    pipe = connection.pipeline(transaction=False)
    for row_id in row_ids:
        pipe.hget(f"rq:job:{rq_id(kind, row_id)}", "status")
        pipe.get(_key("running", kind, row_id))
    answers = pipe.execute()
    statuses, runners = answers[0::2], answers[1::2]
    alive = _alive({r for r in runners if r is not None})
    return [row_id for row_id, status, runner in zip(row_ids, statuses, runners, strict=True)
            if status not in WAITING and (runner is None or runner not in alive)]


def _alive(processes: set[bytes]) -> set[bytes]:
    if not processes:
        return set()
    ordered = sorted(processes)
    pipe = queues().connection.pipeline(transaction=False)
    for process in ordered:
        pipe.exists(_key("alive", process.decode()))
    return {p for p, exists in zip(ordered, pipe.execute(), strict=True) if exists}
