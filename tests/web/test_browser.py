"""The pages in a real browser (Debian's Chromium through Playwright): an OI intake from the
enterprise's wizard to "pushed", through a return, an amendment, publicity and an objection."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from engine.db import db
from registry import demo
from registry.models import Application, Objection
from tests.conftest import Simulator
from tests.forms.test_stages import VALID
from tests.processes.helpers import settle
from tests.registry.test_applications import PDF
from tests.web.browser import Shots, browser, fill, sign_in, sign_out

PASSWORD = demo.PASSWORD
LETTERS = ("report", "commitment", "application_form", "evidence", "authenticity_letter")



def _quiet(app: Flask) -> None:
    """End the test thread's transaction so that the server's threads write freely."""
    db.session.commit()
    db.session.expire_all()


def test_an_oi_intake_goes_from_the_wizard_to_pushed(app: Flask, site: str, tmp_path: Any,
                                                     national: Simulator,
                                                     request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    upload = tmp_path / "材料.pdf"
    upload.write_bytes(PDF)
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        for step in (_enterprise_applies, _reviewer_returns, _enterprise_amends,
                     _reviewer_confirms, _public_objects, _reviewer_dismisses):
            step(page, site, shot, upload)
            _quiet(app)
            settle(app)
        settle(app, travel=timedelta(days=20))  # past the publicity period
        sign_in(page, site, "shuili", PASSWORD)
        page.click("table.list a >> nth=0")
        assert "已推送全国平台" in page.inner_text("#status")
        shot(page, "pushed")
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "pushed-on-a-phone")
        page.close()
    [application] = db.session.scalars(sa.select(Application)).all()
    assert application.status == "approved" and application.rounds == 1
    assert application.data["contract"]["amount"] == "9750.00"
    assert [p["body"]["kind"] for p in national.state.pushes.values()] == ["stage"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Objection)) == 1


def _enterprise_applies(page: Any, site: str, shot: Shots, upload: Any) -> None:
    """Kind, a new OI project, its stages (a draft kept on the way), uploads, submit."""
    sign_in(page, site, "shuili", PASSWORD)
    assert page.url.endswith("/portal")
    page.click("a:has-text('新建申请') >> nth=0")
    page.check("input[name=kind][value=intake]")
    page.click("button:has-text('下一步')")
    page.click("summary")
    fill(page, "project-", {"name": "江津区某水利枢纽工程", "category": "OI", "sector": "05",
                            "location_code": "500116", "city_managed": False,
                            "managing_code": "500116", "role": "施工"})
    shot(page, "project")
    page.click("button:has-text('保存项目信息')")
    for name in ("bidding", "contract", "completion"):
        fill(page, f"{name}-", copy.deepcopy(VALID[name]))
    page.click("button:has-text('保存草稿')")
    page.wait_for_selector("text=草稿已保存")
    page.goto(f"{site}/applications/new")  # the browser was closed: nothing is lost
    assert page.input_value("[id='contract-amount']") == "9800"
    shot(page, "stages")
    page.click("button:has-text('创建申请并上传材料')")
    page.wait_for_selector("#materials")
    for kind in LETTERS:
        page.select_option("#kind", kind)
        page.set_input_files("#file", str(upload))
        page.click("form.upload button:has-text('上传')")
        page.wait_for_selector("text=已上传")
    assert page.locator("ul.required li.missing").count() == 0
    shot(page, "materials")
    page.click("#submit")
    page.wait_for_selector("text=已提交，等待审核")
    assert "审核中" in page.inner_text("#status")
    sign_out(page)


def _reviewer_returns(page: Any, site: str, shot: Shots, _upload: Any) -> None:
    sign_in(page, site, "jiangjin", PASSWORD)
    assert page.inner_text("#waiting-count") == "1"
    shot(page, "inbox")
    page.click("table.tasks a >> nth=0")
    page.wait_for_selector("#work")
    assert page.locator("button.preview-open").count() == len(LETTERS)  # previews on demand
    _review(page, problem={"contract": "合同金额与中标金额不一致，请核对"})
    shot(page, "returned-by-reviewer")
    page.click("#complete")
    page.wait_for_selector(".flash.ok:has-text('已办理')")
    sign_out(page)


def _enterprise_amends(page: Any, site: str, shot: Shots, _upload: Any) -> None:
    """The reason shows beside the contract; amend it and resubmit."""
    sign_in(page, site, "shuili", PASSWORD)
    page.click("table.list a >> nth=0")
    assert "已退回" in page.inner_text("#status")
    assert "合同金额与中标金额不一致" in page.inner_text("#stage-contract")
    shot(page, "reason-beside-field")
    page.click("a:has-text('修改申报信息') >> nth=0")
    page.fill("[id='contract-amount']", "9750")
    page.click("button:has-text('保存修改')")
    page.wait_for_selector("text=申报信息已修改")
    page.fill("#note", "已按中标通知书核对合同金额")
    page.click("#submit")
    page.wait_for_selector("text=已重新提交")
    sign_out(page)


def _reviewer_confirms(page: Any, site: str, shot: Shots, _upload: Any) -> None:
    sign_in(page, site, "jiangjin", PASSWORD)
    page.click("table.tasks a >> nth=0")
    _review(page)
    shot(page, "confirmed-by-reviewer")
    page.click("#complete")
    page.wait_for_selector(".flash.ok:has-text('已办理')")
    sign_out(page)


def _public_objects(page: Any, site: str, shot: Shots, _upload: Any) -> None:
    """No sign-in: the board shows the project; an objection is filed."""
    page.goto(f"{site}/publicity")
    page.click("text=江津区某水利枢纽工程")
    page.wait_for_selector("#objection")
    assert "9750" in page.inner_text("main")
    shot(page, "publicity")
    fill(page, "", {"name": "张三", "contact": "023-61234567",
                    "content": "该项目合同金额与实际不符"})
    page.click("button:has-text('提交异议')")
    page.wait_for_selector("text=异议已受理")


def _reviewer_dismisses(page: Any, site: str, shot: Shots, _upload: Any) -> None:
    sign_in(page, site, "jiangjin", PASSWORD)
    page.click("table.tasks a >> nth=0")
    page.wait_for_selector("#objections")
    assert "该项目合同金额与实际不符" in page.inner_text("#objections")
    fill(page, "", {"decision": "dismiss", "reason": "经核实，合同金额与备案一致"})
    shot(page, "objection-ruling")
    page.click("#complete")
    page.wait_for_selector(".flash.ok:has-text('已办理')")
    sign_out(page)


def _review(page: Any, problem: dict[str, str] | None = None) -> None:
    """Tick every checklist row: pass, or problem with its reason."""
    problem = problem or {}
    page.wait_for_selector("#items tbody tr")  # count() does not wait for the page
    rows = page.locator("#items tbody tr")
    for n in range(rows.count()):
        item = page.input_value(f"[name='items-{n}-item']")
        if item in problem:
            page.check(f"[name='items-{n}-result'][value=problem]")
            page.fill(f"[id='items-{n}-reason']", problem[item])
        else:
            page.check(f"[name='items-{n}-result'][value=pass]")
