"""统计 in a real browser (issue 19): the city filters the dashboard by period and district
and the charts are drawn (ECharts' canvas) above their tables; a district reviewer sees their
district without a district filter; screenshots, no Content-Security-Policy violation."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.web.browser import Shots, browser, served, sign_in, sign_out
from tests.web.test_browser_csp import Violations
from tests.web.test_statistics import known_data


def test_the_dashboard_filtered_with_its_charts_drawn(
        app: Flask, request: pytest.FixtureRequest) -> None:
    known_data()
    shot = Shots(request.node.name)
    refused = Violations()
    with served(app) as site, browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        refused.watch(page)
        sign_in(page, site, "city-reviewer", "password-123")
        page.click("#statistics-link")
        page.wait_for_selector("#chart-applications")
        page.fill("#from", "2026-01-01")
        page.fill("#to", "2026-12-31")
        page.select_option("#district", "500103")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**district=500103**")
        _drawn(page)
        rows = page.locator("#table-applications tbody tr")
        assert [rows.nth(i).inner_text().split("\t") for i in range(rows.count())] == [
            ["渝中区", "入库", "已办结（已推送全国平台）", "3"],
            ["渝中区", "入库", "审核中", "2"]]
        assert "江北区" not in page.locator("main").inner_text().replace(
            page.locator("#district").inner_text(), "")
        durations = page.locator("#table-durations tbody tr").first.inner_text()
        assert durations.split("\t") == ["渝中区", "3", "6.3", "9.0"]
        shot(page, "city-yuzhong-2026")
        sign_out(page)

        sign_in(page, site, "jb-reviewer", "password-123")
        page.goto(f"{site}/statistics?from=2026-01-01&to=2026-12-31")
        _drawn(page)
        assert page.locator("#district").count() == 0
        assert "渝中区" not in page.locator("main").inner_text()
        shot(page, "jiangbei-reviewer")
        page.close()
    assert refused == [], "\n".join(refused)


def _drawn(page: Any) -> None:
    for chart in ("applications", "tasks", "durations", "sampling"):
        page.wait_for_selector(f"#chart-{chart}[data-drawn=yes] canvas", state="attached")
