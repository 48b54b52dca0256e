"""The ops instance page and its neighbours without a browser: data readable and escaped,
incidents as a one-line cause with the detail folded and no server paths, retry only with
a reason (page, bulk and API), Beijing times, the repair section only when something
applies, and the search by project number finding a project's every procedure."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
import lifecycle
from engine.db import db
from engine.faults import PREFIXES, explain
from engine.models import Event, Incident, Timer
from handlers.inspection import open_inspection
from handlers.sampling import monthly_key
from handlers.schedule import MONTHLY_SAMPLING
from registry import demo
from registry.models import Application, AuditEvent, SamplingDraw, User
from tests.conftest import Simulator
from tests.processes.helpers import HM_ITEMS, REVIEW_OK, open_task, settle
from tests.web.test_api import login
from tests.web.test_pages import _application, csrf, demo_app, sign_in  # noqa: F401 (fixture)


@pytest.fixture
def ops_app(demo_app: Flask) -> Flask:  # noqa: F811
    """The app with the procedures deployed and the demo users (``yunwei`` is ops)."""
    return demo_app


HOSTILE = "<script>alert(1)</script>同意"
REPOSITORY = PREFIXES[-1]


def _reviewed(app: Flask, data: dict[str, Any] | None = None) -> Application:
    application = _application()
    settle(app)
    user = db.session.scalar(sa.select(User).filter_by(username="yuzhong"))
    lifecycle.tasks.complete_task(open_task(application).id, data or REVIEW_OK, user)
    settle(app)
    return application


def _failed_push(app: Flask, national: Simulator) -> Application:
    application = _reviewed(app)
    national.state.fail_next = 100  # the national platform is down
    settle(app, travel=timedelta(days=20))
    assert db.session.scalar(sa.select(Incident).filter_by(
        instance_id=application.instance_id, resolved_at=None)) is not None
    national.state.fail_next = 0
    return application


def _ops(app: Flask) -> Any:
    client = app.test_client()
    sign_in(client, "yunwei")
    return client


def test_instance_data_is_readable_chinese_folded_by_key_and_escaped(ops_app: Flask) -> None:
    problem = {"items": [{"item": "contract", "result": "problem", "reason": HOSTILE},
                         *({"item": i, "result": "pass"} for i in HM_ITEMS if i != "contract")]}
    application = _reviewed(ops_app, problem)
    page = _ops(ops_app).get(f"/ops/instances/{application.instance_id}").get_data(
        as_text=True)
    data = page[page.index('id="instance-data"'):page.index("<h2>事件</h2>")]
    assert "<details" in data and "<summary>items</summary>" in data
    assert "&lt;script&gt;alert(1)&lt;/script&gt;同意" in data
    items = data[data.index("<summary>items</summary>"):data.index("<summary>kind</summary>")]
    assert "<summary>逐项核实申报信息办理时提交（" in items  # the value the review gave, then
    assert "yuzhong）</summary>" in items and items.count("alert(1)") == 2
    shown = re.sub(r'<script type="application/json".*?</script>', "", page, flags=re.DOTALL)
    assert "\\u540c" not in shown and "<script>alert(1)" not in page  # JSON for scripts only
    timeline = page[page.index("<h2>事件</h2>"):]
    assert "办理时提交的数据" in timeline  # what the review submitted, at its time
    assert "&lt;script&gt;alert(1)&lt;/script&gt;同意" in timeline


def test_an_incident_shows_its_decoded_cause_and_folds_a_detail_without_paths(
        ops_app: Flask, national: Simulator) -> None:
    application = _failed_push(ops_app, national)
    stored = db.session.scalar(sa.select(Incident.error).filter_by(
        instance_id=application.instance_id))
    assert stored and "\\u" in stored and REPOSITORY in stored  # what the worker stored
    cause = "全国平台返回 503: 模拟故障: 全国平台暂时不可用"
    ops = _ops(ops_app)
    for path in (f"/ops/instances/{application.instance_id}", "/ops/incidents"):
        page = ops.get(path).get_data(as_text=True)
        assert f'<p class="cause">{cause}</p>' in page, path
        assert "<details><summary>技术详情</summary>" in page and "Traceback" in page
        shown = re.sub(r'<script type="application/json".*?</script>', "", page,
                       flags=re.DOTALL)  # JSON for the diagram's script, \\u escapes and all
        assert REPOSITORY not in page and "site-packages" not in page and "\\u" not in shown
    answer = ops_app.test_client().get(
        f"/api/v1/instances/{application.instance_id}",
        headers=login(ops_app.test_client(), "yunwei", demo.PASSWORD)).get_json()
    [incident] = answer["incidents"]
    assert incident["cause"] == cause
    assert REPOSITORY not in incident["error"] and "Traceback" in incident["error"]


def test_explain_keeps_one_line_and_strips_every_prefix() -> None:
    text = ('ValueError: 全国平台返回 400: {"error": {"message": "\\u7f3a\\u5c11\\u9879\\u76ee"}}'
            f'\nTraceback (most recent call last):\n  File "{REPOSITORY}handlers/push.py",'
            ' line 3, in _send\n  File "/opt/elsewhere/lib/x.py", line 9, in f')
    shown = explain(text)
    assert shown.cause == "全国平台返回 400: 缺少项目"
    assert 'File "handlers/push.py"' in shown.detail and 'File "x.py"' in shown.detail
    assert '{"error": {"message": "缺少项目"}}' in shown.detail
    assert explain("StepFailed: 条件表达式出错").cause == "条件表达式出错"
    assert explain(None).cause == "未知错误"


def test_retry_requires_a_reason_and_records_it(ops_app: Flask, national: Simulator) -> None:
    application = _failed_push(ops_app, national)
    instance_id = application.instance_id
    ops = _ops(ops_app)
    token = csrf(ops, f"/ops/instances/{instance_id}")
    page = ops.get(f"/ops/instances/{instance_id}").get_data(as_text=True)
    assert 'id="retry-reason" name="reason" required' in page
    refused = ops.post(f"/ops/instances/{instance_id}/retry",
                       data={"csrf_token": token, "reason": "  "}, follow_redirects=True)
    assert "重试须填写原因" in refused.get_data(as_text=True)
    bulk = ops.post("/ops/incidents/retry", data={"csrf_token": token,
                                                  "instance": str(instance_id)},
                    follow_redirects=True)
    assert "重试须填写原因" in bulk.get_data(as_text=True)
    api = ops_app.test_client()
    headers = login(api, "yunwei", demo.PASSWORD)
    answer = api.post(f"/api/v1/instances/{instance_id}/retry", headers=headers, json={})
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["json"]["reason"] == ["「原因」必填"]
    assert db.session.scalar(sa.select(Incident).filter_by(
        instance_id=instance_id, resolved_at=None)) is not None  # nothing was retried
    done = ops.post("/ops/incidents/retry", data={"csrf_token": token, "reason": "全国平台已恢复",
                                                  "instance": str(instance_id)},
                    follow_redirects=True)
    assert "已重试 1 个实例" in done.get_data(as_text=True)
    retried = db.session.scalar(sa.select(Event).filter_by(instance_id=instance_id,
                                                           kind="instance_retried"))
    assert retried is not None and retried.data["reason"] == "全国平台已恢复"
    audited = db.session.scalar(sa.select(AuditEvent).filter_by(
        action="instance_retry", object=f"instance:{instance_id}"))
    assert audited is not None and audited.data == {"reason": "全国平台已恢复"}
    settle(ops_app)
    shown = ops.get(f"/ops/instances/{instance_id}").get_data(as_text=True)
    assert "全国平台已恢复" in shown[shown.index("<h2>事件</h2>"):]
    assert "已完成" in shown and 'id="repair"' not in shown  # nothing left to do


def test_ops_times_are_beijing_times(ops_app: Flask) -> None:
    application = _reviewed(ops_app)  # in publicity: a timer waits
    timer = db.session.scalar(sa.select(Timer).filter_by(instance_id=application.instance_id,
                                                         status="open"))
    assert timer is not None
    beijing = (timer.due_at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    page = _ops(ops_app).get(f"/ops/instances/{application.instance_id}").get_data(
        as_text=True)
    waits = page[page.index("<h2>待办任务与等待</h2>"):page.index("<h2>数据</h2>")]
    assert f"到期 {beijing}" in waits and timer.due_at.isoformat() not in waits
    details = re.search(r'id="diagram-details">(.*?)</script>', page, re.DOTALL)
    assert details is not None
    times = re.findall(r'"at": ?"([^"]*)"', details.group(1))
    assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", t) for t in times)
    queues = _ops(ops_app).get("/ops/queues").get_data(as_text=True)
    assert beijing in queues


def test_an_ended_instance_has_no_repair_section(ops_app: Flask) -> None:
    application = _application()
    settle(ops_app)
    ops = _ops(ops_app)
    assert 'id="repair"' in ops.get(f"/ops/instances/{application.instance_id}").get_data(
        as_text=True)
    engine.terminate(application.instance_id, "yunwei", "重复申请")
    page = ops.get(f"/ops/instances/{application.instance_id}").get_data(as_text=True)
    assert 'id="repair"' not in page and "<h2>处理</h2>" not in page


def test_searching_by_project_number_finds_its_inspections_and_samplings(
        ops_app: Flask) -> None:
    application = _application()
    settle(ops_app)
    other = _application()
    number = "5001032026000001"  # given when the intake is approved; here at once
    application.project.project_number = number
    inspection = open_inspection(application.project_id, "complaint")
    db.session.add(SamplingDraw(kind="monthly", period="2026-10", scope="500103",
                                population=[application.id, other.id], seed="s", quota=1,
                                drawn=[application.id]))
    db.session.add(SamplingDraw(kind="monthly", period="2026-09", scope="500103",
                                population=[other.id], seed="s", quota=1, drawn=[other.id]))
    db.session.commit()
    for period in ("2026-10", "2026-09"):
        engine.start(MONTHLY_SAMPLING, business_key=monthly_key(period), scope="city",
                     actor="system", data={"period": period})
    page = _ops(ops_app).get("/ops/instances", query_string={"key": number}).get_data(
        as_text=True)
    shown = set(re.findall(r"<td>((?:application|inspection|monthly-sampling)-[\w-]+)</td>",
                           page))
    assert shown == {f"application-{application.id}", f"inspection-{inspection.id}",
                     monthly_key("2026-10")}
