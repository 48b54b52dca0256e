"""Publicity that tells the truth (A-3, A-1): an objection pauses the notice, which then takes
no other objection and says so on the board, in the API and on its page; a dismissed
objection resumes it with its end moved by the working days it was paused; an upheld one
stops it. Driven through the HTTP API and the pages (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from engine import clock
from engine.db import db
from engine.models import Timer, WaitStatus
from handlers.publicity import resume_notice
from registry.models import Application, PublicityNotice
from tests.conftest import Simulator
from tests.processes.helpers import (
    REVIEW_OK,
    People,
    deploy_processes,
    instance_of,
    open_task,
    people,
    settle,
    submit_intake,
)

OBJECTION = {"name": "王五", "contact": "023-12345678", "content": "怀疑合同金额不实"}
PAUSED = "公示暂停（异议处理中）"
MONDAY = datetime(2026, 12, 7, 2, 0)
"""Monday 7 December 2026, 10:00 in Beijing (naive UTC): no holiday for three weeks."""


def set_clock(at: datetime) -> None:
    """Move the engine's clock to ``at`` (naive UTC), forward or back."""
    clock.travel(at - clock.now())


@pytest.fixture
def who(app: Flask) -> People:
    deploy_processes()
    return people()


def token(client: Any, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"username": username,
                                                     "password": "password-123"})
    assert answer.status_code == 200, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def complete(client: Any, application: Application, form: dict[str, Any],
             username: str = "yz-reviewer") -> None:
    """The open task of ``application``, claimed and completed over the API."""
    headers = token(client, username)
    task = open_task(application)
    assert client.post(f"/api/v1/tasks/{task.id}/claim", headers=headers).status_code == 200
    done = client.post(f"/api/v1/tasks/{task.id}/complete", headers=headers, json=form)
    assert done.status_code == 200, done.get_json()


def publish(app: Flask, client: Any, who: People) -> tuple[Application, PublicityNotice]:
    application = submit_intake(who)
    complete(client, application, REVIEW_OK)
    settle(app)
    notice = db.session.scalar(sa.select(PublicityNotice))
    assert notice is not None and notice.status == "open"
    return application, notice


def object_to(client: Any, notice: PublicityNotice) -> Any:
    return client.post(f"/api/v1/publicity/{notice.id}/objections", json=OBJECTION)


def board_row(client: Any, notice: PublicityNotice) -> str | None:
    """The board's row of ``notice`` as text, or None when the board does not list it."""
    page = client.get("/publicity").get_data(as_text=True)
    found = re.search(rf'<tr><td><a href="/publicity/{notice.id}">.*?</tr>', page, re.S)
    return found.group(0) if found else None


def api_notice(client: Any, notice: PublicityNotice) -> dict[str, Any]:
    answer = client.get(f"/api/v1/publicity/{notice.id}")
    assert answer.status_code == 200
    return answer.get_json()  # type: ignore[no-any-return]


def notice_of(notice: PublicityNotice) -> PublicityNotice:
    db.session.expire_all()
    row = db.session.get(PublicityNotice, notice.id)
    assert row is not None
    return row


def open_timer_due(application: Application) -> datetime:
    [due] = db.session.scalars(sa.select(Timer.due_at).filter_by(
        instance_id=application.instance_id, status=WaitStatus.OPEN)).all()
    return due


def test_a_3_an_objection_pauses_the_notice_which_takes_no_other(
        app: Flask, client: Any, who: People) -> None:
    """A-3: the objection pauses the notice; board, API and page say 公示暂停（异议处理中）,
    the page offers no objection form, and a second objection is refused with 409."""
    application, notice = publish(app, client, who)
    assert "公示中" in (board_row(client, notice) or "")
    assert 'id="objection"' in client.get(f"/publicity/{notice.id}").get_data(as_text=True)

    first = object_to(client, notice)
    assert first.status_code == 201, first.get_json()
    assert notice_of(notice).status == "paused"
    assert open_task(application).element_id == "Task_DistrictRuling"

    row = board_row(client, notice)
    assert row is not None and PAUSED in row and "公示中<" not in row
    listed = {n["id"]: n for n in client.get("/api/v1/publicity").get_json()}
    assert (listed[notice.id]["status"], listed[notice.id]["status_label"]) == ("paused", PAUSED)
    page = client.get(f"/publicity/{notice.id}").get_data(as_text=True)
    badge = re.search(r'id="notice-status">([^<]*)<', page)
    assert badge is not None and badge.group(1) == PAUSED
    assert 'id="objection"' not in page and "暂不受理新的异议" in page

    second = object_to(client, notice)
    assert second.status_code == 409
    assert second.get_json()["message"].startswith(PAUSED)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(
        as_text=True))
    assert csrf is not None
    by_page = client.post(f"/publicity/{notice.id}", data={**OBJECTION,
                                                          "csrf_token": csrf.group(1)})
    assert by_page.status_code == 409 and "暂不受理新的异议" in by_page.get_data(as_text=True)
    assert len(db.session.scalars(sa.text("SELECT id FROM objection")).all()) == 1


def test_a_3_a_1_dismissal_resumes_publicity_with_its_end_moved_by_the_paused_working_days(
        app: Flask, client: Any, who: People, national: Simulator) -> None:
    """A-3, A-1: opened Monday (5 working days: ends with Monday 14 December), paused on
    Wednesday, dismissed on Friday: Thursday and Friday were lost, so the notice resumes and
    closes with Wednesday 16 December (Beijing); then it takes objections again, and the
    push follows the moved end, not the old one."""
    set_clock(MONDAY)
    application, notice = publish(app, client, who)
    assert notice.closes_at == datetime(2026, 12, 14, 16, 0)

    set_clock(MONDAY + timedelta(days=2))  # Wednesday 10:00
    assert object_to(client, notice).status_code == 201
    set_clock(MONDAY + timedelta(days=4, hours=5))  # Friday 15:00
    complete(client, application, {"decision": "dismiss", "reason": "与合同备案一致"})
    settle(app)

    resumed = notice_of(notice)
    assert (resumed.status, resumed.closes_at) == ("open", datetime(2026, 12, 16, 16, 0))
    assert open_timer_due(application) == datetime(2026, 12, 16, 16, 0)
    shown = api_notice(client, notice)
    assert (shown["status"], shown["status_label"]) == ("open", "公示中")
    assert "2026-12-17 00:00" in (board_row(client, notice) or "")  # Beijing midnight

    settle(app, travel=timedelta(days=4))  # Tuesday 15 December: the old end has passed
    assert national.state.pushes == {} and instance_of(application).status == "waiting"
    assert object_to(client, notice).status_code == 201  # waiting again for an objection
    assert notice_of(notice).status == "paused"
    complete(client, application, {"decision": "dismiss", "reason": "重复异议，不成立"})
    settle(app)
    assert notice_of(notice).closes_at == datetime(2026, 12, 16, 16, 0)  # paused the same day

    settle(app, travel=timedelta(days=2))  # past Wednesday 16 December
    assert instance_of(application).status == "completed"
    assert len(national.state.pushes) == 1
    assert notice_of(notice).status == "closed"
    assert board_row(client, notice) is None


def test_a_3_with_a_duration_the_end_moves_by_the_paused_time(
        app: Flask, client: Any, who: People) -> None:
    """A-3, A-1: with CQPI_PUBLICITY an ISO duration (demos), the end moves by the paused
    wall-clock time."""
    app.config["CQPI_PUBLICITY"] = "PT30S"
    try:
        application, notice = publish(app, client, who)
        before = notice.closes_at
        assert object_to(client, notice).status_code == 201
        clock.travel(timedelta(minutes=10))
        complete(client, application, {"decision": "dismiss", "reason": "与合同备案一致"})
        settle(app)
        moved = notice_of(notice).closes_at - before
        assert timedelta(minutes=10) <= moved < timedelta(minutes=10, seconds=20)
        settle(app, travel=timedelta(seconds=40))
        assert instance_of(application).status == "completed"
    finally:
        app.config["CQPI_PUBLICITY"] = "5"


def test_a_3_an_upheld_objection_stops_the_notice_and_returns_the_application(
        app: Flask, client: Any, who: People, national: Simulator) -> None:
    """A-3: upheld, the notice is stopped (off the board, no objection form, 409), nothing
    is pushed, and the application goes back to the unit."""
    application, notice = publish(app, client, who)
    assert object_to(client, notice).status_code == 201
    complete(client, application, {"decision": "uphold", "reason": "经核查异议属实"})
    settle(app)
    assert notice_of(notice).status == "stopped"
    assert board_row(client, notice) is None
    assert api_notice(client, notice)["status_label"] == "公示终止（异议成立）"
    page = client.get(f"/publicity/{notice.id}").get_data(as_text=True)
    assert 'id="objection"' not in page and "公示终止（异议成立）" in page
    assert object_to(client, notice).status_code == 409
    settle(app, travel=timedelta(days=20))
    assert national.state.pushes == {}
    assert open_task(application).element_id == "Task_Amend"
    assert db.session.get(Application, application.id).status == "returned"  # type: ignore[union-attr]


def test_a_1_a_notice_past_its_end_is_never_shown_open(
        app: Flask, client: Any, who: People) -> None:
    """A-1: before its timer has fired, a notice past its end is off the board, its page
    says 公示期满 with no objection form, and an objection is refused."""
    application, notice = publish(app, client, who)
    clock.travel(timedelta(days=15))  # no settle: the timer has not fired
    assert notice_of(notice).status == "open"
    assert board_row(client, notice) is None
    assert client.get("/api/v1/publicity").get_json() == []
    assert api_notice(client, notice)["status"] == "due"
    page = client.get(f"/publicity/{notice.id}").get_data(as_text=True)
    assert 'id="objection"' not in page and ">公示期满<" in page
    refused = object_to(client, notice)
    assert refused.status_code == 409
    assert refused.get_json()["message"] == "公示期已结束，不再受理异议"


def test_a_3_resuming_is_idempotent_and_a_resumed_notice_can_still_close(
        app: Flask, client: Any, who: People) -> None:
    """A-3: publicity.resume run twice moves the end once; a closed notice is not
    resumed (the job fails rather than push after a stop)."""
    set_clock(MONDAY)
    application, notice = publish(app, client, who)
    assert object_to(client, notice).status_code == 201
    set_clock(MONDAY + timedelta(days=1))  # Tuesday: one working day paused
    first = resume_notice({"notice_id": notice.id}, {})
    again = resume_notice({"notice_id": notice.id}, {})
    assert first == again == {"publicity_notice_id": notice.id,
                              "publicity_closes_at": "2026-12-15T16:00:00+00:00"}
    assert notice_of(notice).status == "open"
    db.session.execute(sa.update(PublicityNotice).values(status="closed"))
    db.session.commit()
    with pytest.raises(ValueError, match="已结束，不能恢复"):
        resume_notice({"notice_id": notice.id}, {})
