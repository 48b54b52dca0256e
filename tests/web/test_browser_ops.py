"""The ops console in a real browser: an instance waiting in review is marked on its diagram;
a push the national platform refuses becomes an incident that a retry clears."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

import lifecycle
from engine.db import db
from registry import demo
from registry.models import Application, AuditEvent, User
from tests.conftest import Simulator
from tests.processes.helpers import REVIEW_OK, open_task, settle
from tests.registry.test_applications import PDF, header, hm_stages
from tests.web.browser import Shots, browser, sign_in
from tests.web.test_browser import _quiet


def _intake() -> Application:
    from registry import applications as apps

    user = db.session.scalar(sa.select(User).filter_by(username="qiye"))
    opened = apps.open_application(user, "intake", hm_stages(), project=header(name="运维演示项目"))
    for kind in ("report", "commitment", "application_form", "evidence"):
        apps.add_attachment(opened.id, user, kind, PDF, f"{kind}.pdf")
    return lifecycle.submission.submit(opened.id, user)



def test_ops_sees_the_waiting_task_on_the_diagram_and_retries_a_failed_push(
        app: Flask, site: str, national: Simulator, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    application = _intake()
    settle(app)
    _quiet(app)
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        sign_in(page, site, "yunwei", demo.PASSWORD)
        assert "/ops/instances" in page.url
        page.click(f"tr:has-text('application-{application.id}') a")
        page.wait_for_selector("#diagram[data-ready=true]")
        marked = page.locator("g.djs-element[data-element-id='Task_DistrictReview']")
        assert "cqpi-active" in (marked.get_attribute("class") or "")
        assert "cqpi-completed" in (page.locator(
            "g.djs-element[data-element-id='Event_Submitted']").get_attribute("class") or "")
        marked.click()
        page.wait_for_selector("#element-info h3")
        shot(page, "waiting-in-review")

        user = db.session.scalar(sa.select(User).filter_by(username="yuzhong"))
        lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, user)
        national.state.fail_next = 100  # the national platform is down
        settle(app)
        settle(app, travel=timedelta(days=20))
        _quiet(app)

        page.goto(f"{site}/ops/incidents")
        page.check(f"input[name=instance][value='{application.instance_id}']")
        shot(page, "incident")
        national.state.fail_next = 0  # the platform is back
        page.fill("#retry-reason", "全国平台已恢复")
        page.click("#retry-selected")
        page.wait_for_selector("text=已重试 1 个实例")
        _quiet(app)
        settle(app)
        page.goto(f"{site}/ops/instances/{application.instance_id}")
        assert "已完成" in page.inner_text("#instance-status")
        shot(page, "completed-after-retry")
        page.close()
    assert len(national.state.pushes) == 1
    assert db.session.scalar(sa.select(AuditEvent).filter_by(
        action="instance_retry", object=f"instance:{application.instance_id}")) is not None
