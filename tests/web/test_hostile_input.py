"""Hostile and malformed input: every refusal is a 4xx with a Chinese message, never a 500 or a
traceback (issue 14). Runs on each backend: a lone surrogate that reached the database would
fail differently on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from marshmallow import ValidationError

import engine
from engine.db import db
from engine.models import Instance, UserTask
from forms.html import MAX_ROWS, PostedFormInvalid, parse
from forms.tasks import Review
from registry import users
from tests.conftest import BPMN, deploy
from tests.engine.test_runtime import open_tasks
from tests.processes.helpers import People, signed_people
from tests.web.test_api import login, open_intake
from tests.web.test_pages import csrf, sign_in
from web.api.errors import MAX_JSON_DEPTH, json_depth, lone_surrogate_at

CJK = re.compile(r"[\u4e00-\u9fff]")

LONE = b'"\\ud800"'
"""A lone surrogate as it arrives in a JSON body (the escape; UTF-8 cannot carry it raw)."""


def refused(response: Any, status: int) -> dict[str, Any]:
    """The refusal's JSON, after checking its status, its Chinese message and no traceback."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.mimetype == "application/json", text
    body = response.get_json()
    assert isinstance(body["message"], str) and CJK.search(body["message"]), body
    assert "Traceback" not in text and 'File "' not in text
    return dict(body)


@pytest.fixture
def who(app: Flask) -> People:
    return signed_people()


@pytest.fixture
def unit(client: Any, who: People) -> dict[str, str]:
    return login(client, who.unit.username)


def post_json(client: Any, path: str, body: bytes, headers: dict[str, str] | None = None,
              ) -> Any:
    return client.post(path, data=body, content_type="application/json", headers=headers or {})


# The frameworks' refusals, in Chinese.

def test_a_body_that_is_not_json_is_400(client: Any) -> None:
    body = refused(post_json(client, "/api/v1/auth/token", b'{"username": '), 400)
    assert body["message"] == "请求格式有误：请求体不是有效的 JSON"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/xml"])
def test_a_body_that_is_not_json_for_a_json_endpoint_is_415(client: Any,
                                                             content_type: str) -> None:
    response = client.post("/api/v1/auth/token", content_type=content_type,
                           data=b'{"username": "a", "password": "b"}')
    body = refused(response, 415)
    assert "application/json" in body["message"]


def test_multipart_still_reaches_the_upload_endpoint(client: Any, unit: dict[str, str]) -> None:
    response = client.post("/api/v1/applications/999/attachments", headers=unit,
                           content_type="multipart/form-data", data={"kind": "report"})
    assert "file" in refused(response, 422)["errors"]  # not 415: this endpoint takes multipart


def test_an_unknown_address_is_404(client: Any) -> None:
    assert refused(client.get("/api/v1/no-such-thing"), 404)["message"] == "请求的地址不存在"
    refused(client.get("/api/v1/applications/99999999999999"), 404)  # beyond the converter


def test_a_wrong_method_is_405_naming_the_allowed_ones(client: Any) -> None:
    response = client.delete("/api/v1/auth/token")
    assert refused(response, 405)["message"] == "不支持该请求方法（可用: POST）"
    assert "POST" in response.headers["Allow"]


def test_a_body_over_the_limit_is_413_naming_the_limit(app: Flask, client: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    big = b'{"username": "' + b"a" * (1024 * 1024) + b'", "password": "x"}'
    body = refused(post_json(client, "/api/v1/auth/token", big), 413)
    assert body["message"] == "上传内容过大（上限 1 MB）"


def test_webargs_422_answers_in_chinese_and_keeps_the_field_errors(
        client: Any, unit: dict[str, str]) -> None:
    body = refused(post_json(client, "/api/v1/applications", b"{}", unit), 422)
    assert body["message"] == "提交的数据有误，请按提示修改"
    assert body["errors"]["json"]["kind"] == ["「申请类型」必填"]
    query = refused(client.get("/api/v1/applications?page=abc", headers=unit), 422)
    assert query["message"] == "提交的数据有误，请按提示修改"
    assert "page" in query["errors"]["query"]


def test_our_own_chinese_messages_are_kept(client: Any) -> None:
    assert refused(client.get("/api/v1/applications"), 401)["message"] == "请先登录"


# Nesting deeper than the parsers' recursion.

def nested(depth: int, inner: bytes = b"1") -> bytes:
    return b"[" * depth + inner + b"]" * depth


@pytest.mark.parametrize("body", [
    b"[" * 100_000,
    b'{"username": ' + nested(5000) + b', "password": "x"}',
    b'{"username": ' + b'{"a": ' * 3000 + b"1" + b"}" * 3000 + b"}",
    nested(MAX_JSON_DEPTH + 1),
])
def test_json_nested_too_deeply_is_400_at_sign_in(client: Any, body: bytes) -> None:
    message = refused(post_json(client, "/api/v1/auth/token", body), 400)["message"]
    assert message == f"请求格式有误：JSON 嵌套过深（上限 {MAX_JSON_DEPTH} 层）"


def test_json_nested_too_deeply_is_400_on_every_json_endpoint(
        client: Any, unit: dict[str, str]) -> None:
    body = b'{"kind": ' + nested(5000) + b', "stages": {}}'
    refused(post_json(client, "/api/v1/applications", body, unit), 400)
    refused(post_json(client, "/api/v1/complaints", b'{"content": ' + nested(5000) + b"}"), 400)
    refused(post_json(client, "/api/v1/tasks/x/complete", nested(5000), unit), 400)


def test_nesting_within_the_limit_and_brackets_in_text_are_read_as_usual(
        client: Any, unit: dict[str, str]) -> None:
    body = b'{"kind": ' + nested(MAX_JSON_DEPTH - 1) + b', "stages": {}}'
    assert refused(post_json(client, "/api/v1/applications", body, unit), 422)["errors"]
    brackets = b'{"username": "nobody", "password": "' + b"[{" * 100 + b'\\"["}'
    refused(post_json(client, "/api/v1/auth/token", brackets), 401)  # a wrong password


def test_json_depth_skips_strings_and_stays_linear() -> None:
    assert json_depth(nested(100)) == 100
    assert json_depth(b'["' + b"[" * 100 + b'"]') == 1
    assert json_depth(b'["\\"' + b"[" * 100 + b'"]') == 1
    assert json_depth(b'"' + b'\\"' * 1_000_000) == 0  # unterminated: no quadratic re-scan


# Lone surrogates: the forms name the field; elsewhere the request is refused before a view.

def test_a_lone_surrogate_in_a_form_field_names_the_field(client: Any,
                                                          unit: dict[str, str]) -> None:
    body = b'{"kind": "intake", "stages": {}, "project": {"name": ' + LONE + b"}}"
    refusal = refused(post_json(client, "/api/v1/applications", body, unit), 422)
    [message] = refusal["errors"]["project"]["name"]
    assert message.startswith("「项目名称」含有无效字符")
    sign_in_body = b'{"username": ' + LONE + b', "password": "x"}'
    refusal = refused(post_json(client, "/api/v1/auth/token", sign_in_body), 422)
    assert refusal["errors"]["json"]["username"][0].startswith("「用户名」含有无效字符")


def test_a_lone_surrogate_in_a_public_form_names_the_field(client: Any) -> None:
    body = b'{"project_name": "\xe6\x9f\x90\xe9\xa1\xb9\xe7\x9b\xae", "content": ' + LONE + b"}"
    refusal = refused(post_json(client, "/api/v1/complaints", body), 422)
    [message] = refusal["errors"]["content"]
    assert message.startswith("「") and "含有无效字符" in message


def test_a_lone_surrogate_in_a_json_key_is_refused(client: Any, unit: dict[str, str]) -> None:
    refusal = refused(post_json(client, "/api/v1/auth/token", b"{" + LONE + b': "a"}'), 422)
    assert "字段名" in refusal["message"]
    body = b'{"kind": "intake", "stages": {' + LONE + b": {}}}"
    refusal = refused(post_json(client, "/api/v1/applications", body, unit), 422)
    assert "stages.\\ud800" in refusal["message"]


@pytest.fixture
def ops(app: Flask, client: Any) -> Iterator[dict[str, str]]:
    users.create_user("ops-1", "password-123", "ops", "运维")
    db.session.commit()
    yield login(client, "ops-1")


def test_a_lone_surrogate_in_an_ops_reason_is_refused_naming_the_field(
        client: Any, ops: dict[str, str]) -> None:
    """The ops reason would have reached the history (PostgreSQL's jsonb refuses it, SQLite
    stores it and a page then fails to show it): refused, naming the field."""
    deploy("flow.bpmn")
    instance_id = engine.start("flow", business_key="P-1", data={"title": "t",
                                                                 "wait": "PT1H"}).id
    body = b'{"reason": ' + LONE + b"}"
    refusal = refused(post_json(client, f"/api/v1/instances/{instance_id}/suspend", body, ops),
                      422)
    assert refusal["errors"]["json"]["reason"][0].startswith("「原因」含有无效字符")
    db.session.expire_all()
    instance = db.session.get(Instance, instance_id)
    assert instance is not None and instance.status != "suspended"
    done = post_json(client, f"/api/v1/instances/{instance_id}/suspend",
                     '{"reason": "核查 😀"}'.encode(), ops)
    assert done.status_code == 200, done.get_json()


def test_a_surrogate_pair_is_an_ordinary_character(client: Any) -> None:
    body = b'{"username": "\\ud83d\\ude00", "password": "x"}'
    refused(post_json(client, "/api/v1/auth/token", body), 401)  # a wrong password, no more


def test_lone_surrogate_at_finds_keys_always_and_values_when_asked() -> None:
    data = {"a": [{"b": "\ud800"}], "c": "ok"}
    assert lone_surrogate_at(data, values=False) is None
    assert lone_surrogate_at(data, values=True) == ("value", "a.0.b")
    assert lone_surrogate_at({"a": {"\udc00x": 1}}, values=False) == ("key", "a.\\udc00x")


# A page form's row number of thousands of digits.

def test_a_row_number_out_of_range_names_the_field() -> None:
    assert parse(Review(), {f"items-{MAX_ROWS - 1}-item": "contract"})["items"] == [
        {"item": "contract"}]
    for index in (str(MAX_ROWS), "9" * 5000, "0" * 10 + "1"):
        with pytest.raises(PostedFormInvalid) as refusal:
            parse(Review(), {f"items-{index}-item": "contract", "items-0-item": "contract"})
        [message] = refusal.value.normalized_messages()["items"]
        assert message.startswith("「逐项核实」的行号") and len(message) < 100


@pytest.fixture
def review_task(client: Any, unit: dict[str, str]) -> str:
    """The open district review of a submitted intake (the reviewer is yz-reviewer)."""
    application_id = open_intake(client, unit)
    submitted = client.post(f"/api/v1/applications/{application_id}/submit", headers=unit)
    assert submitted.status_code == 200, submitted.get_json()
    return str(db.session.query(UserTask.id).filter_by(status="open").scalar())


def test_a_task_page_posted_with_a_huge_row_number_is_422(app: Flask,
                                                          review_task: str) -> None:
    page = app.test_client()
    sign_in(page, "yz-reviewer", "password-123")
    huge = "7" * 5000
    response = page.post(f"/tasks/{review_task}", data={
        "csrf_token": csrf(page, f"/tasks/{review_task}"), f"items-{huge}-item": "contract",
        f"items-{huge}-result": "pass"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422, text[:500]
    assert "「逐项核实」的行号" in text and "Traceback" not in text


def test_a_lone_surrogate_in_a_task_form_names_the_field(client: Any, review_task: str) -> None:
    reviewer = login(client, "yz-reviewer")
    body = (b'{"items": [{"item": "contract", "result": "problem", "reason": ' + LONE
            + b'}], "comment": ' + LONE + b"}")
    refusal = refused(post_json(client, f"/api/v1/tasks/{review_task}/complete", body,
                                reviewer), 422)
    assert refusal["errors"]["comment"][0].startswith("「审核意见」含有无效字符")
    [task] = client.get("/api/v1/tasks", headers=reviewer).get_json()
    assert task["id"] == review_task  # still open: nothing was written


def test_a_form_names_a_lone_surrogate_in_a_row() -> None:
    with pytest.raises(ValidationError) as refusal:
        Review().load({"items": [{"item": "contract", "result": "pass", "reason": "\ud800"}]})
    assert refusal.value.normalized_messages() == {
        "items": {0: {"reason": ["「问题说明」含有无效字符（无法保存的 Unicode 代理字符）"]}}}


# Script values the engine cannot store: refused at validation where visible, else a clean
# step failure (422 through the API), never a 500 at the instance's commit.

LOOP = (BPMN / "loop.bpmn").read_text()


@pytest.mark.parametrize(("script", "reason"), [
    ("rounds = 'a'.upper", "upper 是函数或类型"),
    ("rounds = {(1, 2): 3}", "字典的键只能是文字或数字"),
    ("rounds = [sorted([3, 1]), {'a': {1, 2}}]", "集合不能保存"),
])
def test_a_script_value_the_engine_cannot_store_fails_the_step_cleanly(
        app: Flask, script: str, reason: str) -> None:
    text = LOOP.replace("rounds = rounds + 1 if rounds else 1", script)
    engine.deploy([("loop.bpmn", text.encode())], engine.catalog())  # not visible statically
    instance = engine.start("loop", data={})
    [task] = open_tasks(instance.id)
    with pytest.raises(engine.StepFailed) as failed:
        engine.complete_task(task.id, {"decision": "return"}, actor="alice")
    assert "rounds" in str(failed.value) and reason in str(failed.value)
    [still] = open_tasks(instance.id)  # nothing written: the task waits as before
    assert still.id == task.id
    engine.complete_task(task.id, {"decision": "approve"}, actor="alice")


def test_query_and_ops_field_errors_are_in_chinese_too(client: Any, ops: dict[str, str]) -> None:
    """Query strings and the ops reason are forms like the others: each field error names the
    field in Chinese; a parameter the API does not know is ignored, not refused."""
    cases = [("/api/v1/instances?page=0", "page", "「页码」应在 1 到 100000 之间"),
             ("/api/v1/instances?per_page=1000", "per_page", "「每页条数」应在 1 到 100 之间"),
             ("/api/v1/instances?status=bogus", "status", "「状态」应为以下之一：")]
    for path, field, message in cases:
        body = refused(client.get(path, headers=ops), 422)
        assert body["errors"]["query"][field][0].startswith(message), body
    assert client.get("/api/v1/instances?_=123", headers=ops).status_code == 200
