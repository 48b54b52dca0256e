"""The accessibility check of the browser tests can fail: a page with critical violations
(served under the app's Content-Security-Policy) makes it raise, naming the rule, the page and
the elements, whether it is called, runs before the test's next action on a page that loaded,
or before a screenshot; a clean page passes and the policy reports nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web import axe
from tests.web.browser import Shots, browser
from web.headers import POLICY

BAD = """<!doctype html><html lang="zh-CN"><head><title>坏页面</title></head>
<body><main><h1>坏页面</h1><input id="nameless"><img src="/logo.png" class="bare">
<button id="silent"></button></main></body></html>"""

GOOD = """<!doctype html><html lang="zh-CN"><head><title>好页面</title></head>
<body><main><h1>好页面</h1><label for="named">名称</label><input id="named">
<button>提交</button></main></body></html>"""


def _serve(page: Any) -> list[str]:
    """Both pages on a made-up origin, with the app's policy; what the console says."""
    said: list[str] = []
    page.on("console", lambda message: said.append(message.text))
    for path, body in (("/bad", BAD), ("/good", GOOD)):
        page.route(f"http://a11y.test{path}", _answer(body))
    page.route("http://a11y.test/logo.png", lambda route: route.fulfill(status=404))
    return said


def _answer(body: str) -> Any:
    return lambda route: route.fulfill(body=body, content_type="text/html; charset=utf-8",
                                       headers={"Content-Security-Policy": POLICY})


def test_a_critical_violation_fails_the_check_naming_rule_page_and_elements() -> None:
    with browser() as chromium:
        page = chromium.new_page(locale="zh-CN")
        _serve(page)
        page.goto("http://a11y.test/bad")
        with pytest.raises(axe.AccessibilityError) as failed:
            axe.check(page)
        text = str(failed.value)
        for words in ("critical label", "critical image-alt", "critical button-name",
                      "http://a11y.test/bad", "#nameless", "class=\"bare\"", "#silent"):
            assert words in text


def test_the_page_is_checked_before_the_next_action_and_before_a_screenshot(
        request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    with browser() as chromium:
        page = chromium.new_page(locale="zh-CN")
        said = _serve(page)
        page.goto("http://a11y.test/good")
        page.fill("#named", "可以")  # checked first: nothing to say
        shot(page, "good")
        page.goto("http://a11y.test/bad")  # the good page was checked already
        with pytest.raises(axe.AccessibilityError, match="#nameless"):
            page.inner_text("h1")
        page.inner_text("h1")  # each load is checked once
        with pytest.raises(axe.AccessibilityError, match="http://a11y.test/bad"):
            shot(page, "bad")
        assert not [text for text in said if "Content Security Policy" in text]
