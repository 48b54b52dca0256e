"""Workers that run engine jobs inside an app context, and the scheduler tick loop.

``run_worker`` is what ``cqpi worker`` runs (Redis, one process); ``start_embedded`` runs
the same worker class in a thread of the web process, on the in-memory queue.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import redis
from flask import Flask
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty
from sqlalchemy.exc import DBAPIError

from . import holders
from .jobs import tick
from .queue import ping, queues

log = logging.getLogger(__name__)


class AppWorker(SimpleWorker):
    """An rq worker that runs each job in the Flask app's context (no fork per job)."""

    app: Flask

    def perform_job(self, job: Any, queue: Any) -> bool:
        with self.app.app_context():
            return super().perform_job(job, queue)


class ThreadWorker(AppWorker):
    """The worker of the embedded default: runs in a thread, so no signals."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


def make_worker(app: Flask, cls: type[AppWorker] = AppWorker) -> AppWorker:
    q = queues(app)
    worker = cls([q.queue], connection=q.connection)
    worker.app = app
    return worker


def tick_forever(app: Flask, stop: threading.Event) -> None:
    """Run the scheduler tick every ``CQPI_TICK_SECONDS`` until ``stop`` is set."""
    interval = float(app.config["CQPI_TICK_SECONDS"])
    while not stop.wait(interval):
        try:
            with app.app_context():
                with contextlib.suppress(redis.RedisError):
                    holders.beat()  # before the tick, which may wait for the database
                tick()
        except Exception:  # a failed tick must not end the loop; the next one retries
            log.exception("scheduler tick failed")


def start_ticker(app: Flask) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=tick_forever, args=(app, stop), name="cqpi-tick", daemon=True).start()
    return stop


def start_embedded(app: Flask) -> threading.Event:
    """Start the in-process worker and ticker threads; set the returned event to stop the ticker."""
    worker = make_worker(app, ThreadWorker)
    threading.Thread(target=worker.work, kwargs={"logging_level": "WARNING"},
                     name="cqpi-worker", daemon=True).start()
    return start_ticker(app)


RECONNECT_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)
"""Seconds between attempts to reach Redis again after the worker lost it (the last repeats)."""


def run_worker(app: Flask, burst: bool = False) -> None:
    """Run one worker process: rq worker in the main thread, scheduler tick beside it.

    The process rides out an outage of Redis or the database: when rq's loop ends on an
    error (rq quits its loop on any unhandled exception, e.g. a lost connection in its
    heartbeat), the worker waits for Redis with back-off, logging while it waits, and starts
    a new rq worker; it stops only when asked (SIGTERM, SIGINT) or, with ``burst``, when the
    queue is empty.
    """
    stop = start_ticker(app)
    level = os.environ.get("CQPI_LOG_LEVEL", "INFO")
    try:
        while True:
            worker = make_worker(app)
            try:
                worker.work(burst=burst, logging_level=level)
            except (redis.RedisError, OSError, DBAPIError) as exc:  # e.g. in rq's teardown
                log.warning("worker %s ended on %s: %s", worker.name, type(exc).__name__, exc)
            if burst or getattr(worker, "_shutdown_requested_date", None) is not None:
                return  # asked to stop (rq notes when a signal asked it), or burst done
            log.warning("worker %s left its loop; starting another", worker.name)
            with _stop_on_signal():
                time.sleep(RECONNECT_BACKOFF[0])  # never a tight loop of restarts
                wait_for_redis(app)
    except _Stop:
        log.warning("worker stopped on request while waiting for Redis")
    finally:
        stop.set()


class _Stop(Exception):
    """SIGTERM or SIGINT while the worker waits for Redis (rq's handlers need Redis)."""


@contextlib.contextmanager
def _stop_on_signal() -> Iterator[None]:
    def stop(*_: Any) -> None:
        raise _Stop

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def wait_for_redis(app: Flask) -> None:
    """Return once Redis answers again, trying with back-off and saying so in the log."""
    for attempt in itertools.count():
        if ping(app):
            if attempt:
                log.warning("Redis answers again; the worker goes on")
            return
        pause = RECONNECT_BACKOFF[min(attempt, len(RECONNECT_BACKOFF) - 1)]
        log.warning("Redis is unreachable; trying again in %.1f s (attempt %d)", pause,
                    attempt + 1)
        time.sleep(pause)
