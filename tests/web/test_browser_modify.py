"""The ops console in a real browser: ops move an intake in publicity back to the district
review with a reason (issue 19); the move is in the history and the audit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

import lifecycle
from engine.db import db
from engine.models import Event
from registry import demo
from registry.models import AuditEvent, User
from tests.processes.helpers import REVIEW_OK, open_task, settle
from tests.web.browser import Shots, browser, sign_in
from tests.web.test_browser import _quiet
from tests.web.test_browser_ops import _intake


def test_ops_move_an_intake_in_publicity_back_to_review(
        app: Flask, site: str, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    application = _intake()
    settle(app)
    user = db.session.scalar(sa.select(User).filter_by(username="yuzhong"))
    lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, user)
    settle(app)
    _quiet(app)
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        page.on("dialog", lambda dialog: dialog.accept())
        sign_in(page, site, "yunwei", demo.PASSWORD)
        page.goto(f"{site}/ops/instances/{application.instance_id}")
        page.wait_for_selector("#diagram[data-ready=true]")
        cell = page.locator("g.djs-element[data-element-id='Call_PublicityAndPush']")
        assert "cqpi-waiting" in (cell.get_attribute("class") or "")
        page.select_option("#modify-target", "Task_DistrictReview")
        page.fill("#modify-reason", "核实材料有误，重新审核")
        page.locator("#modify").scroll_into_view_if_needed()
        shot(page, "move-form")
        page.click("#modify-submit")
        page.wait_for_selector("text=已移回“逐项核实申报信息”")
        page.wait_for_selector("#diagram[data-ready=true]")
        review = page.locator("g.djs-element[data-element-id='Task_DistrictReview']")
        assert "cqpi-active" in (review.get_attribute("class") or "")
        assert "移动实例" in page.inner_text(".timeline")
        assert "待办理：逐项核实申报信息" in page.inner_text("#marks")
        shot(page, "moved-back-to-review")

        page.fill("#modify-reason", "")  # a reason is required (the browser says so first)
        page.evaluate("document.getElementById('modify-reason').removeAttribute('required')")
        page.click("#modify-submit")
        page.wait_for_selector("text=移动实例须填写原因")
        page.close()
    _quiet(app)
    assert db.session.scalar(sa.select(AuditEvent).filter_by(
        action="instance_modify", object=f"instance:{application.instance_id}")) is not None
    assert db.session.scalar(sa.select(Event.actor).filter_by(kind="instance_modified")) == "yunwei"
    assert open_task(application).element_id == "Task_DistrictReview"
