"""我发起的: ``GET /api/v1/processes/started`` lists the instances the caller started (by hand,
or an enterprise user's submitted applications), newest first, paged, with their status and
the tasks they wait on; never another user's (not even a colleague's), never the system's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine import queries
from engine.db import db
from engine.models import Instance
from handlers.inspection import open_inspection
from handlers.schedule import start_monthly_sampling
from registry import users
from tests.lifecycle.test_starts import START, self_check_people
from tests.processes.helpers import People, open_task, submit_intake
from tests.registry import factory
from tests.web.test_api import login

STARTED = "/api/v1/processes/started"


@pytest.fixture
def who(app: Flask) -> People:
    return self_check_people()


def _start(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    answer = client.post("/api/v1/processes/self_check/instances", json=START, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return dict(answer.get_json())


def _listed(client: Any, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    answer = client.get(f"{STARTED}{query}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return list(answer.get_json())


def test_the_starter_sees_it_with_its_step_and_a_colleague_does_not(client: Any,
                                                                    who: People) -> None:
    mine = login(client, who.unit.username)
    body = _start(client, mine)
    colleague = factory.enterprise_user(who.org)  # the same organisation
    db.session.commit()

    [row] = _listed(client, mine)
    assert row["started_at"] and row.pop("started_at")
    assert row == {"instance_id": body["instance_id"], "business_key": body["business_key"],
                   "process": "self_check", "process_name": "项目数据年度自查", "version": 1,
                   "status": "waiting", "status_label": "等待中", "ended_at": None,
                   "current_tasks": ["区县审核"]}
    assert _listed(client, login(client, colleague.username)) == []
    reviewer = login(client, "yz-reviewer")
    assert _listed(client, reviewer) == []  # it waits on them; they did not start it

    [task] = client.get("/api/v1/tasks", headers=reviewer).get_json()
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"decision": "approve"},
                       headers=reviewer)
    assert done.status_code == 200, done.get_json()
    [row] = _listed(client, mine)
    assert (row["status"], row["status_label"], row["current_tasks"]) == (
        "completed", "已完成", [])
    assert row["ended_at"] is not None
    assert db.session.scalar(sa.select(Instance.started_by)) == who.unit.username


def test_an_enterprise_users_submitted_application_is_one_they_started(client: Any,
                                                                       who: People) -> None:
    application = submit_intake(who)
    task = open_task(application)
    [row] = _listed(client, login(client, who.unit.username))
    assert (row["instance_id"], row["business_key"], row["process"]) == (
        application.instance_id, f"application-{application.id}", "intake")
    assert (row["status"], row["current_tasks"]) == ("waiting", [task.name])
    colleague = factory.enterprise_user(who.org)
    db.session.commit()
    assert _listed(client, login(client, colleague.username)) == []


def test_what_the_system_starts_is_nobodys(client: Any, who: People) -> None:
    """An inspection (history actor ``system``) and the scheduler's monthly sampling keep no
    starter: not even users named like the system's labels see them."""
    project = factory.project(who.org, location="500103")
    db.session.commit()
    open_inspection(project.id, "complaint")
    start_monthly_sampling("2026-10", "scheduler")
    labels = [users.create_user(name, "password-123", "city_reviewer", name)
              for name in ("system", "scheduler")]
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Instance)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Instance).where(
        Instance.started_by.is_not(None))) == 0
    for user in (*labels, who.unit, who.city):
        assert _listed(client, login(client, user.username)) == []


def test_newest_first_paged_with_every_status_labelled(client: Any, who: People) -> None:
    mine = login(client, who.unit.username)
    ids = [_start(client, mine)["instance_id"] for _ in range(3)]
    engine.suspend(ids[1], "yunwei", "核查数据")
    engine.terminate(ids[0], "yunwei", "重复提交")

    every = _listed(client, mine)
    assert [r["instance_id"] for r in every] == ids[::-1]
    assert [(r["status"], r["status_label"]) for r in every] == [
        ("waiting", "等待中"), ("suspended", "已挂起"), ("terminated", "已终止")]
    assert [r["current_tasks"] for r in every] == [["区县审核"], ["区县审核"], []]
    first = _listed(client, mine, "?per_page=2")
    second = _listed(client, mine, "?per_page=2&page=2")
    assert [r["instance_id"] for r in first + second] == ids[::-1]
    assert _listed(client, mine, "?per_page=2&page=3") == []
    for bad in ("?per_page=0", "?per_page=101", "?page=0", "?page=x"):
        assert client.get(f"{STARTED}{bad}", headers=mine).status_code == 422


def test_it_takes_two_queries_whatever_the_pages_size(client: Any, who: People) -> None:
    mine = login(client, who.unit.username)
    _start(client, mine)
    with _statements() as one:
        assert len(queries.started_by(who.unit.username)) == 1
    for _ in range(3):
        _start(client, mine)
    with _statements() as four:
        found = queries.started_by(who.unit.username)
    assert [r.current_tasks for r in found] == [["区县审核"]] * 4
    assert len(one) == len(four) == 2


def test_it_needs_a_sign_in_and_is_in_the_openapi_document(client: Any) -> None:
    refused = client.get(STARTED)
    assert refused.status_code == 401 and "message" in refused.get_json()
    doc = client.get("/api/v1/openapi.json").get_json()
    get = doc["paths"][STARTED]["get"]
    assert {p["name"] for p in get["parameters"]} >= {"page", "per_page"}
    items = get["responses"]["200"]["content"]["application/json"]["schema"]["items"]
    assert items["$ref"].endswith("/StartedInstanceOut")
    shown = doc["components"]["schemas"]["StartedInstanceOut"]["properties"]
    assert set(shown) == {"instance_id", "business_key", "process", "process_name", "version",
                          "status", "status_label", "started_at", "ended_at", "current_tasks"}
    assert "已挂起" in shown["status"]["description"]
    assert "colleague" in get["description"]


@contextmanager
def _statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
