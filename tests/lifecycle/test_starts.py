"""Any deployed procedure started by its start lane's role, its forms enforced at run time
(issue 17): an annual self-check that enterprises start and the project's district reviews."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine.db import db
from engine.models import Instance, InstanceStatus
from engine.state import data_of
from registry.models import AuditEvent, Project
from tests.processes.helpers import People, signed_people
from tests.registry import factory
from tests.web.test_api import login
from tests.web.test_pages import csrf, sign_in

TESTS = Path(__file__).resolve().parents[1]
NUMBER = "5001032026000001"
START = {"project_number": NUMBER, "data_accurate": "yes",
         "progress": {"percent": 80, "checked_on": "2026-03-02"}, "issues": ["area"],
         "explanation": "建筑面积登记有误"}


def deployment() -> list[tuple[str, bytes]]:
    return [("self_check/self_check.bpmn", (TESTS / "bpmn" / "self_check.bpmn").read_bytes()),
            *[(f"self_check/{name}", (TESTS / "forms" / name).read_bytes())
              for name in ("self_check.form", "self_check_review.form")]]


def self_check_people() -> People:
    """``signed_people()`` with the self-check deployed and the enterprise's project
    ``NUMBER`` in Yuzhong (its district reviewer is ``yz-reviewer``)."""
    people = signed_people()
    engine.deploy(deployment(), engine.catalog())
    project = factory.project(people.org, location="500103")
    project.project_number = NUMBER
    db.session.commit()
    return people


@pytest.fixture
def who(app: Flask) -> People:
    return self_check_people()


def _start(client: Any, user: str, body: dict[str, Any], key: str = "self_check") -> Any:
    return client.post(f"/api/v1/processes/{key}/instances", json=body, headers=login(client, user))


def test_an_enterprise_starts_it_and_the_projects_district_reviews_it(client: Any,
                                                                      who: People) -> None:
    started = _start(client, who.unit.username, START)
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    assert re.fullmatch(r"self_check-\d{8}-[2-9A-HJKMNP-Z]{6}", body["business_key"])
    assert (body["process"], body["version"]) == ("self_check", 1)
    assert db.session.scalar(sa.select(AuditEvent).filter_by(
        action="process_started", object=f"instance:{body['instance_id']}")) is not None

    yuzhong = login(client, "yz-reviewer")
    [task] = client.get("/api/v1/tasks", headers=yuzhong).get_json()
    assert task["name"] == "区县审核"
    assert client.get("/api/v1/tasks", headers=login(client, "jb-reviewer")).get_json() == []
    assert client.get(f"/api/v1/tasks/{task['id']}/form",
                      headers=login(client, "jb-reviewer")).status_code == 404
    form = client.get(f"/api/v1/tasks/{task['id']}/form", headers=yuzhong).get_json()
    assert form["kind"] == "form-js" and form["document"]["id"] == "self_check_review"
    assert set(form["schema"]["properties"]) == {"decision", "comment"}

    done = f"/api/v1/tasks/{task['id']}/complete"
    refused = client.post(done, json={"decision": "maybe"}, headers=yuzhong)
    assert refused.status_code == 422 and "decision" in refused.get_json()["errors"]
    ok = client.post(done, json={"decision": "approve", "comment": "数据属实"}, headers=yuzhong)
    assert ok.status_code == 200, ok.get_json()
    db.session.expire_all()
    instance = db.session.get(Instance, body["instance_id"])
    assert instance is not None and instance.status == InstanceStatus.COMPLETED
    data = data_of(instance.state)
    assert data["decision"] == "approve" and data["progress"]["percent"] == 80
    assert data["initiator"] == who.unit.username
    assert data["project_id"] == db.session.scalar(sa.select(Project.id).filter_by(
        project_number=NUMBER))


@pytest.mark.parametrize(("body", "field"), [
    ({**START, "data_accurate": None}, "data_accurate"),
    ({**START, "data_accurate": "maybe"}, "data_accurate"),
    ({**START, "project_number": "12"}, "project_number"),
    ({**START, "project_number": "5001039999999999"}, "project_number"),  # not theirs
    ({**START, "stranger": 1}, "stranger"),
])
def test_bad_start_data_names_the_field(client: Any, who: People, body: dict[str, Any],
                                        field: str) -> None:
    refused = _start(client, who.unit.username, body)
    assert refused.status_code == 422
    assert field in refused.get_json()["errors"], refused.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Instance)) == 0


def test_only_the_start_lanes_role_starts_it(client: Any, who: People) -> None:
    refused = _start(client, "yz-reviewer", START)
    assert refused.status_code == 403 and "参建单位" in refused.get_json()["message"]
    assert _start(client, who.unit.username, START, key="nothing").status_code == 404


def test_a_start_event_in_no_lane_is_started_by_nobody(client: Any, who: People) -> None:
    engine.deploy([("minimal.bpmn", (TESTS / "bpmn" / "minimal.bpmn").read_bytes())],
                  engine.catalog())
    refused = _start(client, who.unit.username, {}, key="minimal")
    assert refused.status_code == 403 and "不在任何泳道中" in refused.get_json()["message"]


@pytest.mark.parametrize("key", ["intake", "backfill", "correction", "grade_adjust",
                                 "key_inspection"])
def test_the_products_procedures_are_started_by_their_own_lifecycle(client: Any, who: People,
                                                                    key: str) -> None:
    refused = _start(client, who.unit.username, {}, key=key)
    assert refused.status_code == 409 and "启动" in refused.get_json()["message"]


def test_startable_lists_what_the_caller_may_start(client: Any, who: People) -> None:
    mine = client.get("/api/v1/processes/startable",
                      headers=login(client, who.unit.username)).get_json()
    assert mine == [{"key": "self_check", "name": "项目数据年度自查", "version": 1,
                     "lane": "参建单位", "has_start_form": True,
                     "start_form": "self_check.form"}]
    assert client.get("/api/v1/processes/startable",
                      headers=login(client, "yz-reviewer")).get_json() == []
    form = client.get("/api/v1/processes/self_check/start-form",
                      headers=login(client, who.unit.username)).get_json()
    assert form["kind"] == "form-js" and "project_number" in form["schema"]["properties"]


def test_a_deployed_forms_schema_is_served_by_its_key(client: Any, who: People) -> None:
    schema = client.get("/api/v1/forms/self_check_review.form").get_json()
    options = schema["properties"]["decision"]["oneOf"]
    assert [o["const"] for o in options] == ["approve", "return"]
    assert client.get("/api/v1/forms/review").status_code == 200
    assert client.get("/api/v1/forms/other.form").status_code == 404


def test_a_retried_start_starts_once(client: Any, who: People) -> None:
    headers = {**login(client, who.unit.username), "Idempotency-Key": "self-check-1"}
    first = client.post("/api/v1/processes/self_check/instances", json=START, headers=headers)
    again = client.post("/api/v1/processes/self_check/instances", json=START, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Instance)) == 1


def test_the_task_page_takes_a_deployed_forms_json(client: Any, who: People) -> None:
    _start(client, who.unit.username, START)
    [task] = client.get("/api/v1/tasks", headers=login(client, "yz-reviewer")).get_json()
    sign_in(client, "yz-reviewer", "password-123")
    path = f"/tasks/{task['id']}"
    page = client.get(path).get_data(as_text=True)
    assert 'data-formjs="task-form-schema"' in page and "self_check_review" in page
    token = csrf(client, path)
    refused = client.post(path, data={"csrf_token": token, "form_data": '{"decision": "x"}'})
    assert refused.status_code == 422 and "审核结论" in refused.get_data(as_text=True)
    done = client.post(path, data={"csrf_token": token, "form_data": '{"decision": "return"}'})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(Instance.status)) == InstanceStatus.COMPLETED


def _district_check() -> list[tuple[str, bytes]]:
    """The self-check as ``district_check``, whose start form names no project or a district."""
    diagram = (TESTS / "bpmn" / "self_check.bpmn").read_text().replace('"self_check"',
                                                                        '"district_check"')
    form = json.loads((TESTS / "forms" / "self_check.form").read_text())
    for component in form["components"]:
        if component.get("key") == "project_number":
            component["validate"].pop("required")
    form["components"].insert(1, {"type": "textfield", "id": "Field_District", "key": "district",
                                  "label": "管理区县"})
    review = (TESTS / "forms" / "self_check_review.form").read_bytes()
    return [("district_check.bpmn", diagram.encode()),
            ("self_check.form", json.dumps(form, ensure_ascii=False).encode()),
            ("self_check_review.form", review)]


def test_without_a_project_the_start_names_the_district_or_is_refused(
        client: Any, who: People) -> None:
    """An enterprise has no district: the tasks of a procedure it starts without a project go
    to the district its start form names; with neither, nobody could work them: refused."""
    engine.deploy(_district_check(), engine.catalog())
    plain = {k: v for k, v in START.items() if k != "project_number"}
    refused = _start(client, who.unit.username, plain, "district_check")
    assert refused.status_code == 422
    assert "管理区县（district）" in refused.get_json()["errors"]["_schema"][0]
    unknown = _start(client, who.unit.username, {**plain, "district": "999999"}, "district_check")
    assert unknown.status_code == 422 and "district" in unknown.get_json()["errors"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Instance)) == 0

    started = _start(client, who.unit.username, {**plain, "district": "500103"}, "district_check")
    assert started.status_code == 201, started.get_json()
    [task] = client.get("/api/v1/tasks", headers=login(client, "yz-reviewer")).get_json()
    assert task["name"] == "区县审核"
    assert client.get("/api/v1/tasks", headers=login(client, "jb-reviewer")).get_json() == []
