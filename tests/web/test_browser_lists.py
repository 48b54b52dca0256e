"""Reviewers' lists in a real browser (issue 18): a district reviewer walks 待办 → 已办 →
查询 → the project's page → 监督, and an enterprise searches its own, at desktop and phone
widths; no page breaks the Content-Security-Policy."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import lifecycle
from engine.db import db
from registry import demo
from registry.models import Application, User
from tests.processes.helpers import REVIEW_OK, open_task, settle
from tests.web.browser import Shots, browser, sign_in, sign_out
from tests.web.test_browser import _quiet
from tests.web.test_browser_csp import Violations
from tests.web.test_browser_ops import _intake
from web import workflow

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}


def test_a_reviewer_walks_from_the_inbox_to_done_search_project_and_supervision(
        app: Flask, site: str, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    waiting = _intake()
    reviewed = _intake()
    reviewed.project.name = "查询演示项目"  # the complaint below names it alone
    db.session.commit()
    settle(app)
    reviewer = db.session.scalar(sa.select(User).filter_by(username="yuzhong"))
    assert reviewer is not None
    lifecycle.tasks.complete_task(open_task(reviewed).id, REVIEW_OK, reviewer)
    settle(app)
    workflow.file_complaint({"project_name": "查询演示项目", "location_code": "500103",
                             "content": "<b>该项目合同系伪造</b>", "name": "王五"})
    settle(app)
    _quiet(app)
    violations = Violations()
    with browser() as chromium:
        page = chromium.new_page(viewport=DESKTOP, locale="zh-CN")
        page.set_default_timeout(15000)
        violations.watch(page)
        _reviewer(page, site, shot, waiting, reviewed)
        _enterprise(page, site, shot, reviewed)
    assert violations == []


def _reviewer(page: Any, site: str, shot: Shots, waiting: Application,
              reviewed: Application) -> None:
    """待办 → 已办 → 查询 → the project's page → 监督, and a bad filter."""
    sign_in(page, site, "yuzhong", demo.PASSWORD)
    page.goto(f"{site}/tasks")
    assert page.locator(".list-tabs a[aria-current=page]").inner_text().startswith("待办")
    assert page.locator(f"table.tasks tr:has-text('申请 {waiting.id}')").count() == 1
    shot(page, "open")

    page.click(".list-tabs a:has-text('已办')")
    page.wait_for_url(f"{site}/done")
    row = page.locator(f"#done tr:has-text('申请 {reviewed.id}')")
    assert "审核通过" in row.inner_text()
    shot(page, "done")

    page.click("header nav a:has-text('查询')")
    page.wait_for_url(f"{site}/applications")
    page.fill("#number", str(reviewed.id))
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/applications?*")
    assert page.locator("#results tbody tr").count() == 1
    shot(page, "search")

    page.click(f"#results a[href='/projects/{reviewed.project_id}']")
    page.wait_for_url(f"{site}/projects/{reviewed.project_id}")
    assert page.locator("#applications tbody tr").count() == 1
    assert "投诉举报" in page.inner_text("#inspections")
    shot(page, "project")

    page.click("header nav a:has-text('监督')")
    page.wait_for_url(f"{site}/supervision/complaints")
    assert "<b>该项目合同系伪造</b>" in page.inner_text("#complaints")  # shown as text
    assert page.locator("#complaints b").count() == 0
    shot(page, "complaints")
    page.click(".list-tabs a:has-text('重点检查与抽查')")
    page.wait_for_selector("#inspections")
    assert "检查中" in page.inner_text("#inspections")
    shot(page, "inspections")
    page.goto(f"{site}/applications?from=2026-13-45&page=abc")
    assert "「提交日期自」应为日期" in page.inner_text("main")
    shot(page, "bad-filter")
    sign_out(page)


def _enterprise(page: Any, site: str, shot: Shots, reviewed: Application) -> None:
    """An enterprise's search and its project's page at desktop and phone widths."""
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        sign_in(page, site, "qiye", demo.PASSWORD)
        page.click("header nav a:has-text('查询')")
        page.wait_for_url(f"{site}/applications")
        assert page.locator("#results tbody tr").count() == 2
        shot(page, f"enterprise-search-{width}")
        page.click(f"#results a[href='/projects/{reviewed.project_id}']")
        page.wait_for_selector("#parties")
        assert page.locator("#inspections").count() == 0
        shot(page, f"enterprise-project-{width}")
        sign_out(page)
