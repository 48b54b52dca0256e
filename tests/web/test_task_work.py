"""Working a task: due dates in working days (A-8), tasks of a suspended procedure shown but
refused with what was entered kept, the inbox's filters and an inspection's project."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
import lifecycle
from engine import clock
from engine.db import db
from engine.models import UserTask
from handlers import inspection
from registry import deadlines, demo
from registry.models import Application, Project, User
from tests.processes.helpers import open_task
from tests.web.test_pages import _application, csrf, sign_in


@pytest.fixture
def demo_app(app: Flask) -> Flask:
    from tests.processes.helpers import deploy_processes

    deploy_processes()
    demo.load()
    return app


def at(beijing: str) -> None:
    """Move the engine's clock to a Beijing time (``2026-11-12 10:00``)."""
    target = datetime.fromisoformat(beijing) - timedelta(hours=8)
    clock.travel(target - clock.now())


def _token(client: Any, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"username": username,
                                                      "password": demo.PASSWORD})
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def _api_task(client: Any, headers: dict[str, str], task_id: str) -> dict[str, Any]:
    [found] = [t for t in client.get("/api/v1/tasks", headers=headers).get_json()
               if t["id"] == task_id]
    return found


def test_a_8_a_review_is_due_ten_working_days_later_not_on_a_weekend(demo_app: Flask) -> None:
    """A-8: P10D from Thursday 12 November 2026 is Thursday 26 November (two weekends
    skipped), not Sunday the 22nd; the inbox, the task page and the API say the days left."""
    at("2026-11-12 10:00")
    task = open_task(_application())
    assert task.due_at == datetime(2026, 11, 26, 16, 0)  # 24:00 on the 26th, Beijing time
    client = demo_app.test_client()
    sign_in(client, "yuzhong")
    assert "11月26日（剩 10 个工作日）" in client.get("/tasks").get_data(as_text=True)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "11月26日（剩 10 个工作日）" in page
    api = demo_app.test_client()
    shown = _api_task(api, _token(api, "yuzhong"), task.id)
    assert (shown["working_days_left"], shown["overdue"], shown["due_text"]) == (
        10, False, "11月26日（剩 10 个工作日）")
    assert shown["due_at"].startswith("2026-11-26T16:00")

    at("2026-11-26 18:00")  # its last day
    assert "11月26日（今日到期）" in client.get("/tasks").get_data(as_text=True)
    at("2026-11-30 09:00")  # Friday the 27th and Monday the 30th gone
    inbox = client.get("/tasks").get_data(as_text=True)
    assert re.search(r'<tr class="overdue[^"]*">.*?<strong class="late">'
                     r'11月26日（已超期 2 个工作日）</strong>', inbox, re.S)
    shown = _api_task(api, _token(api, "yuzhong"), task.id)
    assert (shown["working_days_left"], shown["overdue"]) == (-2, True)


def test_a_8_the_national_day_holiday_is_skipped_and_its_make_up_saturday_counts(
        demo_app: Flask) -> None:
    """A-8 on the calendar publicity uses (A-1): from Thursday 24 September 2026, the
    Mid-Autumn Friday and 1-7 October are holidays and Saturday 10 October a working day, so
    the tenth working day is Thursday 15 October (P10D by the clock would be 4 October)."""
    at("2026-09-24 10:00")
    task = open_task(_application())
    assert task.due_at == datetime(2026, 10, 15, 16, 0)
    at("2026-10-09 09:00")  # Friday: the make-up Saturday, the 12th..15th left
    deadline = deadlines.describe(db.session.get(UserTask, task.id).due_at)  # type: ignore[union-attr]
    assert deadline is not None and (deadline.working_days_left, deadline.text) == (
        5, "10月15日（剩 5 个工作日）")


def test_a_8_durations_other_than_days_stay_elapsed_time() -> None:
    assert deadlines.task_due(datetime(2026, 11, 13, 2), "PT4H") is None  # the engine adds it
    assert deadlines.task_due(datetime(2026, 11, 13, 2), "P1M") is None


def _review_form(client: Any, application: Application, task: UserTask) -> dict[str, str]:
    form = {"csrf_token": csrf(client, f"/tasks/{task.id}"), "comment": "材料齐全，我的审核意见"}
    for n, item in enumerate([*sorted(application.stages), "attachments"]):
        form[f"items-{n}-item"] = item
        form[f"items-{n}-result"] = "pass" if n else "problem"
        form[f"items-{n}-reason"] = "招投标日期与合同不一致" if not n else ""
    return form


def _kept(page: str) -> bool:
    """Whether the re-rendered review holds what ``_review_form`` posted."""
    return ("材料齐全，我的审核意见" in page and "招投标日期与合同不一致" in page
            and re.search(r'name="items-0-result" value="problem" checked', page) is not None
            and re.search(r'name="items-1-result" value="pass" checked', page) is not None)


def test_a_suspended_procedures_task_is_shown_as_such_and_refused_keeping_the_entries(
        demo_app: Flask) -> None:
    application = _application()
    task = open_task(application)
    engine.suspend(application.instance_id, "yunwei", "核查数据")
    client = demo_app.test_client()
    sign_in(client, "yuzhong")
    inbox = client.get("/tasks").get_data(as_text=True)
    assert "暂停办理" in inbox
    assert not re.search(rf'<a href="/tasks/{task.id}">{task.name}</a>', inbox)  # no link to work
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="task-suspended"' in page and "暂停办理" in page
    assert '<fieldset class="task-work" disabled>' in page

    refused = client.post(f"/tasks/{task.id}", data=_review_form(client, application, task))
    text = refused.get_data(as_text=True)
    [message] = re.findall(r'class="flash error" role="alert">([^<]*)<', text)
    assert refused.status_code == 409 and "暂停办理" in message
    assert not re.search(r"[A-Za-z]", message)  # no raw status
    assert _kept(text) and '<fieldset class="task-work">' in text  # ready to send again
    assert db.session.get(UserTask, task.id).status == "open"  # type: ignore[union-attr]

    api = demo_app.test_client()
    headers = _token(api, "yuzhong")
    assert _api_task(api, headers, task.id)["suspended"] is True
    answer = api.post(f"/api/v1/tasks/{task.id}/complete", headers=headers, json={
        "items": [{"item": i, "result": "pass"} for i in [*application.stages, "attachments"]]})
    assert answer.status_code == 409
    assert "暂停办理" in answer.get_json()["message"]
    assert not re.search(r"[A-Za-z]", answer.get_json()["message"])

    engine.resume(application.instance_id, "yunwei", "核查完毕")
    assert _api_task(api, headers, task.id)["suspended"] is False
    done = client.post(f"/tasks/{task.id}", data=_review_form(client, application, task))
    assert done.status_code == 302  # the kept entries go through once resumed


def test_a_task_someone_else_completed_first_keeps_what_was_entered(demo_app: Flask) -> None:
    application = _application()
    task = open_task(application)
    client = demo_app.test_client()
    sign_in(client, "yuzhong")
    form = _review_form(client, application, task)
    other = db.session.scalar(sa.select(User).filter_by(username="yuzhong"))
    assert other is not None
    lifecycle.tasks.complete_task(task.id, {"items": [
        {"item": i, "result": "pass"} for i in [*application.stages, "attachments"]]}, other)
    answer = client.post(f"/tasks/{task.id}", data=form)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "已被办理" in text and 'id="task-done"' in text
    assert _kept(text)


def test_the_district_filter_is_for_the_city_only(demo_app: Flask) -> None:
    for username, shown in (("yuzhong", False), ("qiye", False), ("shiji", True)):
        client = demo_app.test_client()
        sign_in(client, username)
        page = client.get("/tasks").get_data(as_text=True)
        assert ('name="jurisdiction"' in page) is shown, username


def test_an_inspection_task_shows_its_project(demo_app: Flask) -> None:
    """R-SUP-7: the inspected project in the inbox's project column and the task's title."""
    project = db.session.scalar(sa.select(Project).filter_by(project_number="5001032024010001"))
    assert project is not None
    inspection.open_inspection(project.id, "sample")
    city = demo_app.test_client()
    sign_in(city, "shiji")
    inbox = city.get("/tasks").get_data(as_text=True)
    row = re.search(r"<tr[^>]*>\s*<td><a href=\"(/tasks/[^\"]+)\">逐项审核并实地核查</a>.*?</tr>",
                    inbox, re.S)
    assert row is not None
    assert "渝中区解放碑片区城市更新住宅项目" in row.group(0) and "5001032024010001" in row.group(0)
    page = city.get(row.group(1)).get_data(as_text=True)
    assert re.search(r"<h1>逐项审核并实地核查：渝中区解放碑片区城市更新住宅项目</h1>", page)
