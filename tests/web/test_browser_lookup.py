"""查询办理进度 in a real browser (issue 18): the public files a complaint, notes the number
and check code shown once, and looks its progress up without signing in, on a desktop and
on a phone; a wrong code is told so; no Content-Security-Policy violation on the way.
Screenshots under test-output/browser/."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from engine.db import db
from handlers import inspection as inspections
from registry.models import Inspection
from tests.web.browser import Shots, browser, fill
from tests.web.test_browser_csp import Violations

PROJECT = "5001032024010001"
"""A demo project in Yuzhong: the complaint opens a key inspection."""


def test_the_public_files_a_complaint_and_looks_up_its_progress(
        app: Flask, site: str, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    refused = Violations()
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        refused.watch(page)
        number, code = _files(page, site, shot)
        _looks_up(page, number, code, shot)

        inspection = db.session.scalar(sa.select(Inspection))
        assert inspection is not None
        inspections.close({"inspection_id": inspection.id}, {})
        db.session.commit()

        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.click("footer a:has-text('办理进度查询')")
        page.wait_for_selector("#number")
        fill(page, "", {"number": number, "code": code})
        page.click("button:has-text('查询')")
        page.wait_for_selector("#lookup-outcome")
        assert page.inner_text("#lookup-stage") == "已办结"
        assert "信息属实" in page.inner_text("#lookup-outcome")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "looked-up-closed-on-a-phone")
        page.close()
    assert refused == [], "\n".join(refused)
    db.session.commit()
    db.session.expire_all()


def _files(page: Any, site: str, shot: Shots) -> tuple[str, str]:
    """A complaint about a known project: the number and the code shown once."""
    page.goto(f"{site}/complaints")
    fill(page, "", {"project_number": PROJECT, "project_name": "渝中区某项目",
                    "content": "该项目业绩造假", "contact": "13800000000"})
    shot(page, "complaint-form")
    page.click("button:has-text('提交')")
    page.wait_for_selector("#filed-code")
    assert "投诉举报已受理" in page.inner_text("#filed-message")
    number = page.inner_text("#filed-number").strip()
    code = page.inner_text("#filed-code").strip()
    assert number.startswith("TS") and len(code) == 8
    shot(page, "filed-with-check-code")
    return number, code


def _looks_up(page: Any, number: str, code: str, shot: Shots) -> None:
    """From the confirmation to the lookup: the code as people copy it (a dash, lower case)
    finds the complaint under inspection; a wrong code finds nothing."""
    page.click("#check-code a:has-text('查询办理进度')")
    page.wait_for_selector("#number")
    fill(page, "", {"number": number, "code": code[:4] + "-" + code[4:].lower()})
    page.click("button:has-text('查询')")
    page.wait_for_selector("#lookup-result")
    assert page.inner_text("#lookup-stage") == "核查中"
    assert page.inner_text("#lookup-kind") == "投诉举报"
    assert "13800000000" not in page.inner_text("main")
    assert page.input_value("#code") == ""  # the code is not written back
    shot(page, "looked-up-inspecting")

    fill(page, "", {"number": number, "code": "ABCDEFGH"})
    page.click("button:has-text('查询')")
    page.wait_for_selector("#lookup-error")
    assert page.inner_text("#lookup-error") == "未找到，请核对编号和查询码"
    assert page.locator("#lookup-result").count() == 0
    shot(page, "wrong-code")
