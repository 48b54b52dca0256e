"""The ops and analyst endpoints: see and repair instances, validate and deploy procedures."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask

import lifecycle
from engine.db import db
from registry import users
from tests.conftest import Simulator
from tests.processes.helpers import (
    PROCESSES,
    REVIEW_OK,
    deploy_processes,
    open_task,
    people,
    settle,
    submit_intake,
)
from tests.web.test_api import login


@pytest.fixture
def consoles(app: Flask, client: Any) -> dict[str, dict[str, str]]:
    deploy_processes()
    users.create_user("ops-1", "password-123", "ops", "运维")
    users.create_user("analyst-1", "password-123", "analyst", "分析")
    db.session.commit()
    return {"ops": login(client, "ops-1"), "analyst": login(client, "analyst-1")}


def test_ops_sees_and_repairs_an_instance(app: Flask, client: Any, national: Simulator,
                                          consoles: dict[str, dict[str, str]]) -> None:
    ops = consoles["ops"]
    who = people()
    application = submit_intake(who)
    listing = client.get("/api/v1/instances?process=intake", headers=ops).get_json()
    assert listing["counts"] == {"waiting": 1}
    [row] = listing["instances"]
    assert (row["business_key"], row["status"]) == (f"application-{application.id}", "waiting")
    detail = client.get(f"/api/v1/instances/{row['id']}", headers=ops).get_json()
    assert [t["element_id"] for t in detail["open_tasks"]] == ["Task_DistrictReview"]
    assert detail["data"]["application_id"] == application.id

    assert client.post(f"/api/v1/instances/{row['id']}/suspend", headers=ops,
                       json={"reason": "核查数据"}).get_json() == {"status": "suspended"}
    review = open_task(application)
    with pytest.raises(Exception, match="已挂起"):
        lifecycle.tasks.complete_task(review.id, REVIEW_OK, who.yuzhong)
    assert client.post(f"/api/v1/instances/{row['id']}/resume", headers=ops,
                       json={}).get_json() == {"status": "waiting"}

    national.state.fail_next = 100
    lifecycle.tasks.complete_task(review.id, REVIEW_OK, who.yuzhong)
    settle(app)
    from datetime import timedelta
    settle(app, travel=timedelta(days=15))
    failing = client.get("/api/v1/instances?has_incident=true", headers=ops).get_json()
    assert [i["status"] for i in failing["instances"]] == ["error"]
    incident = client.get(f"/api/v1/instances/{row['id']}", headers=ops).get_json()
    assert incident["incidents"][0]["element_id"] == "Task_Push"
    national.state.fail_next = 0
    assert client.post(f"/api/v1/instances/{row['id']}/retry", headers=ops,
                       json={"reason": "全国平台已恢复"}).get_json() == {"retried": 1}
    settle(app)
    done = client.get(f"/api/v1/instances/{row['id']}", headers=ops).get_json()
    assert done["status"] == "completed"
    kinds = [e["kind"] for e in done["history"]]
    assert "instance_suspended" in kinds and "instance_retried" in kinds
    suspended = next(e for e in done["history"] if e["kind"] == "instance_suspended")
    assert suspended["actor"] == "ops-1"


def test_terminate_with_a_reason(app: Flask, client: Any,
                                 consoles: dict[str, dict[str, str]]) -> None:
    application = submit_intake(people())
    answer = client.post(f"/api/v1/instances/{application.instance_id}/terminate",
                         headers=consoles["ops"], json={"reason": "重复申请"})
    assert answer.get_json() == {"status": "terminated"}
    again = client.post(f"/api/v1/instances/{application.instance_id}/terminate",
                        headers=consoles["ops"], json={})
    assert again.status_code == 409


def test_analysts_validate_deploy_and_read_versions(app: Flask, client: Any,
                                                    consoles: dict[str, dict[str, str]]) -> None:
    analyst = consoles["analyst"]
    intake = (PROCESSES / "intake.bpmn").read_bytes()
    changed = intake.replace("逐项核实申报信息".encode(), "逐项核实入库信息".encode(), 1)
    broken = intake.replace(b'formKey" value="review"', b'formKey" value="nothing"', 1)

    def upload(path: str, content: bytes) -> Any:
        return client.post(path, headers=analyst, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(content), "intake.bpmn")})

    checked = upload("/api/v1/processes/validate", broken).get_json()
    assert checked["ok"] is False
    assert checked["problems"][0]["element_id"] == "Task_DistrictReview"
    assert "未知的表单“nothing”" in checked["problems"][0]["text"]
    refused = upload("/api/v1/processes", broken)
    assert refused.status_code == 422
    deployed = upload("/api/v1/processes", changed)
    assert deployed.status_code == 201
    assert deployed.get_json()["deployed"] == [{
        "key": "intake", "version": 2, "outcome": "created", "created": True, "before": 1,
        "message": "已部署为新版本 2"}]
    listing = {p["key"]: p["versions"] for p in client.get(
        "/api/v1/processes", headers=analyst).get_json()}
    assert [v["version"] for v in listing["intake"]] == [2, 1]
    xml = client.get("/api/v1/processes/intake/versions/2/bpmn", headers=analyst)
    assert xml.mimetype == "application/xml" and "逐项核实入库信息".encode() in xml.data
    assert client.get("/api/v1/processes/intake/versions/9/bpmn",
                      headers=analyst).status_code == 404


def test_consoles_are_for_their_roles(app: Flask, client: Any,
                                      consoles: dict[str, dict[str, str]]) -> None:
    assert client.get("/api/v1/instances").status_code == 401
    assert client.get("/api/v1/instances", headers=consoles["analyst"]).status_code == 403
    assert client.get("/api/v1/processes", headers=consoles["ops"]).status_code == 403
    assert client.get("/api/v1/processes", headers=consoles["analyst"]).status_code == 200
