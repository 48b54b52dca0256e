"""The pages of the procedures analysts deploy (issue 17) without a browser: the portal's
办理其他事项, a start page that keeps a refused form's data, the refusals (another role's
procedure, a product procedure, no CSRF token), the deployed form's task page, and ops."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine.db import db
from engine.models import Instance, InstanceStatus, UserTask
from registry import demo
from tests.lifecycle.test_starts import deployment
from tests.processes.helpers import deploy_processes
from tests.web.test_pages import csrf, sign_in
from web.pages.pages_util import field_errors

NUMBER = "5001032024010001"
"""The demo builder's project in Yuzhong: its district reviewer is yuzhong."""
START = {"project_number": NUMBER, "data_accurate": "no",
         "progress": {"percent": 80, "checked_on": "2026-03-02"}, "issues": ["area"],
         "explanation": "建筑面积登记有误"}
VALUES = re.compile(r'<script type="application/json" id="task-form-values">(.*?)</script>',
                    re.DOTALL)
ERRORS = re.compile(r'<script type="application/json" id="task-form-errors">(.*?)</script>',
                    re.DOTALL)
HOSTILE = "</script><script>alert(1)</script>"


@pytest.fixture
def deployed(app: Flask) -> Flask:
    deploy_processes()
    demo.load()
    engine.deploy(deployment(), engine.catalog())
    db.session.commit()
    return app


def _client(app: Flask, username: str) -> Any:
    client = app.test_client()
    sign_in(client, username)
    return client


def _start(client: Any, data: dict[str, Any], key: str = "self_check",
           token: str | None = None) -> Any:
    return client.post(f"/start/{key}", data={
        "csrf_token": csrf(client, "/start") if token is None else token,
        "form_data": json.dumps(data, ensure_ascii=False)})


def _shown_values(page: str) -> dict[str, Any]:
    found = VALUES.search(page)
    assert found, "no form values on the page"
    return dict(json.loads(found.group(1)))


def _instances() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Instance)) or 0


def test_an_enterprise_starts_it_from_the_portal_and_the_district_completes_it(
        deployed: Flask) -> None:
    qiye = _client(deployed, "qiye")
    portal = qiye.get("/portal").get_data(as_text=True)
    assert "办理其他事项" in portal and 'href="/start/self_check"' in portal
    page = qiye.get("/start/self_check").get_data(as_text=True)
    assert 'data-formjs="task-form-schema"' in page and "form-viewer.umd.js" in page
    assert "formview.js" in page and "form-js.css" in page

    done = _start(qiye, START)
    assert done.status_code == 302 and done.headers["Location"].endswith("/start")
    shown = qiye.get("/start").get_data(as_text=True)
    assert re.search(r"已提交“项目数据年度自查”，业务编号 self_check-\d{8}-\w{6}", shown), shown

    yuzhong = _client(deployed, "yuzhong")
    inbox = yuzhong.get("/tasks").get_data(as_text=True)
    task = db.session.scalar(sa.select(UserTask).filter_by(name="区县审核"))
    assert task is not None and f"/tasks/{task.id}" in inbox
    assert "项目数据年度自查" in inbox
    page = yuzhong.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "form-viewer.umd.js" in page and "self_check_review" in page
    assert "项目数据年度自查" in page and "self_check-" in page and NUMBER in page
    token = csrf(yuzhong, f"/tasks/{task.id}")
    refused = yuzhong.post(f"/tasks/{task.id}", data={
        "csrf_token": token, "form_data": json.dumps({"decision": "maybe", "comment": "再核"})})
    assert refused.status_code == 422
    assert _shown_values(refused.get_data(as_text=True)) == {"decision": "maybe",
                                                              "comment": "再核"}
    ok = yuzhong.post(f"/tasks/{task.id}", data={
        "csrf_token": token, "form_data": json.dumps({"decision": "approve"})})
    assert ok.status_code == 302, ok.get_data(as_text=True)
    db.session.expire_all()
    instance = db.session.scalar(sa.select(Instance).where(
        Instance.business_key.like("self_check-%")))
    assert instance is not None and instance.status == InstanceStatus.COMPLETED

    ops = _client(deployed, "yunwei")
    listed = ops.get("/ops/instances?process=self_check").get_data(as_text=True)
    assert "项目数据年度自查" in listed and instance.business_key in listed
    assert "已完成" in listed
    one = ops.get(f"/ops/instances/{instance.id}")
    assert one.status_code == 200 and "项目数据年度自查" in one.get_data(as_text=True)
    assert "建筑面积登记有误" in one.get_data(as_text=True)  # its data as written


def test_a_refused_start_keeps_what_was_entered_and_names_the_field(deployed: Flask) -> None:
    qiye = _client(deployed, "qiye")
    stranger = {**START, "project_number": "5001039999999999"}
    refused = _start(qiye, stranger)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "未找到您可办理的项目" in page
    assert _shown_values(page) == stranger
    assert _instances() == 0


def test_a_refused_forms_errors_come_as_json_for_formview_to_put_on_the_fields(
        deployed: Flask) -> None:
    """The errors by field key in a JSON block the container names (formview.js puts them on
    the fields), and listed above the form by key (it keeps those of no field); a posted key
    that closes the script is escaped in both, and nothing is started."""
    qiye = _client(deployed, "qiye")
    refused = _start(qiye, {**START, "project_number": "5001039999999999", HOSTILE: "x"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert HOSTILE not in page and "<script>alert" not in page
    assert 'data-formjs-errors="task-form-errors" data-formjs-error-list="form-errors"' in page
    found = ERRORS.search(page)
    assert found, "no errors block on the page"
    assert json.loads(found.group(1)) == {HOSTILE: [f"表单中没有“{HOSTILE[:40]}”这一项"]}
    assert 'data-key="&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    # the form's own problems known, the server's check of the project comes next
    refused = _start(qiye, {**START, "project_number": "5001039999999999"})
    page = refused.get_data(as_text=True)
    found = ERRORS.search(page)
    assert found and json.loads(found.group(1)) == {
        "project_number": ["未找到您可办理的项目（项目编号 5001039999999999）"]}
    assert '<li data-key="project_number">未找到您可办理的项目' in page
    refused = _start(qiye, {**START, "progress": {"percent": 120, "checked_on": "2026-03-02"}})
    found = ERRORS.search(refused.get_data(as_text=True))
    assert found and list(json.loads(found.group(1))) == ["progress.percent"]
    assert "task-form-errors" not in qiye.get("/start/self_check").get_data(as_text=True)
    assert _instances() == 0


def test_a_refusals_errors_read_by_field_key() -> None:
    assert field_errors({"_schema": ["整体"], "a": "一条", "g": {"b": ["嵌套"], "c": None},
                         "n": None}) == {"_schema": ["整体"], "a": ["一条"], "g.b": ["嵌套"]}
    assert field_errors(None) == {} and field_errors(["x"]) == {}


def test_another_roles_or_a_product_procedure_or_a_forged_post_is_refused(
        deployed: Flask) -> None:
    yuzhong = _client(deployed, "yuzhong")
    assert "暂无可办理的其他事项" in yuzhong.get("/start").get_data(as_text=True)
    for answer in (yuzhong.get("/start/self_check"), _start(yuzhong, START)):
        assert answer.status_code == 403
        assert "您的角色不能启动" in answer.get_data(as_text=True)
    qiye = _client(deployed, "qiye")
    assert qiye.get("/start/intake").status_code == 409
    assert "由申请启动" in qiye.get("/start/intake").get_data(as_text=True)
    assert qiye.get("/start/nothing").status_code == 404
    forged = _start(qiye, START, token="forged")
    assert forged.status_code == 400 and "CSRF" in forged.get_data(as_text=True)
    assert _instances() == 0
