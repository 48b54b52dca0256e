"""The ops instance page in a real browser (issue 19): the data readable by key, an
incident's one-line cause with its technical detail folded, the diagram's zoom buttons, and
a retry that asks for its reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import lifecycle
from engine.db import db
from engine.models import Event
from registry import demo
from registry.models import User
from tests.conftest import Simulator
from tests.processes.helpers import REVIEW_OK, open_task, settle
from tests.web.browser import Shots, browser, sign_in
from tests.web.test_browser import _quiet
from tests.web.test_browser_ops import _intake


def _failed_push(app: Flask, national: Simulator) -> int:
    """An intake approved by its district whose push the national platform keeps refusing:
    the instance's id, with an open incident."""
    application = _intake()
    settle(app)
    reviewer = db.session.scalar(sa.select(User).filter_by(username="yuzhong"))
    lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, reviewer)
    national.state.fail_next = 100  # the national platform is down
    for travel in (None, timedelta(days=20)):
        settle(app, travel=travel)
    _quiet(app)
    return application.instance_id


def _reads_the_incident_and_the_data(page: Any, shot: Shots) -> None:
    cause = page.locator("#incidents .cause").first
    assert cause.inner_text() == "全国平台返回 503: 模拟故障: 全国平台暂时不可用"
    detail = page.locator("#incidents pre.detail").first
    assert not detail.is_visible()  # folded
    assert "\\u" not in page.inner_text("main")
    items = page.locator("#instance-data details:has(summary:text-is('items'))")
    assert items.get_attribute("open") is None
    items.locator(":scope > summary").click()
    assert '"result": "pass"' in items.locator(":scope > pre").inner_text()
    shot(page, "incident-folded-data-readable")
    page.locator("#incidents summary").first.click()
    assert detail.is_visible() and "Traceback" in detail.inner_text()
    assert "/work/" not in detail.inner_text() and "site-packages" not in detail.inner_text()
    shot(page, "incident-detail-open")


def _zooms(page: Any, shot: Shots) -> None:
    def scale(test: str) -> None:
        page.wait_for_function(f"Number(document.getElementById('diagram').dataset.zoom) {test}")

    fitted = float(page.get_attribute("#diagram", "data-zoom") or 0)
    page.get_by_role("button", name="放大流程图").click()
    scale(f"> {fitted}")
    shot(page, "zoomed-in")
    page.get_by_role("button", name="缩小流程图").click()
    page.get_by_role("button", name="缩小流程图").click()
    scale(f"< {fitted}")
    page.get_by_role("button", name="流程图适应画布").click()
    scale(f"- {fitted} < 0.01")
    scale(f"- {fitted} > -0.01")
    page.locator("#diagram svg").first.focus()
    page.keyboard.press("+")
    scale(f"> {fitted}")


def test_ops_reads_the_instance_zooms_its_diagram_and_retries_with_a_reason(
        app: Flask, site: str, national: Simulator, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    instance_id = _failed_push(app, national)
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        sign_in(page, site, "yunwei", demo.PASSWORD)
        page.goto(f"{site}/ops/instances/{instance_id}")
        page.wait_for_selector("#diagram[data-ready=true]")
        _reads_the_incident_and_the_data(page, shot)
        _zooms(page, shot)

        national.state.fail_next = 0  # the platform is back
        page.click("#retry")  # without a reason the browser asks for one
        assert page.evaluate("!document.getElementById('retry-reason').validity.valid")
        page.fill("#retry-reason", "全国平台已恢复")
        shot(page, "retry-with-reason")
        page.click("#retry")
        page.wait_for_selector(f"text=实例 {instance_id} 已重试")
        _quiet(app)
        settle(app)
        page.goto(f"{site}/ops/instances/{instance_id}")
        assert "已完成" in page.inner_text("#instance-status")
        assert page.locator("#repair").count() == 0
        assert "全国平台已恢复" in page.inner_text(".timeline")
        shot(page, "completed-without-actions")
        page.close()
    retried = db.session.scalar(sa.select(Event).filter_by(instance_id=instance_id,
                                                           kind="instance_retried"))
    assert retried is not None and retried.data["reason"] == "全国平台已恢复"
