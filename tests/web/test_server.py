"""Against a running `cqpi run` (embedded: SQLite, in-process queue, built-in simulator):
a demo enterprise user's intake goes to the national push with nothing but HTTP calls; races
and hostile bodies meet 409s and 4xxs in Chinese."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.processes.helpers import REVIEW_OK
from tests.registry.test_applications import PDF, header, hm_stages
from tests.web.test_cli import _free_port, wait_healthy

PASSWORD = "cqpi-demo-2026"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(CQPI_DATA_DIR=str(tmp_path), PORT=str(port), CQPI_PUBLICITY="PT2S",
               CQPI_NATIONAL_SIM_CONTROL="1",  # the tests read /national-sim/_pushes
               CQPI_LOG_LEVEL="WARNING")
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "cqpi"), "run"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log.read_text)
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


class Client:
    """HTTP calls against the running server, as a signed-in user; waits for the worker."""

    def __init__(self, url: str, username: str) -> None:
        self.url, self.headers = url, token(url, username)

    def get(self, path: str) -> Any:
        answer = requests.get(self.url + path, headers=self.headers, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def post(self, path: str, status: int = 200, **kwargs: Any) -> Any:
        answer = requests.post(self.url + path, headers=self.headers, timeout=10, **kwargs)
        assert answer.status_code == status, answer.text
        return answer.json()

    def apply(self, body: dict[str, Any], letters: tuple[str, ...] = ()) -> int:
        app_id = self.post("/api/v1/applications", 201, json=body)["id"]
        for kind in ("report", "commitment", "application_form", "evidence", *letters):
            self.post(f"/api/v1/applications/{app_id}/attachments", 201, data={"kind": kind},
                      files={"file": (f"{kind}.pdf", PDF, "application/pdf")})
        self.post(f"/api/v1/applications/{app_id}/submit")
        return int(app_id)

    def next_task(self, app_id: int, reader: Client) -> dict[str, Any] | None:
        """The application's next open task once the worker has moved it (None if ended)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            detail = reader.get(f"/api/v1/applications/{app_id}")
            if detail["open_tasks"]:
                return detail["open_tasks"][0]
            if detail["status"] in ("approved", "rejected", "withdrawn"):
                return None
            time.sleep(0.3)
        raise AssertionError("the application did not move")

    def complete(self, task: dict[str, Any], data: dict[str, Any]) -> None:
        self.post(f"/api/v1/tasks/{task['id']}/complete", json=data)

    def review(self, app_id: int, reader: Client) -> None:
        """Pass the application's next task, a review of each of its stages and its
        materials (R-IB-2)."""
        task = reader.next_task(app_id, reader)
        assert task is not None
        stages = self.get(f"/api/v1/applications/{app_id}")["stages"]
        self.complete(task, {"items": [{"item": item, "result": "pass"}
                                       for item in [*stages, "attachments"]]})

    def document(self, app_id: int, kind: str, form: dict[str, Any]) -> dict[str, Any]:
        """``form`` naming a document of ``kind`` this reviewer uploads to the application."""
        sent = self.post(f"/api/v1/applications/{app_id}/attachments", 201, data={"kind": kind},
                         files={"file": (f"{kind}.pdf", PDF, "application/pdf")})
        return {**form, "attachment_id": str(sent["id"])}


def _finished(reader: Client, app_id: int) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = reader.get(f"/api/v1/applications/{app_id}")["status"]
        if status in ("approved", "rejected"):
            return str(status)
        time.sleep(0.3)
    raise AssertionError("not finished")


APPROVE = {"approved": True, "reason": "核实无误"}
DOCUMENT = {"document_number": "渝中建文〔2026〕1号", "issued_on": "2026-11-20",
            "commitment": True}


def _correct(qiye: Client, yuzhong: Client, city: Client, project_id: int) -> None:
    """A district-managed correction: district, formal document, maybe the city's sample,
    the request to the Ministry and its reply (R-COR-4, R-COR-5)."""
    contract = next(s for s in qiye.get(f"/api/v1/projects/{project_id}")["stages"]
                    if s["stage"] == "contract")
    fixed = dict(contract["payload"], amount="12900.00")
    correction = qiye.apply({"kind": "correction", "project_id": project_id,
                             "stages": {"contract": fixed}})
    yuzhong.review(correction, qiye)
    yuzhong.complete(qiye.next_task(correction, qiye),
                     yuzhong.document(correction, "formal_document", DOCUMENT))
    task = qiye.next_task(correction, qiye)
    assert task is not None
    if task["element_id"] == "Task_CitySampleCheck":
        city.complete(task, {"passed": True})
        task = qiye.next_task(correction, qiye)
    assert task is not None and task["element_id"] == "Task_RequestMinistry"
    city.complete(task, city.document(correction, "ministry_request", {
        "document_number": "渝建函〔2026〕1号", "issued_on": "2026-11-21"}))
    city.complete(qiye.next_task(correction, qiye), city.document(correction, "ministry_reply", {
        "agreed": True, "reply_number": "建市函〔2026〕9号", "replied_on": "2026-11-25"}))
    assert _finished(qiye, correction) == "approved"


def test_oi_sub_correction_and_every_grade_step_over_http(server: str) -> None:
    """OI and SUB intakes, a correction through the Ministry, D→B, B→A, D→A: HTTP only."""
    qiye, shuili, muqiang = (Client(server, n) for n in ("qiye", "shuili", "muqiang"))
    yuzhong, jiangjin, city = (Client(server, n) for n in ("yuzhong", "jiangjin", "shiji"))

    oi = shuili.apply({"kind": "intake", "stages": hm_stages(), "project": header(
        name="演示水利项目", category="OI", sector="05", location_code="500116",
        managing_code="500116")}, letters=("authenticity_letter",))
    jiangjin.review(oi, shuili)

    [general] = qiye.get("/api/v1/projects?number=5001032024010001")
    sub_stages = {k: v for k, v in hm_stages().items() if k in ("contract", "completion")}
    sub = muqiang.apply({"kind": "intake", "stages": sub_stages, "project": header(
        name="演示分包项目", category="SUB", general_project_id=general["id"],
        role="专业承包/分包")})
    yuzhong.review(sub, muqiang)

    _correct(qiye, yuzhong, city, general["id"])
    d_to_b = qiye.apply({"kind": "grade_adjust", "project_id": general["id"],
                         "stages": {"contract": {}}, "target_grade": "B"})
    yuzhong.complete(qiye.next_task(d_to_b, qiye), APPROVE)
    assert _finished(qiye, d_to_b) == "approved"
    b_to_a = qiye.apply({"kind": "grade_adjust", "project_id": general["id"],
                         "stages": {"contract": {}}, "target_grade": "A"})
    yuzhong.complete(qiye.next_task(b_to_a, qiye), APPROVE)
    yuzhong.complete(qiye.next_task(b_to_a, qiye),
                     yuzhong.document(b_to_a, "formal_document", DOCUMENT))
    task = qiye.next_task(b_to_a, qiye)
    if task is not None:  # drawn for the city's check (R-SUP-6)
        city.complete(task, {"passed": True})
    assert _finished(qiye, b_to_a) == "approved"

    [municipal] = qiye.get("/api/v1/projects?number=5000002024030002")
    d_to_a = qiye.apply({"kind": "grade_adjust", "project_id": municipal["id"],
                         "stages": {"contract": {}}, "target_grade": "A"})
    city.complete(qiye.next_task(d_to_a, qiye), APPROVE)
    assert _finished(qiye, d_to_a) == "approved"

    for app_id in (oi, sub):
        assert _finished(shuili if app_id == oi else muqiang, app_id) == "approved"
    grades = {s["stage"]: s["grade"] for s in qiye.get(f"/api/v1/projects/{general['id']}")[
        "stages"]}
    assert grades["contract"] == "A"
    kinds = sorted(p["body"]["kind"] for p in requests.get(
        f"{server}/national-sim/_pushes", timeout=10).json())
    assert kinds == ["correction", "grade", "grade", "grade", "stage", "stage"]


def test_the_demo_users_sign_in_to_their_pages_on_a_running_server(server: str) -> None:
    for username, landing, heading in (("qiye", "/portal", "我的申请"),
                                       ("yuzhong", "/tasks", "待办任务")):
        browser = requests.Session()
        login = browser.get(f"{server}/login", timeout=10)
        assert "演示账号" in login.text and "yunwei" in login.text  # no docs needed
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token, login.text
        page = browser.post(f"{server}/login", timeout=10, data={
            "username": username, "password": PASSWORD, "csrf_token": token.group(1)})
        assert page.status_code == 200 and page.url.endswith(landing)
        assert heading in page.text
    board = requests.get(f"{server}/publicity", timeout=10)
    assert board.status_code == 200 and "公示公告" in board.text


def test_races_and_hostile_bodies_against_a_running_server(server: str) -> None:
    """Over real HTTP: one draft submitted five times at once starts one procedure (the
    others 409 in Chinese); a draft submitted and withdrawn at once ends one way; hostile
    bodies answer 4xx in Chinese, never 500."""
    qiye = Client(server, "qiye")
    body = {"kind": "intake", "project": header(name="并发提交项目"), "stages": hm_stages()}
    app_id = qiye.post("/api/v1/applications", 201, json=body)["id"]
    for kind in ("report", "commitment", "application_form", "evidence"):
        qiye.post(f"/api/v1/applications/{app_id}/attachments", 201, data={"kind": kind},
                  files={"file": (f"{kind}.pdf", PDF, "application/pdf")})
    barrier = threading.Barrier(5, timeout=30)

    def submit(_: int) -> requests.Response:
        barrier.wait()
        return requests.post(f"{server}/api/v1/applications/{app_id}/submit",
                             headers=qiye.headers, timeout=30)

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(submit, range(5)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409]
    assert all(re.search("[\u4e00-\u9fff]", a.json()["message"])
               for a in answers if a.status_code == 409)
    yuzhong = Client(server, "yuzhong")
    tasks = [t for t in yuzhong.get("/api/v1/tasks") if t["instance_id"] == answers[
        [a.status_code for a in answers].index(200)].json()["instance_id"]]
    assert len(tasks) == 1  # one review for one application

    hostile = [("[" * 100_000).encode(), b'{"kind": "\\ud800", "stages": {}}',
               b'{"kind": "intake", "stages": {}, "project": {"name": "\\udfff"}}']
    for raw in hostile:
        answer = requests.post(f"{server}/api/v1/applications", data=raw, timeout=30,
                               headers={**qiye.headers, "Content-Type": "application/json"})
        assert 400 <= answer.status_code < 500, answer.text[:300]
        assert re.search("[\u4e00-\u9fff]", answer.json()["message"])
