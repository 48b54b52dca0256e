"""Against a running `cqpi run` (embedded: SQLite, in-process queue, built-in simulator):
a demo enterprise user's intake goes to the national push with nothing but HTTP calls."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.processes.helpers import REVIEW_OK
from tests.registry.test_applications import PDF, header, hm_stages
from tests.web.test_cli import _free_port

PASSWORD = "cqpi-demo-2026"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(CQPI_DATA_DIR=str(tmp_path), PORT=str(port), CQPI_PUBLICITY="PT2S",
               CQPI_LOG_LEVEL="WARNING")
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "cqpi"), "run"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "cqpi run did not start"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def token(url: str, username: str) -> dict[str, str]:
    answer = requests.post(f"{url}/api/v1/auth/token", timeout=10,
                           json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_a_demo_intake_reaches_the_national_platform_over_http(server: str) -> None:
    unit = token(server, "qiye")
    opened = requests.post(f"{server}/api/v1/applications", headers=unit, timeout=10, json={
        "kind": "intake", "project": header(name="演示入库项目"), "stages": hm_stages()})
    assert opened.status_code == 201, opened.text
    app_id = opened.json()["id"]
    for kind in ("report", "commitment", "application_form", "evidence"):
        sent = requests.post(f"{server}/api/v1/applications/{app_id}/attachments", headers=unit,
                             timeout=10, data={"kind": kind},
                             files={"file": (f"{kind}.pdf", PDF, "application/pdf")})
        assert sent.status_code == 201, sent.text
    assert requests.post(f"{server}/api/v1/applications/{app_id}/submit", headers=unit,
                         timeout=10).status_code == 200
    reviewer = token(server, "yuzhong")
    [task] = requests.get(f"{server}/api/v1/tasks", headers=reviewer, timeout=10).json()
    done = requests.post(f"{server}/api/v1/tasks/{task['id']}/complete", headers=reviewer,
                         json=REVIEW_OK, timeout=10)
    assert done.status_code == 200, done.text
    deadline = time.monotonic() + 60  # publicity of 2 s, then the push, all in-process
    while True:
        status = requests.get(f"{server}/api/v1/applications/{app_id}", headers=unit,
                              timeout=10).json()["status"]
        if status == "approved":
            break
        assert time.monotonic() < deadline, f"still {status}"
        time.sleep(0.5)
    pushes = requests.get(f"{server}/national-sim/_pushes", timeout=10).json()
    assert len(pushes) == 1 and pushes[0]["body"]["payload"]["grades"]["contract"] == "D"
