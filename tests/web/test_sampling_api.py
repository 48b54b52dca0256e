"""R-SUP-2 over HTTP: the city and ops start a month's sampling (once, however many ask at
once), read its draw per district, and do the same on the pages."""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine.clock import now
from engine.db import db
from engine.models import Instance, ScheduledRun
from forms.sampling_api import last_month
from handlers import schedule
from handlers.sampling import monthly_draw, monthly_key
from registry import users
from registry.models import Application
from tests.processes.helpers import People, deploy_processes, people, settle
from tests.registry import factory
from tests.web.test_api import login
from tests.web.test_pages import csrf, sign_in

PERIOD = "2026-10"
OCTOBER = datetime(2026, 10, 15, 4, 0)
START = "/api/v1/sampling/monthly"


@pytest.fixture
def who(app: Flask) -> People:
    deploy_processes()
    result = people()
    users.create_user("ops-1", "password-123", "ops", "运维")
    users.create_user("analyst-1", "password-123", "analyst", "分析")
    result.unit.password_hash = users.generate_password_hash("password-123", method="scrypt")
    db.session.commit()
    return result


def entries(who: People, location: str, count: int, decided: datetime = OCTOBER) -> list[int]:
    """``count`` approved intakes of district-managed projects in ``location``."""
    ids = []
    for _ in range(count):
        project = factory.project(who.org, location=location)
        project.project_number = f"{location}2026{project.id:06d}"
        application = Application(kind="intake", applicant_id=who.org.id, project_id=project.id,
                                  stages=["contract"], data={}, status="approved",
                                  decided_at=decided, created_by=who.unit.id)
        db.session.add(application)
        db.session.flush()
        ids.append(application.id)
    db.session.commit()
    return ids


def instances_of(period: str) -> int:
    db.session.expire_all()
    return int(db.session.scalar(sa.select(sa.func.count(Instance.id)).filter_by(
        business_key=monthly_key(period))) or 0)


def test_r_sup_2_the_city_starts_a_month_once_and_reads_its_draw(
        app: Flask, client: Any, who: People) -> None:
    yuzhong = entries(who, "500103", 25)
    jiangbei = entries(who, "500105", 5)
    entries(who, "500103", 4, OCTOBER + timedelta(days=40))  # November: not this month
    city = login(client, "city-reviewer")

    first = client.post(START, headers=city, json={"period": PERIOD})
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert (body["period"], body["status"], body["status_label"]) == (PERIOD, "drawing", "抽取中")
    assert body["districts"] == [] and body["instance"]["started_by"] == "city-reviewer"
    again = client.post(START, headers=city, json={"period": PERIOD})
    assert again.status_code == 200
    assert again.get_json()["instance"]["id"] == body["instance"]["id"]
    assert client.get(f"{START}/{PERIOD}", headers=city).get_json()["status"] == "drawing"

    settle(app)  # the draw job runs
    drawn = client.get(f"{START}/{PERIOD}", headers=city)
    assert drawn.status_code == 200
    report = drawn.get_json()
    assert report["status"] == "drawn" and report["instance"]["status"] == "waiting"
    districts = {d["scope"]: d for d in report["districts"]}
    assert set(districts) == {"500103", "500105"}
    assert districts["500103"]["name"] == "渝中区"
    assert (districts["500103"]["population_size"], districts["500103"]["sample_size"]) == (
        25, math.ceil(25 * 0.1))
    assert (districts["500105"]["population_size"], districts["500105"]["sample_size"]) == (5, 1)
    assert districts["500103"]["population"] == yuzhong
    assert districts["500105"]["population"] == jiangbei
    for district in districts.values():  # the draw can be derived again from the answer
        ids = [e["application_id"] for e in district["drawn"]]
        assert ids == monthly_draw(PERIOD, district["seed"], district["population"])
        for entry in district["drawn"]:
            assert entry["kind"] == "intake" and entry["project_name"].startswith("测试项目")
            assert entry["project_number"].startswith(district["scope"])
    assert (report["population_size"], report["sample_size"], report["open_checks"]) == (30, 4, 4)

    ops = login(client, "ops-1")
    late = client.post(START, headers=ops, json={"period": PERIOD})
    assert late.status_code == 200 and late.get_json()["districts"] == report["districts"]
    [listed] = client.get(START, headers=ops).get_json()
    assert (listed["period"], listed["status"], listed["districts"], listed["sample_size"]) == (
        PERIOD, "drawn", 2, 4)
    assert instances_of(PERIOD) == 1


def test_r_sup_2_a_month_without_entries_is_drawn_empty(client: Any, app: Flask,
                                                        who: People) -> None:
    ops = login(client, "ops-1")
    assert client.post(START, headers=ops, json={"period": "2026-08"}).status_code == 201
    settle(app)
    report = client.get(f"{START}/2026-08", headers=ops).get_json()
    assert (report["status"], report["districts"], report["instance"]["status"]) == (
        "drawn", [], "completed")


def test_two_starts_at_once_start_one_instance(app: Flask, who: People,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Two callers racing over real threads: one starts (201), the other waits for that
    start and answers the same instance (200); one claim, one instance."""
    entries(who, "500103", 3)
    real_start = engine.start

    def slow_start(*args: Any, **kwargs: Any) -> Instance:
        time.sleep(0.5)  # the other caller finds the claim taken and no instance yet
        return real_start(*args, **kwargs)

    monkeypatch.setattr(schedule.engine, "start", slow_start)
    clients = [app.test_client(), app.test_client()]
    headers = [login(clients[0], "city-reviewer"), login(clients[1], "ops-1")]
    barrier = threading.Barrier(2)
    answers: list[tuple[int, Any]] = []

    def start(i: int) -> None:
        barrier.wait()
        response = clients[i].post(START, headers=headers[i], json={"period": PERIOD})
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(code for code, _ in answers) == [200, 201], answers
    assert len({body["instance"]["id"] for _, body in answers}) == 1
    assert instances_of(PERIOD) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScheduledRun)) == 1


def test_a_start_that_loses_to_an_active_instance_answers_it(
        app: Flask, who: People, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database allows one active instance per business key: a start that did not see
    the other one (it looked just before the other committed) gets a Conflict from the
    engine and answers the existing instance instead."""
    other = engine.start("monthly_sampling", business_key=monthly_key(PERIOD), scope="city",
                         data={"period": PERIOD}, actor="elsewhere")  # started without a claim
    real = engine.instance_by_key
    looks: list[str] = []

    def blind_first(key: str) -> Instance | None:
        looks.append(key)
        return None if len(looks) == 1 else real(key)

    monkeypatch.setattr(schedule.engine, "instance_by_key", blind_first)
    instance, started = schedule.start_monthly_sampling(PERIOD, "city-reviewer")
    assert (instance.id, started) == (other.id, False)
    assert instances_of(PERIOD) == 1


def test_a_claim_left_by_a_dead_caller_does_not_block_the_month(app: Flask, who: People) -> None:
    db.session.add(ScheduledRun(name="monthly_sampling", period=PERIOD,
                                created_at=now() - timedelta(minutes=10)))
    db.session.commit()
    _instance, started = schedule.start_monthly_sampling(PERIOD, "city-reviewer", wait=0)
    assert started and instances_of(PERIOD) == 1


def test_a_fresh_claim_makes_the_tick_move_on_and_the_api_answer_409(
        app: Flask, client: Any, who: People, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone claimed the month a moment ago and has not committed its instance yet: the
    scheduler's tick does not wait for it; a caller who waited for it in vain gets 409."""
    for period in (PERIOD, last_month()):
        db.session.add(ScheduledRun(name="monthly_sampling", period=period))
    db.session.commit()
    app.config["CQPI_SAMPLING_DAY"] = 1
    try:
        assert schedule.monthly_sampling_due() is False
    finally:
        app.config["CQPI_SAMPLING_DAY"] = 0
    monkeypatch.setattr(schedule, "WAIT_SECONDS", 0.3)
    pending = client.post(START, headers=login(client, "city-reviewer"), json={"period": PERIOD})
    assert pending.status_code == 409 and "正在启动" in pending.get_json()["message"]
    assert instances_of(PERIOD) == 0 and instances_of(last_month()) == 0


@pytest.mark.parametrize("user", ["unit", "yz-reviewer", "analyst-1"])
def test_other_roles_may_neither_start_nor_read(client: Any, who: People, user: str) -> None:
    headers = login(client, who.unit.username if user == "unit" else user)
    refused = client.post(START, headers=headers, json={"period": PERIOD})
    assert refused.status_code == 403 and refused.get_json()["message"] == "您的角色不能使用此功能"
    assert client.get(f"{START}/{PERIOD}", headers=headers).status_code == 403
    assert client.get(START, headers=headers).status_code == 403
    assert client.post(START, json={"period": PERIOD}).status_code == 401
    assert instances_of(PERIOD) == 0


def _this_month() -> str:
    return (datetime.strptime(last_month() + "-01", "%Y-%m-%d") + timedelta(days=32)
            ).strftime("%Y-%m")


@pytest.mark.parametrize("sent", [
    {"period": "2026-13"}, {"period": "26-10"}, {"period": "2026-1"}, {"period": 202610},
    {"period": None}, {}, {"period": "1999-12"}, {"period": "2999-01"}, {"period": "this"},
    {"period": "2026-10", "districts": ["500103"]}, "this-month", "not json"])
def test_a_bad_period_is_refused_naming_the_field(client: Any, who: People, sent: Any) -> None:
    if sent == "this-month":  # the current month has not ended: its entries are not all in
        sent = {"period": _this_month()}
    ops = login(client, "ops-1")
    if sent == "not json":
        refused = client.post(START, headers=ops, data="period=2026-10",
                              content_type="text/plain")
    else:
        refused = client.post(START, headers=ops, json=sent)
    # a body that is not JSON is refused for its type, like on every JSON endpoint
    assert refused.status_code == (415 if sent == "not json" else 422), refused.get_json()
    answer = refused.get_json()
    assert not answer["message"].isascii(), answer
    if isinstance(sent, dict) and "districts" not in sent:
        assert answer["errors"]["period"] and answer["message"].startswith("「抽查月份」")
    assert db.session.scalar(sa.select(sa.func.count(Instance.id))) == 0


def test_a_month_never_started_answers_404(client: Any, who: People) -> None:
    missing = client.get(f"{START}/2026-09", headers=login(client, "city-reviewer"))
    assert missing.status_code == 404 and "尚未启动" in missing.get_json()["message"]


def test_the_openapi_document_shows_the_schemas(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    post = doc["paths"]["/api/v1/sampling/monthly"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/MonthlySamplingIn")
    assert {"200", "201"} <= set(post["responses"])
    assert post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/MonthlySamplingOut")
    schemas = doc["components"]["schemas"]
    assert schemas["MonthlySamplingIn"]["required"] == ["period"]
    assert "seed" in schemas["DistrictDrawOut"]["properties"]
    assert "get" in doc["paths"]["/api/v1/sampling/monthly/{period}"]


def test_the_city_starts_and_reads_a_month_on_the_pages(app: Flask, who: People) -> None:
    entries(who, "500103", 12)
    browser = app.test_client()
    sign_in(browser, "city-reviewer", "password-123")
    page = browser.get("/sampling/monthly")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "尚未启动任何月份的抽查" in text
    assert 'href="/sampling/monthly">月度抽查</a>' in text  # in the menu
    assert f'value="{last_month()}"' in text  # last month by default

    token = csrf(browser, "/sampling/monthly")
    assert browser.post("/sampling/monthly", data={"period": PERIOD}).status_code == 400  # CSRF
    bad = browser.post("/sampling/monthly", data={"period": "2999-01", "csrf_token": token})
    assert bad.status_code == 422 and "应为已结束的月份" in bad.get_data(as_text=True)
    started = browser.post("/sampling/monthly", data={"period": PERIOD, "csrf_token": token})
    assert started.status_code == 302
    assert started.headers["Location"].endswith(f"/sampling/monthly/{PERIOD}")
    month = browser.get(f"/sampling/monthly/{PERIOD}").get_data(as_text=True)
    assert f"已启动 {PERIOD} 月度抽查" in month and "系统正在抽取" in month

    settle(app)
    month = browser.get(f"/sampling/monthly/{PERIOD}").get_data(as_text=True)
    assert "渝中区" in month and "当月入库、补录 <strong>12</strong> 项" in month
    assert "抽取 <strong>2</strong> 项" in month and "测试项目" in month
    again = browser.post("/sampling/monthly", data={"period": PERIOD, "csrf_token": token},
                         follow_redirects=True)
    assert "此前已启动，未重复启动" in again.get_data(as_text=True)
    listing = browser.get("/sampling/monthly").get_data(as_text=True)
    assert f'href="/sampling/monthly/{PERIOD}">{PERIOD}</a>' in listing and "已抽取" in listing
    assert instances_of(PERIOD) == 1

    missing = browser.get("/sampling/monthly/2026-09")
    assert missing.status_code == 404 and "尚未启动" in missing.get_data(as_text=True)
    district = app.test_client()
    sign_in(district, "yz-reviewer", "password-123")
    assert district.get("/sampling/monthly").status_code == 403
    assert 'href="/sampling/monthly"' not in district.get("/tasks").get_data(as_text=True)
