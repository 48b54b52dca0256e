"""Due dates and a suspended procedure in the reviewer's browser (issue 18, A-8): the inbox
shows each task's last day with the working days left or overdue, a task of a suspended
procedure is listed as 暂停办理 and its page opens with the form disabled; the district
filter is the city's alone, and a key inspection's task names its project (R-SUP-7);
screenshots at desktop and phone widths, no Content-Security-Policy violation."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine.db import db
from handlers import inspection
from registry import demo
from registry.models import Project
from tests.processes.helpers import open_task, settle
from tests.web.browser import Shots, browser, sign_in, sign_out
from tests.web.test_browser_csp import Violations
from tests.web.test_browser_ops import _intake
from tests.web.test_task_work import at

INSPECTED = "5001032024010001"
"""A demo project in Yuzhong, which a sampling check sends to a key inspection."""
WIDTHS = {"desktop": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}


def test_the_inbox_shows_working_days_left_and_a_suspended_task(
        app: Flask, site: str, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    at("2026-11-12 10:00")  # a Thursday: due on Thursday the 26th, two weekends later
    late = _intake()
    settle(app)
    at("2026-11-30 09:00")  # the 26th and the 27th gone: two working days overdue
    paused = _intake()
    settle(app)
    engine.suspend(paused.instance_id, "yunwei", "核查数据")
    paused_task = open_task(paused)
    project = db.session.scalar(sa.select(Project).filter_by(project_number=INSPECTED))
    assert project is not None
    inspection.open_inspection(project.id, "sample")
    settle(app)
    refused = Violations()
    with browser() as chromium:
        for width, viewport in WIDTHS.items():
            page = chromium.new_page(viewport=viewport, locale="zh-CN")
            page.set_default_timeout(15000)
            refused.watch(page)
            _inbox(page, site, (late.id, paused_task.id), width, shot)
            _city(page, site, width, shot)
            page.close()
    assert refused == [], "\n".join(refused)


def _inbox(page: Any, site: str, ids: tuple[int, str], width: str, shot: Shots) -> None:
    """The late application's row and the suspended task's, then the suspended task's page."""
    late, paused_task = ids
    sign_in(page, site, "yuzhong", demo.PASSWORD)
    page.goto(f"{site}/tasks")
    rows = page.locator("table.tasks tbody tr")
    late_row = rows.filter(has_text=f"申请 {late}")
    assert "11月26日（已超期 2 个工作日）" in late_row.inner_text()
    assert "overdue" in (late_row.get_attribute("class") or "")
    paused_row = rows.filter(has_text="暂停办理")
    assert paused_row.count() == 1
    assert "12月14日（剩 10 个工作日）" in paused_row.inner_text()
    assert page.locator("select[name=jurisdiction]").count() == 0  # the city's filter only
    shot(page, f"inbox-{width}")
    page.goto(f"{site}/tasks/{paused_task}")
    page.wait_for_selector("#task-suspended")
    assert page.locator("fieldset.task-work[disabled]").count() == 1
    shot(page, f"suspended-task-{width}")
    sign_out(page)


def _city(page: Any, site: str, width: str, shot: Shots) -> None:
    """The city's inbox filters by district (the district's had none); the inspection's task
    names the project in its row and its title."""
    sign_in(page, site, "shiji", demo.PASSWORD)
    page.goto(f"{site}/tasks")
    assert page.locator("select[name=jurisdiction]").count() == 1
    row = page.locator("table.tasks tbody tr", has_text="逐项审核并实地核查")
    assert INSPECTED in row.inner_text() and "渝中区解放碑片区城市更新住宅项目" in row.inner_text()
    shot(page, f"city-inbox-{width}")
    row.locator("a:has-text('逐项审核并实地核查')").click()
    page.wait_for_selector("h1:has-text('逐项审核并实地核查：渝中区解放碑片区城市更新住宅项目')")
    shot(page, f"inspection-task-{width}")
    sign_out(page)
