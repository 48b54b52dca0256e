"""A procedure an analyst deploys, worked end to end in a real browser (issue 17): the analyst
uploads the annual self-check (tests/bpmn/self_check.bpmn) with its two form-js forms and
deploys it; the builder starts it from the portal's 办理其他事项, is refused once by form-js
and once by the server (its entries kept), and gets the business key; Yuzhong's reviewer
finds 区县审核 in the inbox and approves it on the rendered form; ops sees the instance
completed on its diagram. No Content-Security-Policy violation on the way."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from registry import demo
from tests.web.browser import Shots, browser, sign_in, sign_out
from tests.web.test_browser_csp import Violations

TESTS = Path(__file__).resolve().parents[1]
FILES = [TESTS / "bpmn" / "self_check.bpmn", TESTS / "forms" / "self_check.form",
         TESTS / "forms" / "self_check_review.form"]
NUMBER = "5001032024010001"
"""The demo builder's project in Yuzhong (reviewed by yuzhong)."""


def test_an_enterprise_starts_a_deployed_self_check_and_the_district_approves_it(
        site: str, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    refused = Violations()
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        refused.watch(page)
        _deploy(page, site, shot)
        key = _start(page, site, shot)
        _review(page, site, key, shot)
        _ops(page, site, key, shot)
        page.close()
    assert refused == [], "\n".join(refused)


def _deploy(page: Any, site: str, shot: Shots) -> None:
    sign_in(page, site, "fenxi", demo.PASSWORD)
    page.goto(f"{site}/models/upload")
    page.set_input_files("#file", [str(f) for f in FILES])
    page.click("button:has-text('校验')")
    page.wait_for_selector("text=校验通过")
    files = page.inner_text("#deployment-files")
    assert "self_check.form" in files and "self_check_review.form" in files
    page.click("#deploy")
    page.wait_for_selector("text=已部署：self_check")
    shot(page, "analyst-deployed")
    page.goto(f"{site}/models")
    assert "项目数据年度自查" in page.inner_text("main")
    sign_out(page)


def _select(form: Any, index: int, label: str) -> None:
    form.locator(".fjs-form-field-select .fjs-input-group").nth(index).click()
    form.locator(f".fjs-dropdownlist-item:has-text('{label}')").click()


def _fill(field: Any, text: str) -> None:
    """Fill a form-js field and see the value stay: a re-render under load (the date picker
    closing) has dropped a value typed just before it."""
    expect = pytest.importorskip("playwright.sync_api").expect
    for _ in range(3):
        field.fill(text)
        try:
            expect(field).to_have_value(text, timeout=2000)
            return
        except AssertionError:
            continue
    expect(field).to_have_value(text)


def _field(form: Any, label: str) -> Any:
    """The form-js field (label, input, description, errors) of the input labelled so: the
    innermost, not a group around it."""
    return form.locator(".fjs-form-field", has=form.page.get_by_label(label)).last


def _refused_on_field(page: Any, label: str, message: str) -> Any:
    """A page the server refused: its ``message`` on the field labelled so, as form-js shows
    its own (red, the message under the input, aria-invalid), and no list of errors left
    above the form; the field."""
    expect = pytest.importorskip("playwright.sync_api").expect
    page.wait_for_selector("[data-formjs][data-ready=true]")
    form = page.locator("[data-formjs]")
    field = _field(form, label)
    expect(field.locator(".fjs-form-field-error")).to_have_text(message)
    expect(field).to_have_class(re.compile(r"\bfjs-has-errors\b"))
    expect(form.get_by_label(label)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-errors")).to_have_count(0)
    return field


def _start(page: Any, site: str, shot: Shots) -> str:
    """The builder fills the start form: a malformed number (form-js refuses it on the page),
    a project that is not theirs (the server refuses it, the entries kept), then theirs."""
    sign_in(page, site, "qiye", demo.PASSWORD)
    page.goto(f"{site}/portal")
    assert "项目数据年度自查" in page.inner_text("#startable")
    shot(page, "portal-other-matters")
    page.click("#startable a:has-text('项目数据年度自查')")
    page.wait_for_selector("[data-formjs][data-ready=true]")
    form = page.locator("[data-formjs]")
    date = form.locator(".fjs-form-field-datetime input").first
    date.fill("2026/03/02")
    date.press("Enter")
    _select(form, 0, "否")
    _fill(form.get_by_label("项目编号"), "50010320")
    _fill(form.get_by_label("完成比例（%）"), "80")
    form.get_by_label("面积有误").check()
    _fill(form.get_by_label("情况说明"), "建筑面积登记有误，已按竣工图更正")
    page.click("#start-submit")
    page.wait_for_selector("text=项目编号应为 16 位数字")
    assert page.url.endswith("/start/self_check")
    shot(page, "start-refused-by-form")

    _fill(form.get_by_label("项目编号"), "5001039999999999")
    page.click("#start-submit")
    number = _refused_on_field(page, "项目编号",
                               "未找到您可办理的项目（项目编号 5001039999999999）")
    expect = pytest.importorskip("playwright.sync_api").expect  # waits for form-js to draw
    form.get_by_label("项目编号").focus()
    form.get_by_label("情况说明").focus()  # a blur re-checks the field: the message stays
    expect(number.locator(".fjs-form-field-error")).to_contain_text("未找到您可办理的项目")
    expect(form.get_by_label("情况说明")).to_have_value("建筑面积登记有误，已按竣工图更正")
    expect(form.get_by_label("完成比例（%）")).to_have_value("80")
    expect(form.get_by_label("面积有误")).to_be_checked()
    shot(page, "start-refused-by-server-entries-kept")

    _fill(form.get_by_label("项目编号"), NUMBER)
    expect(number.locator(".fjs-form-field-error")).to_have_count(0)  # edited: gone
    expect(form.locator(".fjs-has-errors")).to_have_count(0)
    form.locator("button:has-text('提交')").click()  # the form's own button sends the page
    page.wait_for_selector("text=已提交“项目数据年度自查”")
    found = re.search(r"self_check-\d{8}-[2-9A-Z]{6}", page.inner_text("main"))
    assert found, page.inner_text("main")
    shot(page, "started")
    sign_out(page)
    return found.group(0)


def _review(page: Any, site: str, key: str, shot: Shots) -> None:
    """Yuzhong's reviewer: an empty decision is refused by form-js, the comment kept."""
    sign_in(page, site, "yuzhong", demo.PASSWORD)
    page.goto(f"{site}/tasks")
    row = page.locator("table.tasks tr", has_text=key)
    assert "区县审核" in row.inner_text()
    shot(page, "inbox")
    row.locator("a:has-text('区县审核')").click()
    page.wait_for_selector("[data-formjs][data-ready=true]")
    assert NUMBER in page.inner_text(".dossier-column")
    form = page.locator("[data-formjs]")
    form.get_by_label("审核意见").fill("数据已核实，同意")
    page.click("#complete")
    page.wait_for_selector("[data-formjs] >> text=此项必填")
    assert form.get_by_label("审核意见").input_value() == "数据已核实，同意"
    shot(page, "review-refused-by-form")
    _select(form, 0, "通过")
    page.click("#complete")
    page.wait_for_selector("text=“区县审核”已办理")
    assert key not in page.inner_text("main")
    shot(page, "reviewed")
    sign_out(page)


def _ops(page: Any, site: str, key: str, shot: Shots) -> None:
    sign_in(page, site, "yunwei", demo.PASSWORD)
    page.goto(f"{site}/ops/instances?key={key}")
    row = page.locator("table.list tbody tr", has_text=key)
    assert "项目数据年度自查" in row.inner_text() and "已完成" in row.inner_text()
    shot(page, "ops-list")
    row.locator("a").first.click()
    page.wait_for_selector("#diagram[data-ready=true] svg")
    assert page.inner_text("#instance-status") == "已完成"
    shot(page, "ops-instance")
