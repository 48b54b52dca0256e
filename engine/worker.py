"""Workers that run engine jobs inside an app context, and the scheduler tick loop.

``run_worker`` is what ``cqpi worker`` runs (Redis, one process); ``start_embedded`` runs
the same worker class in a thread of the web process, on the in-memory queue.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from flask import Flask
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from .jobs import tick
from .queue import queues

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


def run_worker(app: Flask, burst: bool = False) -> None:
    """Run one worker process: rq worker in the main thread, scheduler tick beside it."""
    stop = start_ticker(app)
    try:
        make_worker(app).work(burst=burst, logging_level=os.environ.get("CQPI_LOG_LEVEL",
                                                                        "INFO"))
    finally:
        stop.set()
