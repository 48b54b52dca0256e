"""The JSON API: an intake from opening to the national push with nothing but HTTP calls,
and who may see what (another's objects answer 404)."""

from __future__ import annotations

import copy
import io
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from engine.db import db
from registry import users
from tests.conftest import Simulator
from tests.processes.helpers import (
    REVIEW_OK,
    People,
    settle,
    signed_people,
)
from tests.registry.test_applications import PDF, header, hm_stages
from tests.registry.test_permits import FEED


def login(client: Any, username: str, password: str = "password-123") -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username,
                                                       "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


@pytest.fixture
def who(app: Flask) -> People:
    return signed_people()


def open_intake(client: Any, headers: dict[str, str]) -> int:
    response = client.post("/api/v1/applications", headers=headers, json={
        "kind": "intake", "project": header(), "stages": hm_stages()})
    assert response.status_code == 201, response.get_json()
    application_id = response.get_json()["id"]
    for kind in ("report", "commitment", "application_form", "evidence"):
        response = client.post(f"/api/v1/applications/{application_id}/attachments",
                               headers=headers, content_type="multipart/form-data",
                               data={"kind": kind, "file": (io.BytesIO(PDF), f"{kind}.pdf")})
        assert response.status_code == 201, response.get_json()
    return int(application_id)


def test_an_intake_goes_from_opening_to_the_national_push_over_http(
        app: Flask, client: Any, who: People, national: Simulator) -> None:
    unit = login(client, who.unit.username)
    application_id = open_intake(client, unit)
    submitted = client.post(f"/api/v1/applications/{application_id}/submit", headers=unit)
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"

    reviewer = login(client, "yz-reviewer")
    [task] = client.get("/api/v1/tasks", headers=reviewer).get_json()
    assert (task["element_id"], task["form_key"]) == ("Task_DistrictReview", "review")
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=reviewer).status_code == 200
    bad = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=reviewer,
                      json={"items": []})
    assert bad.status_code == 422
    assert bad.get_json()["errors"]["items"] == ["「逐项核实」至少需要 1 项"]
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=reviewer, json=REVIEW_OK)
    assert done.status_code == 200, done.get_json()
    again = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=reviewer, json=REVIEW_OK)
    assert again.status_code == 409  # completed: someone (here: they) was first
    assert "已被办理" in again.get_json()["message"]

    settle(app)
    titles = [n["title"] for n in client.get("/api/v1/notifications", headers=reviewer
                                               ).get_json()]
    assert titles == ["新的待办任务: 逐项核实申报信息"]
    [notice] = client.get("/api/v1/publicity").get_json()
    assert notice["status"] == "open"
    settle(app, travel=timedelta(days=15))
    final = client.get(f"/api/v1/applications/{application_id}", headers=unit).get_json()
    assert (final["status"], final["status_label"]) == ("approved", "已办结（已推送全国平台）")
    assert final["project_number"] == "NP0000000001"  # the platform's number, as pages show
    assert [e["kind"] for e in final["history"]][-1] == "instance_completed"
    assert len(national.state.pushes) == 1
    unit_notices = client.get("/api/v1/notifications", headers=unit).get_json()
    assert unit_notices[0]["title"].endswith("：已办结（已推送全国平台）")


def test_another_organisation_and_another_district_see_nothing(
        app: Flask, client: Any, who: People) -> None:
    unit = login(client, who.unit.username)
    application_id = open_intake(client, unit)
    client.post(f"/api/v1/applications/{application_id}/submit", headers=unit)
    from tests.registry import factory

    stranger = factory.enterprise_user()
    stranger.password_hash = users.generate_password_hash("password-123", method="scrypt")
    db.session.commit()
    other = login(client, stranger.username)
    assert client.get(f"/api/v1/applications/{application_id}",
                      headers=other).status_code == 404
    assert client.get("/api/v1/applications", headers=other).get_json() == []
    jiangbei = login(client, "jb-reviewer")
    assert client.get("/api/v1/tasks", headers=jiangbei).get_json() == []
    task_id = client.get("/api/v1/tasks", headers=login(client, "yz-reviewer")).get_json()[0]["id"]
    assert client.post(f"/api/v1/tasks/{task_id}/complete", headers=jiangbei,
                       json=REVIEW_OK).status_code == 404
    assert client.get(f"/api/v1/applications/{application_id}",
                      headers=login(client, "yz-reviewer")).status_code == 200


def test_refusals_name_the_rule_or_field(client: Any, who: People) -> None:
    unit = login(client, who.unit.username)
    stages = hm_stages()
    stages["basic"] = copy.deepcopy(FEED["basic"])
    refused = client.post("/api/v1/applications", headers=unit, json={
        "kind": "intake", "project": header(), "stages": stages})
    assert refused.status_code == 422 and refused.get_json()["rule"] == "R-HM-2"
    invalid = client.post("/api/v1/applications", headers=unit, json={
        "kind": "intake", "project": header(name=""), "stages": hm_stages()})
    assert invalid.status_code == 422
    assert invalid.get_json()["errors"]["project"]["name"] == ["「项目名称」不能为空"]
    unknown = client.post("/api/v1/applications", headers=unit, json={"kind": "party"})
    assert unknown.status_code == 422


def test_sign_in_is_required_and_failures_are_rate_limited(client: Any, who: People) -> None:
    assert client.get("/api/v1/applications").status_code == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": "Bearer forged"}
                      ).status_code == 401
    for _ in range(5):
        assert client.post("/api/v1/auth/token", json={
            "username": who.unit.username, "password": "wrong"}).status_code == 401
    blocked = client.post("/api/v1/auth/token", json={"username": who.unit.username,
                                                      "password": "password-123"})
    assert blocked.status_code == 429


def test_the_permit_feed_needs_its_token(app: Flask, client: Any) -> None:
    app.config["CQPI_PERMIT_TOKEN"] = "permit-secret"
    try:
        assert client.post("/api/v1/integrations/permits", json=FEED).status_code == 401
        ok = client.post("/api/v1/integrations/permits", json=FEED,
                         headers={"Authorization": "Bearer permit-secret"})
        assert ok.status_code == 200 and ok.get_json()["project_number"] == FEED["project_number"]
    finally:
        app.config.pop("CQPI_PERMIT_TOKEN")


def test_openapi_document_and_form_schemas(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/tasks/{task_id}/complete" in doc["paths"]
    review = client.get("/api/v1/forms/review").get_json()
    assert review["properties"]["items"]["title"] == "逐项核实"
    assert client.get("/api/v1/forms/nothing").status_code == 404


def test_errors_are_json_never_a_trace(client: Any) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and "message" in response.get_json()
    response = client.post("/api/v1/complaints", data="not json",
                           content_type="application/json")
    assert response.status_code == 422 and "message" in response.get_json()


def test_projects_are_visible_to_their_parties_and_reviewers(app: Flask, client: Any,
                                                             who: People) -> None:
    from tests.forms.test_stages import VALID
    from tests.registry import factory

    project = factory.project(who.org, on_platform=True)
    factory.stage(project, "contract", VALID["contract"], grade="D")
    db.session.commit()
    unit = login(client, who.unit.username)
    detail = client.get(f"/api/v1/projects/{project.id}", headers=unit).get_json()
    assert [(s["stage"], s["grade"]) for s in detail["stages"]] == [("contract", "D")]
    assert detail["stages"][0]["payload"]["amount"] == VALID["contract"]["amount"]
    assert client.get(f"/api/v1/projects/{project.id}",
                      headers=login(client, "yz-reviewer")).status_code == 200
    assert client.get(f"/api/v1/projects/{project.id}",
                      headers=login(client, "jb-reviewer")).status_code == 404


@pytest.mark.parametrize("call", [
    lambda c: c.post("/api/v1/auth/token", json={"username": "a\x00b", "password": "x"}),
    lambda c: c.get("/api/v1/projects?number=12%00"),
    lambda c: c.post("/api/v1/complaints", data=b'{"content": "\\u0000"}',
                     content_type="application/json"),
])
def test_nul_characters_are_refused_clearly(client: Any, call: Any) -> None:
    """PostgreSQL cannot store NUL: such input is a 422 with a message, not a 500."""
    response = call(client)
    assert response.status_code == 422
    assert "空字符" in response.get_json()["message"]


def test_inbox_filters(app: Flask, client: Any, who: People) -> None:
    from engine import clock

    unit = login(client, who.unit.username)
    application_id = open_intake(client, unit)
    client.post(f"/api/v1/applications/{application_id}/submit", headers=unit)
    reviewer = login(client, "yz-reviewer")

    def ids(query: str) -> int:
        return len(client.get(f"/api/v1/tasks?{query}", headers=reviewer).get_json())

    assert ids("process=intake") == 1 and ids("process=correction") == 0
    assert ids("form_key=review") == 1 and ids("mine=true") == 0
    assert ids("overdue=true") == 0
    assert ids("jurisdiction=500103") == 1 and ids("jurisdiction=500105") == 0
    clock.travel(timedelta(days=30))  # the review is due in 10 working days
    assert ids("overdue=true") == 1
    assert client.get("/api/v1/tasks?process=nothing", headers=reviewer).status_code == 422
