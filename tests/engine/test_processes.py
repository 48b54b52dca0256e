"""Several processes on one database and Redis: `cqpi tick` in one, `cqpi worker` in another."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask

import engine
from engine.db import db
from engine.models import Instance
from tests.conftest import read_bpmn

CQPI = str(Path(sys.executable).parent / "cqpi")


def _env(app: Flask) -> dict[str, str]:
    url = db.engine.url.render_as_string(hide_password=False)
    return {**os.environ, "DATABASE_URL": url, "REDIS_URL": app.config["REDIS_URL"],
            "CQPI_QUEUE_NAME": app.config["CQPI_QUEUE_NAME"],
            "CQPI_DATA_DIR": app.config["CQPI_DATA_DIR"], "CQPI_LOG_LEVEL": "WARNING"}


def test_a_timer_fires_through_cqpi_tick_and_cqpi_worker(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several processes share one PostgreSQL database in production")
    engine.deploy(read_bpmn("timer.bpmn"), engine.catalog())
    inst = engine.start("timer", business_key="T-1")
    assert inst.status == "waiting"
    time.sleep(1.1)
    env = _env(app)
    tick = subprocess.run([CQPI, "tick"], env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert tick.returncode == 0, tick.stderr
    assert "'timers': 1" in tick.stdout
    work = subprocess.run([CQPI, "worker", "--burst"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert work.returncode == 0, work.stderr
    db.session.expire_all()
    assert db.session.get(Instance, inst.id).status == "completed"


def test_cqpi_worker_refuses_to_run_without_redis(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["CQPI_DATA_DIR"] = str(tmp_path)
    result = subprocess.run([CQPI, "worker", "--burst"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "REDIS_URL" in result.stderr
