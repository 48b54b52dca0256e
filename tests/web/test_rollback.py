"""Rollback of a bad process version through the API, the version page and ``cqpi deploy``:
an earlier version made current again, audited; a redeploy says what it did."""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine.db import db
from engine.models import Definition, Instance
from registry import users
from registry.models import AuditEvent
from tests.conftest import BPMN, deploy
from tests.web.test_api import login
from tests.web.test_pages import csrf, sign_in

V1, V2 = "versioned_v1.bpmn", "versioned_v2.bpmn"
ACTIVATE = "/api/v1/processes/versioned/versions/{}/activate"


@pytest.fixture
def analyst(app: Flask, client: Any) -> dict[str, str]:
    """Versions 1 and 2 deployed, and an analyst's API headers."""
    deploy(V1)
    deploy(V2)
    users.create_user("analyst-1", "password-123", "analyst", "分析")
    db.session.commit()
    return login(client, "analyst-1")


def started_version() -> int:
    instance = engine.start("versioned", data={"title": "某项目"})
    definition = db.session.get(Definition, instance.definition_id)
    assert definition is not None
    return definition.version


def audits(action: str) -> list[tuple[str, dict[str, Any] | None]]:
    db.session.expire_all()
    return [(e.actor, e.data) for e in db.session.scalars(
        sa.select(AuditEvent).filter_by(action=action, object="process:versioned")
        .order_by(AuditEvent.id))]


def upload(client: Any, headers: dict[str, str], name: str) -> Any:
    return client.post("/api/v1/processes", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO((BPMN / name).read_bytes()), name)})


def test_activate_makes_new_starts_use_the_earlier_version(
        client: Any, analyst: dict[str, str]) -> None:
    on_v2 = engine.start("versioned", data={"title": "某项目"}).id
    answer = client.post(ACTIVATE.format(1), headers=analyst)
    assert answer.status_code == 200
    assert answer.get_json() == {"key": "versioned", "version": 1, "current": True,
                                 "changed": True, "before": 2,
                                 "message": "已将版本 1 设为当前版本（此前为版本 2）"}
    assert started_version() == 1
    running = db.session.get(Instance, on_v2)
    assert running is not None and running.definition_id == db.session.scalar(
        sa.select(Definition.id).filter_by(key="versioned", version=2))
    assert audits("process_activated") == [
        ("analyst-1", {"version": 1, "before": 2, "after": 1})]
    [listed] = [p for p in client.get("/api/v1/processes", headers=analyst).get_json()
                if p["key"] == "versioned"]
    assert listed["current_version"] == 1
    assert [(v["version"], v["current"]) for v in listed["versions"]] == [(2, False), (1, True)]

    again = client.post(ACTIVATE.format(1), headers=analyst).get_json()
    assert (again["changed"], again["before"], again["current"]) == (False, 1, True)
    assert len(audits("process_activated")) == 1  # nothing changed, nothing audited


def test_activate_refuses_other_roles_and_unknown_versions(
        client: Any, analyst: dict[str, str]) -> None:
    for username, role in (("ops-1", "ops"), ("city-1", "city_reviewer")):
        users.create_user(username, "password-123", role, "他人")
        db.session.commit()
        assert client.post(ACTIVATE.format(1), headers=login(client, username)
                           ).status_code == 403
    assert client.post(ACTIVATE.format(9), headers=analyst).status_code == 404
    assert client.post("/api/v1/processes/nothing/versions/1/activate",
                       headers=analyst).status_code == 404
    assert started_version() == 2


def test_redeploying_says_what_it_did(client: Any, analyst: dict[str, str]) -> None:
    same = upload(client, analyst, V2)
    assert same.status_code == 200
    assert same.get_json()["deployed"] == [{
        "key": "versioned", "version": 2, "outcome": "unchanged", "created": False,
        "before": 2, "message": "内容与当前版本 2 相同，未产生新版本"}]
    earlier = upload(client, analyst, V1)
    assert earlier.status_code == 200
    [reactivated] = earlier.get_json()["deployed"]
    assert (reactivated["version"], reactivated["outcome"]) == (1, "reactivated")
    assert "已重新启用版本 1" in reactivated["message"]
    assert started_version() == 1
    assert [data for _actor, data in audits("process_deployed")] == [
        {"version": 2, "outcome": "unchanged", "before": 2, "after": 2},
        {"version": 1, "outcome": "reactivated", "before": 2, "after": 1}]


def test_the_version_page_button_makes_it_current(
        app: Flask, client: Any, analyst: dict[str, str]) -> None:
    sign_in(client, "analyst-1", "password-123")
    page = client.get("/models/versioned/1").get_data(as_text=True)
    assert "设为当前版本" in page and 'action="/models/versioned/1/activate"' in page
    assert "onclick" not in page
    token = csrf(client, "/models/versioned/1")
    assert client.post("/models/versioned/1/activate").status_code == 400  # no CSRF field
    answer = client.post("/models/versioned/1/activate", data={"csrf_token": token},
                         follow_redirects=True)
    shown = answer.get_data(as_text=True)
    assert "已将 v1 设为当前版本（此前为 v2）" in shown
    assert 'id="current"' in shown and 'id="activate"' not in shown
    assert started_version() == 1
    assert audits("process_activated") == [
        ("analyst-1", {"version": 1, "before": 2, "after": 1})]
    listing = client.get("/models").get_data(as_text=True)
    assert listing.count("当前版本</span>") == 1 and "最新（未启用）" in listing


def test_the_upload_page_says_a_version_was_made_current_again(
        client: Any, analyst: dict[str, str]) -> None:
    sign_in(client, "analyst-1", "password-123")
    answer = client.post("/models/deploy", follow_redirects=True, data={
        "csrf_token": csrf(client, "/models/upload"), "file_name": V1,
        "xml": (BPMN / V1).read_text()})
    assert "versioned：内容与版本 1 相同，已重新启用版本 1" in answer.get_data(as_text=True)
    assert started_version() == 1


def test_non_analysts_cannot_use_the_page_button(app: Flask, client: Any,
                                                 analyst: dict[str, str]) -> None:
    users.create_user("ops-1", "password-123", "ops", "运维")
    db.session.commit()
    sign_in(client, "ops-1", "password-123")
    token = csrf(client, "/ops/instances")
    answer = client.post("/models/versioned/1/activate", data={"csrf_token": token})
    assert answer.status_code == 403
    assert started_version() == 2


def test_after_a_rollback_instances_move_back_and_versions_compare_with_the_current(
        app: Flask, client: Any, analyst: dict[str, str]) -> None:
    """v3 deployed, an instance started on it, v2 made current again: v3's page offers to
    move it back to v2 (the current one, chosen first) or v1, and the list compares each
    version with the current one as well as with the newest."""
    deploy("versioned_v3.bpmn")
    assert started_version() == 3
    db.session.commit()
    assert client.post(ACTIVATE.format(2), headers=analyst).status_code == 200
    sign_in(client, "analyst-1", "password-123")
    page = client.get("/models/versioned/3").get_data(as_text=True)
    assert '<option value="2" selected>v2（当前版本）</option>' in page
    assert '<option value="1">v1（较早版本）</option>' in page
    listing = client.get("/models").get_data(as_text=True)
    assert "/models/versioned/diff?from=1&amp;to=2\">与当前版本比较" in listing
    assert "/models/versioned/diff?from=2&amp;to=3\">与当前版本比较" in listing
    assert "/models/versioned/diff?from=1&amp;to=3\">与最新版本比较" in listing
