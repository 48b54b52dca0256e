"""Background work that survives its dependencies (issue 15), with real processes: a private
redis-server that the test restarts empty, a `cqpi worker`, the national simulator. The
worker stays up through the restart, and what the restart took off the queue runs within
seconds, each push once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

from engine.db import db
from lifecycle import tasks
from registry.models import Application
from tests.conftest import SIM_TOKEN, Simulator, _config, dispose
from tests.processes.helpers import (
    REVIEW_OK,
    People,
    deploy_processes,
    open_task,
    people,
    submit_intake,
)
from tests.web.test_cli import _free_port
from web import create_app
from web.database import prepare

BIN = Path(os.environ.get("VIRTUAL_ENV") or Path(__file__).resolve().parents[2] / ".venv") / "bin"
REDIS_SERVER = shutil.which("redis-server")


class PrivateRedis:
    """A redis-server of the test's own, without persistence: a restart starts it empty."""

    def __init__(self, log: Path) -> None:
        self.port, self.log = _free_port(), log
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        assert REDIS_SERVER is not None
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"], stdout=out, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url)
        until(lambda: _answers(client), 10, "redis-server did not start")
        client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def until(check: Callable[[], object], seconds: float, why: str) -> float:
    """Wait for ``check()`` to be true; how long it took (fails with ``why`` after
    ``seconds``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, why
        time.sleep(0.2)
    return time.monotonic() - started


@pytest.fixture
def outage(tmp_path: Path, national: Simulator) -> Iterator[tuple[Flask, PrivateRedis]]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    national.reset()
    server = PrivateRedis(tmp_path / "redis.log")
    config = _config(f"sqlite:///{tmp_path / 'outage.sqlite3'}", tmp_path, server.url)
    config.update(CQPI_NATIONAL_URL=national.url, CQPI_PUBLICITY="PT2S")
    app = create_app(config)
    prepare(app)
    try:
        yield app, server
    finally:
        dispose(app)
        server.stop()


def start_worker(app: Flask, log: Path) -> subprocess.Popen[bytes]:
    cfg = app.config
    env = {**os.environ, "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"],
           "REDIS_URL": cfg["REDIS_URL"], "CQPI_DATA_DIR": cfg["CQPI_DATA_DIR"],
           "CQPI_QUEUE_NAME": cfg["CQPI_QUEUE_NAME"], "CQPI_NATIONAL_URL":
           cfg["CQPI_NATIONAL_URL"], "CQPI_NATIONAL_TOKEN": SIM_TOKEN, "SECRET_KEY": "test",
           "CQPI_PUBLICITY": "PT2S", "CQPI_SAMPLING_DAY": "0", "CQPI_LOG_LEVEL": "WARNING"}
    with log.open("ab") as out:
        return subprocess.Popen([str(BIN / "cqpi"), "worker"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def reviewed(who: People) -> int:
    """An intake submitted and passed by its reviewer: its publicity job is on the queue."""
    application = submit_intake(who, name=f"停机测试项目 {time.monotonic_ns()}")
    tasks.complete_task(open_task(application).id, REVIEW_OK, who.yuzhong)
    return application.id


def status_of(application_id: int) -> Callable[[], str]:
    def read() -> str:
        db.session.expire_all()
        found = db.session.get(Application, application_id)
        db.session.rollback()
        return found.status if found else ""
    return read


def test_a_worker_rides_out_a_redis_restart_and_nothing_waits_for_the_stale_sweep(
        outage: tuple[Flask, PrivateRedis], tmp_path: Path, national: Simulator) -> None:
    app, server = outage
    log = tmp_path / "worker.log"
    with app.app_context():
        deploy_processes()
        who = people()
        first = reviewed(who)
        worker = start_worker(app, log)
        try:
            national.state.delay_seconds = 3  # the push will be in flight for a while
            until(lambda: status_of(first)() == "pushing", 30,
                  f"the push did not start: {log.read_text()[-2000:]}")
            server.stop()  # during a job; the job ends while Redis is down
            national.state.delay_seconds = 0
            time.sleep(5)
            server.start()  # empty: what was on the queue is gone
            time.sleep(2)
            assert worker.poll() is None, f"the worker quit: {log.read_text()[-2000:]}"
            until(lambda: status_of(first)() == "approved", 60,
                  f"publicity did not end in a push: {log.read_text()[-2000:]}")

            worker.send_signal(signal.SIGTERM)  # a warm stop ends the process, with 0
            assert worker.wait(30) == 0, log.read_text()[-2000:]
            second = reviewed(who)  # its job is enqueued while no worker runs
            server.restart()  # and lost
            worker = start_worker(app, log)
            took = until(lambda: status_of(second)() == "in_publicity", 20,
                         f"the lost job was not enqueued again: {log.read_text()[-2000:]}")
            assert took < 20  # within seconds, not after the 5-minute stale sweep
            until(lambda: status_of(second)() == "approved", 60, "the second was not pushed")
        finally:
            worker.terminate()
            worker.wait(30)
    names = [p["body"]["project"]["name"] for p in national.state.pushes.values()]
    assert sorted(names) == sorted({*names}) and len(names) == 2  # each application once
    seen = log.read_text()
    assert "left its loop" in seen  # rq quit its loop on the lost connection: a new one ran
    assert "the queue was emptied" in seen  # and the rows it had lost were enqueued again


def test_a_job_whose_worker_is_killed_mid_job_runs_again_within_seconds(
        outage: tuple[Flask, PrivateRedis], tmp_path: Path, national: Simulator) -> None:
    app, _server = outage
    log = tmp_path / "worker.log"
    with app.app_context():
        deploy_processes()
        application = reviewed(people())
        national.state.delay_seconds = 4  # the push is in flight when its worker dies
        doomed = start_worker(app, log)
        try:
            until(lambda: status_of(application)() == "pushing", 30,
                  f"the push did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
            doomed.kill()  # SIGKILL: no warm shut down, its job stays "started" in rq
            doomed.wait(10)
            national.state.delay_seconds = 0
            worker = start_worker(app, log)
            try:
                took = until(lambda: status_of(application)() == "approved", 60,
                             f"the killed worker's job did not run again: "
                             f"{log.read_text()[-2000:]}")
            finally:
                worker.terminate()
                worker.wait(30)
        finally:
            if doomed.poll() is None:
                doomed.kill()
    assert took < 40  # within seconds of the worker's death, not after the 5-minute sweep
    assert len(national.state.pushes) == 1  # pushed once (the platform keeps one per key)
    assert "held by no queue and no live worker" in log.read_text()
