"""An enterprise in a real browser (issue 18), at desktop and phone widths: the wizard's
districts chosen from a list, a missing 管理区县 refused by name with the entries kept, the
step bar on every step up to the materials, then 消息中心: the header's unread count, a
notice opened to its application and so read, 全部标为已读. No CSP violation anywhere."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from engine.db import db
from registry import demo
from registry.models import Application, Notification, User
from tests.forms.test_stages import VALID
from tests.web.browser import Shots, browser, fill, sign_in
from tests.web.test_browser import _quiet
from tests.web.test_browser_csp import Violations

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
NAME = "渝中区<b>消息</b>测试住宅"


def _current_step(page: Any) -> str:
    return page.inner_text("ol.steps li[aria-current=step]").strip()


def _fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_an_enterprise_goes_through_the_wizard_and_reads_its_notices(
        app: Flask, site: str, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    violations = Violations()
    with browser() as chromium:
        page = chromium.new_page(viewport=DESKTOP, locale="zh-CN")
        page.set_default_timeout(15000)
        violations.watch(page)
        sign_in(page, site, "qiye", demo.PASSWORD)
        _wizard(page, shot)
        _quiet(app)
        application_id = _notices_arrive()
        _reads_a_notice(page, site, shot, application_id)
        _on_a_phone(page, site, shot, application_id)
        page.close()
    assert violations == []


def _wizard(page: Any, shot: Shots) -> None:
    """Kind, a new HM project (管理区县 forgotten first), its stages, the materials step."""
    page.click("nav a:has-text('新建申请')")
    assert _current_step(page) == "1 申请类型"
    page.check("input[name=kind][value=intake]")
    page.click("button:has-text('下一步')")
    assert _current_step(page) == "2 项目"
    assert "房屋建筑和市政工程总承包" in page.inner_text("fieldset.choices")  # not "HM"
    page.click("summary:has-text('填写新项目信息')")
    assert page.locator("label[for=project-managing_code] .required-when").count() == 1
    groups = page.eval_on_selector_all("#project-location_code optgroup",
                                       "gs => gs.map(g => g.label)")
    assert groups == ["区", "县", "功能区"]
    fill(page, "project-", {"name": NAME, "category": "HM", "sector": "01",
                            "location_code": "500103", "city_managed": False, "role": "施工"})
    page.click("button:has-text('保存项目信息')")
    page.wait_for_selector("#project-managing_code-error")
    assert "管理区县" in page.inner_text("#project-managing_code-error")
    assert page.input_value("#project-name") == NAME  # kept
    assert page.input_value("#project-location_code") == "500103"
    shot(page, "managing-district-missing")
    page.select_option("#project-managing_code", "500103")
    page.click("button:has-text('保存项目信息')")
    page.wait_for_selector("fieldset#stage-contract")
    assert _current_step(page) == "3 环节信息"
    for name in ("bidding", "contract", "completion"):
        fill(page, f"{name}-", copy.deepcopy(VALID[name]))
    shot(page, "stages")
    page.click("button:has-text('创建申请并上传材料')")
    page.wait_for_selector("#materials")
    assert _current_step(page) == "4 申报材料"
    assert page.locator("ol.steps li.done").count() == 3
    shot(page, "materials-step")


def _notices_arrive() -> int:
    """Two notices to the enterprise about its new application; the application's id."""
    application = db.session.scalar(sa.select(Application).order_by(Application.id.desc()))
    qiye = db.session.scalar(sa.select(User).filter_by(username="qiye"))
    assert application is not None and qiye is not None
    for title in (f"您的申请（{NAME}）被退回，请按意见修改", f"您的申请（{NAME}）已重新提交"):
        db.session.add(Notification(audience=f"org:{qiye.organisation_id}", title=title,
                                    link=f"/applications/{application.id}"))
    db.session.commit()
    return application.id


def _reads_a_notice(page: Any, site: str, shot: Shots, application_id: int) -> None:
    page.goto(f"{site}/portal")
    assert page.inner_text("#notice-count") == "2"
    page.click("#notices-link")
    page.wait_for_selector("#notices")
    assert page.locator("#notices li.unread").count() == 2
    assert "<b>消息</b>" in page.inner_text("#notices")  # shown as typed, not as markup
    assert page.locator("#notices b").count() == 0
    shot(page, "notices")
    page.click("#notices li.unread >> nth=1 >> button:has-text('查看')")
    page.wait_for_url(f"{site}/applications/{application_id}")
    assert page.inner_text("#notice-count") == "1"
    page.click("#notices-link")
    assert page.locator("#notices li.unread").count() == 1
    assert page.locator("#notices li.read a:has-text('查看')").count() == 1


def _on_a_phone(page: Any, site: str, shot: Shots, application_id: int) -> None:
    page.set_viewport_size(PHONE)
    _fits(page, PHONE["width"])
    shot(page, "notices-on-a-phone")
    page.goto(f"{site}/applications/new?step=project")
    page.wait_for_selector("ol.steps")
    _fits(page, PHONE["width"])
    shot(page, "wizard-on-a-phone")
    page.goto(f"{site}/applications/{application_id}")
    _fits(page, PHONE["width"])
    assert _current_step(page) == "4 申报材料"
    shot(page, "materials-step-on-a-phone")
    page.click("#notices-link")
    page.click("#read-all")
    page.wait_for_selector("text=已将 1 条未读消息标为已读")
    assert page.locator("#notice-count").count() == 0
    assert page.locator("#notices li.unread").count() == 0
    _fits(page, PHONE["width"])
    shot(page, "all-read-on-a-phone")
