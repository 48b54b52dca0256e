"""What a reviewer sees on a task (issue 18): a second round shows the last return's reasons,
the applicant's 修改说明 and the fields changed since the return (kept at return time in the
instance's data), all escaped; an objection task shows the objection before the form; the
attachments are a list whose previews open on demand."""

from __future__ import annotations

import copy
import re
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import Flask

import lifecycle
from engine.db import db
from engine.models import Event, Instance
from engine.state import data_of
from lifecycle import reviews
from registry.models import Application, PublicityNotice, User
from tests.processes.helpers import open_task, settle
from tests.registry.test_applications import hm_stages
from tests.web.test_pages import _application, demo_app, sign_in  # noqa: F401 (fixture)
from web.pages import dossier

HOSTILE_REASON = '<script>alert("reason")</script>合同金额与中标金额不一致'
HOSTILE_NOTE = '<img src=x onerror=alert(1)>已按中标通知书核对合同金额'


def _user(username: str) -> User:
    user = db.session.scalar(sa.select(User).filter_by(username=username))
    assert user is not None
    return user


def _review(application: Application, **problems: str) -> dict[str, Any]:
    return {"items": [{"item": item, "result": "problem", "reason": problems[item]}
                      if item in problems else {"item": item, "result": "pass"}
                      for item in [*sorted(application.stages), "attachments"]],
            "comment": "<b>请逐项核对</b>"}


def returned_and_resubmitted(app: Flask, amount: str = "9750",
                             note: str = HOSTILE_NOTE) -> Application:
    """An intake of qiye's returned by yuzhong for its contract, amended and resubmitted."""
    application = _application()
    lifecycle.tasks.complete_task(open_task(application).id, _review(
        application, contract=HOSTILE_REASON), _user("yuzhong"))
    settle(app)
    stages = hm_stages()
    stages["contract"]["amount"] = amount
    lifecycle.submission.amend(application.id, _user("qiye"), stages)
    lifecycle.submission.submit(application.id, _user("qiye"), note)
    settle(app)
    resubmitted = db.session.get(Application, application.id)
    assert resubmitted is not None and resubmitted.status == "submitted"
    return resubmitted


def test_a_return_keeps_the_returned_stage_data_in_the_instance(demo_app: Flask) -> None:  # noqa: F811
    application = returned_and_resubmitted(demo_app)
    instance = db.session.get(Instance, application.instance_id)
    assert instance is not None
    kept = data_of(instance.state)[reviews.RETURNED_DATA]
    assert kept["contract"]["amount"] == "9800.00"  # as returned, not as amended
    assert application.data["contract"]["amount"] == "9750.00"


def test_the_second_round_shows_reasons_note_and_changed_fields_escaped(
        demo_app: Flask) -> None:  # noqa: F811
    application = returned_and_resubmitted(demo_app)
    task = open_task(application)
    client = demo_app.test_client()
    sign_in(client, "yuzhong")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    top = page[page.index('id="previous-round"'):page.index('class="workbench')]
    assert "第 2 轮审核" in top
    assert "&lt;script&gt;alert(&#34;reason&#34;)&lt;/script&gt;合同金额与中标金额不一致" in top
    assert "&lt;b&gt;请逐项核对&lt;/b&gt;" in top  # the comment, under 审核意见
    assert "&lt;img src=x onerror=alert(1)&gt;已按中标通知书核对合同金额" in top
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>请" not in page
    changed = re.search(r'<table class="list changes" id="changed-fields">.*?</table>', top, re.S)
    assert changed is not None
    rows = re.findall(r"<tr><td>(.*?)</td><th scope=\"row\"><a href=\"#stage-(\w+)\">(.*?)</a>"
                      r"</th><td class=\"was\">(.*?)</td><td class=\"now\">(.*?)</td></tr>",
                      changed.group(0))
    assert rows == [("合同登记", "contract", "合同金额", "9800.00 万元", "9750.00 万元")]
    contract = page[page.index('id="stage-contract"'):page.index('id="stage-completion"')
                    if page.index('id="stage-completion"') > page.index('id="stage-contract"')
                    else None]
    assert re.search(r'<dt class="changed">合同金额 <span class="tag changed-tag">本轮已修改',
                     contract)
    assert "上一轮：9800.00 万元" in contract
    assert page.count('<dt class="changed">') == 1  # nothing else is marked
    assert "上一轮退回理由" in contract  # beside the stage it concerns too


def test_a_resubmission_without_changes_or_note_says_so(demo_app: Flask) -> None:  # noqa: F811
    application = returned_and_resubmitted(demo_app, amount="9800", note="")
    client = demo_app.test_client()
    sign_in(client, "yuzhong")
    page = client.get(f"/tasks/{open_task(application).id}").get_data(as_text=True)
    assert "申请单位未填写修改说明" in page and "没有修改的字段" in page
    assert '<dt class="changed">' not in page


def test_a_return_from_before_the_snapshots_shows_reasons_and_note_and_says_so(
        demo_app: Flask) -> None:  # noqa: F811
    """An instance returned before returns kept their data: no fields can be marked."""
    application = returned_and_resubmitted(demo_app)
    for event in db.session.scalars(sa.select(Event).filter_by(
            instance_id=application.instance_id, kind="job_succeeded")):
        result = dict((event.data or {}).get("result") or {})
        if result.pop(reviews.RETURNED_DATA, None) is not None:
            event.data = {**event.data, "result": result}
    db.session.commit()
    client = demo_app.test_client()
    sign_in(client, "yuzhong")
    page = client.get(f"/tasks/{open_task(application).id}").get_data(as_text=True)
    assert "上一轮退回时的申报数据未留存" in page and '<dt class="changed">' not in page
    assert "已按中标通知书核对合同金额" in page and "合同金额与中标金额不一致" in page


def test_the_first_round_and_the_applicants_task_show_no_previous_round(
        demo_app: Flask) -> None:  # noqa: F811
    application = _application()
    client = demo_app.test_client()
    sign_in(client, "yuzhong")
    assert 'id="previous-round"' not in client.get(
        f"/tasks/{open_task(application).id}").get_data(as_text=True)


def _event(kind: str, **data: Any) -> Any:
    return SimpleNamespace(kind=kind, data=data, created_at=None, actor="yz")


def test_previous_round_reads_the_last_answered_return() -> None:
    returned = {"contract": {"amount": "1"}}
    events = [
        _event("task_completed", decision="return", items=[
            {"item": "contract", "result": "problem", "reason": "第一轮"}]),
        _event("job_succeeded", result={reviews.RETURNED_DATA: {"contract": {"amount": "0"}}}),
        _event("task_completed", action="resubmit", note="一"),
        _event("task_completed", decision="return", items=[
            {"item": "bidding", "result": "problem", "reason": "第二轮"}]),
        _event("job_succeeded", result={reviews.RETURNED_DATA: returned}),
        _event("task_completed", action="resubmit", note="二"),
        _event("job_succeeded", result={"application_status": "submitted"}),
    ]
    found = reviews.previous_round(events)
    assert found is not None
    assert (found.reasons, found.note, found.data, found.items) == (
        {"bidding": ["第二轮"]}, "二", returned, ["bidding"])
    assert reviews.previous_round(events[:4]) is not None  # answered round 1, in round 2
    assert reviews.previous_round(events[:2]) is None  # returned, not yet resubmitted
    # a return from before the snapshots were kept: reasons and note, no data
    old = reviews.previous_round([events[0], events[2]])
    assert old is not None and old.data is None and old.reasons == {"contract": ["第一轮"]}


def test_changes_compare_shown_values_of_both_rounds() -> None:
    before = hm_stages()
    after = copy.deepcopy(before)
    after["contract"]["amount"] = "9750"
    del after["completion"]
    found = dossier.changes(before, after)
    assert [(c.stage, c.label, c.after) for c in found][:1] == [
        ("contract", "合同金额", "9750 万元")]
    assert {c.stage for c in found} == {"contract", "completion"}
    assert all(c.after == dossier.EMPTY for c in found if c.stage == "completion")
    assert dossier.changes(before, copy.deepcopy(before)) == []


def test_an_objection_task_shows_the_objection_first_and_attachments_as_a_list(
        demo_app: Flask) -> None:  # noqa: F811
    application = _application()
    lifecycle.tasks.complete_task(open_task(application).id, _review(application),
                                  _user("yuzhong"))
    settle(demo_app)
    notice = db.session.scalar(sa.select(PublicityNotice))
    assert notice is not None
    lifecycle.events.raise_objection(notice.id, {
        "name": "王五<i>", "contact": "023-12345678",
        "content": "<script>x()</script>该项目实际未竣工"})
    task = open_task(application)
    assert task.form_key == "objection_ruling"
    client = demo_app.test_client()
    sign_in(client, "yuzhong")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    objection = page.index('id="objections"')
    assert objection < page.index('id="work"') < page.index('id="data"') \
        < page.index('id="attachments"')
    assert "&lt;script&gt;x()&lt;/script&gt;该项目实际未竣工" in page and "<script>x()" not in page
    assert "王五&lt;i&gt;" in page and "页面测试项目" in page[objection:page.index('id="work"')]
    assert "<iframe" not in page and "<embed" not in page  # nothing loads before 预览
    buttons = re.findall(r'<button type="button" class="preview-open" data-preview="'
                         r'(/attachments/\d+)" data-preview-type="pdf"', page)
    assert len(buttons) == 4
    assert 'id="viewer"' in page and "/vendor/pdfjs/build/pdf.min.mjs" in page


def test_pdfjs_and_its_worker_are_served_as_javascript_from_our_origin(
        demo_app: Flask) -> None:  # noqa: F811
    client = demo_app.test_client()
    for name in ("build/pdf.min.mjs", "build/pdf.worker.min.mjs"):
        answer = client.get(f"/vendor/pdfjs/{name}")
        answer.close()
        assert answer.status_code == 200 and answer.mimetype == "text/javascript"
        assert answer.headers["Content-Security-Policy"].startswith("default-src 'self'")
