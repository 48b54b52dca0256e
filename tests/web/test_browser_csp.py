"""The Content-Security-Policy in a real browser: each role's main pages, the diagrams and the
modeler included, work with no inline script and no violation reported; the review task's
PDF preview loads pdf.js and its worker within the policy."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from engine.db import db
from engine.models import Definition
from registry import demo
from registry.models import Application
from tests.processes.helpers import settle
from tests.web.browser import Shots, browser, sign_in, sign_out
from tests.web.test_browser import _quiet
from tests.web.test_browser_ops import _intake

WATCH = """window.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolation([e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber].join(" "));
});"""
"""Reports every violation of the page (and of its frames) to the test."""


class Violations(list[str]):
    """What the browser refused on a page: violation events and console errors about them."""

    def watch(self, page: Any) -> None:
        page.expose_binding("cspViolation", lambda _source, text: self.append(text))
        page.add_init_script(WATCH)
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type == "error" and any(word in message.text for word in (
                "Content Security Policy", "Refused", "X-Frame-Options")):
            self.append(message.text)


def _visit(page: Any, url: str, *, ready: str | None = None) -> None:
    page.goto(url)
    if ready:
        page.wait_for_selector(f"{ready}[data-ready=true] svg")
    page.wait_for_load_state()


def _enterprise(page: Any, site: str, application: Application) -> None:
    for path in ("/portal", "/applications/new", f"/applications/{application.id}"):
        _visit(page, site + path)
    _visit(page, f"{site}/no-such-page")
    page.click("a:has-text('返回上一页')")
    page.wait_for_url(f"{site}/applications/{application.id}")


def _reviewer(page: Any, site: str, _application: Application) -> None:
    """The review task lists the four PDFs; a preview loads pdf.js and its worker from our
    origin (this test's PDFs have no page, which the viewer says in Chinese)."""
    _visit(page, f"{site}/tasks")
    page.click("table.tasks a >> nth=0")
    page.wait_for_selector("#work")
    assert page.locator("#attachments button.preview-open").count() == 4
    page.click("#attachments button.preview-open >> nth=0")
    page.wait_for_selector("#viewer-status.error")
    assert "无法预览该 PDF" in page.inner_text("#viewer-status")
    page.click("#viewer-close")


def _ops(page: Any, site: str, application: Application) -> None:
    _visit(page, f"{site}/ops/instances/{application.instance_id}", ready="#diagram")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.fill("#terminate-reason", "核对")
    page.click("button:has-text('终止')")  # asked first, and not sent when declined
    assert asked == ["终止后不能恢复，确定终止该实例吗？"]
    assert "已终止" not in page.inner_text("#instance-status")
    _visit(page, f"{site}/ops/incidents")


def _analyst(page: Any, site: str, application: Application) -> None:
    intake = db.session.scalar(sa.select(Definition).filter_by(key="intake", version=1))
    assert intake is not None
    _visit(page, f"{site}/models")
    _visit(page, f"{site}/models/intake/1", ready="#diagram")
    page.check("input[data-check-all]")  # the select-all box works without inline script
    assert page.is_checked(f"input[name=instance][value='{application.instance_id}']")
    _visit(page, f"{site}/models/upload")
    _visit(page, f"{site}/models/edit?definition={intake.id}", ready="#modeler")
    _align_menu(page)
    _simulate(page)


def _simulate(page: Any) -> None:
    """Token simulation: a token started at the start event runs to the first user task,
    with its counters and log (coloured by the simulation, without style attributes)."""
    page.evaluate("""() => { const m = window.cqpiModeler; m.get('selection').select([]); }""")
    page.click("#simulate")
    page.wait_for_selector("#simulate[aria-pressed=true]")
    start = ".djs-overlays[data-container-id=Event_Submitted]"
    page.click(f"{start} .bts-context-pad[title='Trigger Event']")
    page.wait_for_selector(".bts-notification")


def _align_menu(page: Any) -> None:
    """Select the user tasks and open bpmn-js's align menu, whose icons come with style=""."""
    page.evaluate("""() => { const m = window.cqpiModeler, all = m.get('elementRegistry');
        m.get('selection').select(all.filter(e => e.type === 'bpmn:UserTask')); }""")
    page.click(".djs-context-pad [data-action='align-elements']")
    icon = page.locator(".djs-popup-entry-icon svg rect").first
    assert icon.get_attribute("stroke") == "currentColor"  # restyled, not refused


ROLES = (("qiye", _enterprise), ("yuzhong", _reviewer), ("yunwei", _ops), ("fenxi", _analyst))
"""Who sees which pages, in the order they are visited."""


def test_the_pages_of_every_role_keep_to_the_policy(
        app: Flask, site: str, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    application = _intake()
    settle(app)
    _quiet(app)
    refused = Violations()
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        refused.watch(page)
        for username, visit in ROLES:
            sign_in(page, site, username, demo.PASSWORD)
            visit(page, site, application)
            shot(page, username)
            sign_out(page)
        page.close()
    assert refused == []
