"""The ops console in a real browser: a push the national platform refuses fails inside the
process that intake's call activity called; the call activity is marked failed on intake's
diagram, and ops open the called process's diagram (the same instance) with the failed push
marked, then go back up by the breadcrumb."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

import lifecycle
from engine.db import db
from registry import demo
from registry.models import User
from tests.conftest import Simulator
from tests.processes.helpers import REVIEW_OK, open_task, settle
from tests.web.browser import Shots, browser, sign_in
from tests.web.test_browser import _quiet
from tests.web.test_browser_ops import _intake

CALL = "Call_PublicityAndPush"


def _classes(page: object, element: str) -> str:
    locator = page.locator(f"g.djs-element[data-element-id='{element}']")  # type: ignore[attr-defined]
    return locator.get_attribute("class") or ""


def test_a_failed_push_is_marked_on_the_call_activity_and_inside_the_called_process(
        app: Flask, site: str, national: Simulator, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    application = _intake()
    settle(app)
    user = db.session.query(User).filter_by(username="yuzhong").one()
    lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, user)
    national.state.fail_next = 100  # the national platform is down
    settle(app)
    settle(app, travel=timedelta(days=20))
    _quiet(app)
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        sign_in(page, site, "yunwei", demo.PASSWORD)
        page.goto(f"{site}/ops/instances/{application.instance_id}")
        page.wait_for_selector("#diagram[data-ready=true]")
        assert "cqpi-failed" in _classes(page, CALL)
        assert "cqpi-active" not in _classes(page, CALL)
        assert "故障：公示并推送" in page.inner_text("#marks")
        shot(page, "call-activity-failed")

        assert "公示并推送" in page.inner_text("#called-processes")  # the list, and the diagram:
        page.locator(f"g.djs-element[data-element-id='{CALL}']").click()
        page.click("#element-info a.called-link")
        page.wait_for_selector("#diagram[data-ready=true]")
        assert page.url.endswith(f"/ops/instances/{application.instance_id}/called/{CALL}")
        assert "cqpi-failed" in _classes(page, "Task_Push")
        assert "cqpi-completed" in _classes(page, "Task_OpenPublicity")
        assert "故障：推送至全国平台" in page.inner_text("#marks")
        page.locator("g.djs-element[data-element-id='Task_Push']").click()
        page.wait_for_selector("#element-info h3")
        shot(page, "push-failed-inside")

        page.click(f"#called-crumbs a:has-text('实例 #{application.instance_id}')")
        page.wait_for_selector("#diagram[data-ready=true]")
        assert page.url.endswith(f"/ops/instances/{application.instance_id}")
        page.goto(f"{site}/ops/instances/{application.instance_id}/called/Task_Push")
        assert "没有经由" in page.inner_text("body")
        page.close()
