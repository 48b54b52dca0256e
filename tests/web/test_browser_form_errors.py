"""A deployed form's server-side errors on their fields in a real browser, as form-js shows its
own (red field, the message under it): a reviewer's task form refused by the server for what
form-js does not check (a comment over the server's 20,000 characters, in a group: the key
``review.comment``), the message gone once the field is edited; and formview.js's mapping on
its own: keys of groups and dynamic lists put on their field instances, the rest left in the
list above the form, the server's messages never stopping the form being sent. No
Content-Security-Policy violation on the way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import engine
from engine.db import db
from lifecycle import starts
from registry import demo
from registry.models import User
from tests.web.browser import Shots, browser, sign_in
from tests.web.test_browser_csp import Violations
from tests.web.test_browser_self_check import _field, _fill, _refused_on_field, _select

TESTS = Path(__file__).resolve().parents[1]
NUMBER = "5001032024010001"
"""The demo builder's project in Yuzhong (reviewed by yuzhong)."""
START = {"project_number": NUMBER, "data_accurate": "no",
         "progress": {"percent": 80, "checked_on": "2026-03-02"}, "issues": ["area"],
         "explanation": "建筑面积登记有误"}
REVIEW = {"type": "default", "id": "self_check_review", "components": [
    {"type": "select", "id": "Field_Decision", "key": "decision", "label": "审核结论",
     "values": [{"label": "通过", "value": "approve"}, {"label": "退回", "value": "return"}],
     "validate": {"required": True}},
    {"type": "group", "id": "Group_Review", "label": "办理情况", "path": "review",
     "components": [{"type": "textarea", "id": "Field_Comment", "key": "comment",
                     "label": "审核意见"}]}]}
"""The review form with its comment in a group and no maxLength: form-js takes any length,
the server 20,000 characters at most."""
TOO_LONG = "核" * 20001


def _deployed() -> None:
    """The self-check deployed with the review form above."""
    engine.deploy([
        ("self_check/self_check.bpmn", (TESTS / "bpmn" / "self_check.bpmn").read_bytes()),
        ("self_check/self_check.form", (TESTS / "forms" / "self_check.form").read_bytes()),
        ("self_check/self_check_review.form", json.dumps(REVIEW).encode())], engine.catalog())
    db.session.commit()


def _started() -> None:
    """The self-check deployed, and started by the builder."""
    _deployed()
    builder = db.session.scalar(sa.select(User).filter_by(username="qiye"))
    assert builder is not None
    starts.start("self_check", START, builder)
    db.session.commit()


@contextmanager
def _page(site: str, username: str) -> Iterator[Any]:
    """A page signed in as ``username``; no Content-Security-Policy violation on it."""
    refused = Violations()
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        refused.watch(page)
        sign_in(page, site, username, demo.PASSWORD)
        yield page
        page.close()
    assert refused == [], "\n".join(refused)


def test_a_task_forms_server_errors_show_on_their_field_and_go_when_edited(
        site: str, request: pytest.FixtureRequest) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    shot = Shots(request.node.name)
    _started()
    with _page(site, "yuzhong") as page:
        page.goto(f"{site}/tasks")
        page.locator("table.tasks a:has-text('区县审核')").first.click()
        page.wait_for_selector("[data-formjs][data-ready=true]")
        form = page.locator("[data-formjs]")
        _select(form, 0, "通过")
        _fill(form.get_by_label("审核意见"), TOO_LONG)
        page.click("#complete")  # form-js has nothing against it: the server refuses it

        page.wait_for_selector("text=提交的数据有误，请按提示修改")
        comment = _refused_on_field(page, "审核意见", "「审核意见」长度应不超过 20000 个字符")
        form = page.locator("[data-formjs]")
        expect(form.get_by_label("审核意见")).to_have_value(TOO_LONG)  # kept, as entered
        expect(form.locator(".fjs-has-errors")).to_have_count(1)  # the decision is fine
        shot(page, "review-refused-by-server")

        _fill(form.get_by_label("审核意见"), "数据已核实，同意")
        expect(comment.locator(".fjs-form-field-error")).to_have_count(0)
        expect(form.locator(".fjs-has-errors")).to_have_count(0)
        page.click("#complete")
        page.wait_for_selector("text=“区县审核”已办理")
        shot(page, "reviewed")


ITEMS = {"type": "default", "id": "mapped", "components": [
    {"type": "textfield", "id": "Field_Title", "key": "title", "label": "名称"},
    {"type": "group", "id": "Group_Progress", "label": "进度", "path": "progress",
     "components": [{"type": "number", "id": "Field_Percent", "key": "percent",
                     "label": "完成比例"}]},
    {"type": "dynamiclist", "id": "List_Items", "label": "明细", "path": "items",
     "isRepeating": True, "allowAddRemove": True,
     "components": [{"type": "number", "id": "Field_Amount", "key": "amount",
                     "label": "金额"}]}]}
MAPPED = """([schema, errors]) => {
  const host = document.createElement("form");
  const list = document.createElement("ul");
  list.id = "mapped-errors";
  for (const key of Object.keys(errors)) {
    const item = document.createElement("li");
    item.setAttribute("data-key", key);
    item.textContent = errors[key][0];
    list.appendChild(item);
  }
  const container = document.createElement("div");
  container.id = "mapped";
  container.setAttribute("data-formjs-error-list", "mapped-errors");
  host.append(list, container);
  document.querySelector("main").appendChild(host);
  const data = {title: "甲", progress: {percent: 80}, items: [{amount: 1}, {amount: 2}]};
  return window.cqpiFormView.attach(container, {schema, data, errors}).then((view) => {
    window.mappedView = view;
    return Object.keys(view.unplaced).sort();
  });
}"""


def test_formview_puts_each_key_on_its_field_instance_and_lists_the_rest(
        site: str) -> None:
    """Keys of a field, of a group's field and of a dynamic list's second row (both
    spellings) go on those instances; ``_schema`` and a key of no field stay listed; the
    server's messages do not stop the form (validate() is empty), and an edit clears one."""
    expect = pytest.importorskip("playwright.sync_api").expect
    _deployed()  # a page that loads formview.js: the start page
    errors = {"title": ["名称已被占用"], "progress.percent": ["比例与上期矛盾"],
              "items[1].amount": ["金额超出预算"], "items.1.amount": ["金额须为整万元"],
              "_schema": ["整体有误"], "nothing": ["表单中没有“nothing”这一项"]}
    with _page(site, "qiye") as page:
        page.goto(f"{site}/start/self_check")
        page.wait_for_selector("[data-formjs][data-ready=true]")
        unplaced = page.evaluate(MAPPED, [ITEMS, errors])
        assert unplaced == ["_schema", "nothing"]
        form = page.locator("#mapped")
        expect(form).to_have_attribute("data-ready", "true")
        assert page.locator("#mapped-errors li").all_inner_texts() == [
            "整体有误", "表单中没有“nothing”这一项"]
        expect(_field(form, "名称").locator(".fjs-form-field-error")).to_have_text("名称已被占用")
        expect(_field(form, "完成比例").locator(".fjs-form-field-error")).to_have_text(
            "比例与上期矛盾")
        amounts = form.locator(".fjs-form-field-number", has=page.get_by_label("金额"))
        expect(amounts).to_have_count(2)
        expect(amounts.nth(0).locator(".fjs-form-field-error")).to_have_count(0)
        expect(amounts.nth(1).locator(".fjs-form-field-error li")).to_have_text(
            ["金额超出预算", "金额须为整万元"])
        assert page.evaluate("Object.keys(window.mappedView.validate())") == []
        expect(form.locator(".fjs-has-errors")).to_have_count(3)  # validate() kept them shown

        _fill(_field(form, "名称").get_by_label("名称"), "乙")
        expect(_field(form, "名称").locator(".fjs-form-field-error")).to_have_count(0)
        expect(form.locator(".fjs-has-errors")).to_have_count(2)
