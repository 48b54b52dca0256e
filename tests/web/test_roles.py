"""Who may call what: every role against each endpoint; another's objects answer 404."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engine.db import db
from registry import users
from tests.processes.helpers import REVIEW_OK, deploy_processes, people
from tests.registry import factory
from tests.registry.test_applications import header, hm_stages
from tests.web.test_api import login, open_intake

ROLES = ["anonymous", "unit", "other_unit", "yuzhong", "jiangbei", "city", "ops", "analyst"]


def _everyone(client: Any) -> dict[str, dict[str, str]]:
    who = people()
    other = factory.enterprise_user()
    ops = users.create_user("ops-1", "password-123", "ops", "运维")
    analyst = users.create_user("analyst-1", "password-123", "analyst", "分析")
    for user in (who.unit, other):
        user.password_hash = users.generate_password_hash("password-123", method="scrypt")
    db.session.commit()
    names = {"unit": who.unit.username, "other_unit": other.username,
             "yuzhong": "yz-reviewer", "jiangbei": "jb-reviewer", "city": "city-reviewer",
             "ops": ops.username, "analyst": analyst.username}
    headers = {role: login(client, name) for role, name in names.items()}
    headers["anonymous"] = {}
    return headers


EXPECTED = {
    "list": {"anonymous": 401, "unit": 200, "other_unit": 200, "yuzhong": 200,
             "jiangbei": 200, "city": 200, "ops": 200, "analyst": 200},
    "read": {"anonymous": 401, "unit": 200, "other_unit": 404, "yuzhong": 200,
             "jiangbei": 404, "city": 404, "ops": 200, "analyst": 404},
    "open": {"anonymous": 401, "unit": 201, "other_unit": 201, "yuzhong": 403,
             "jiangbei": 403, "city": 403, "ops": 403, "analyst": 403},
    "inbox": {role: (401 if role == "anonymous" else 200) for role in ROLES},
    "complete": {"anonymous": 401, "unit": 404, "other_unit": 404, "jiangbei": 404,
                 "city": 404, "ops": 404, "analyst": 404, "yuzhong": 200},
    "projects": {role: (401 if role == "anonymous" else 200) for role in ROLES},
    "instances": {role: {"anonymous": 401, "ops": 200}.get(role, 403) for role in ROLES},
    "processes": {role: {"anonymous": 401, "analyst": 200}.get(role, 403) for role in ROLES},
    "publicity": dict.fromkeys(ROLES, 200),
}


def test_the_role_matrix(app: Flask, client: Any) -> None:
    deploy_processes()
    headers = _everyone(client)
    application_id = open_intake(client, headers["unit"])
    client.post(f"/api/v1/applications/{application_id}/submit", headers=headers["unit"])
    task_id = client.get("/api/v1/tasks", headers=headers["yuzhong"]).get_json()[0]["id"]
    calls = {
        "list": lambda h: client.get("/api/v1/applications", headers=h),
        "read": lambda h: client.get(f"/api/v1/applications/{application_id}", headers=h),
        "open": lambda h: client.post("/api/v1/applications", headers=h, json={
            "kind": "intake", "project": header(), "stages": hm_stages()}),
        "inbox": lambda h: client.get("/api/v1/tasks", headers=h),
        "complete": lambda h: client.post(f"/api/v1/tasks/{task_id}/complete", headers=h,
                                          json=REVIEW_OK),
        "projects": lambda h: client.get("/api/v1/projects", headers=h),
        "instances": lambda h: client.get("/api/v1/instances", headers=h),
        "processes": lambda h: client.get("/api/v1/processes", headers=h),
        "publicity": lambda h: client.get("/api/v1/publicity", headers=h),
    }
    seen = {}
    for name, call in calls.items():
        order = sorted(EXPECTED[name], key=lambda r: r == "yuzhong")  # the one who acts, last
        seen[name] = {role: call(headers[role]).status_code for role in order}
    assert seen == EXPECTED
