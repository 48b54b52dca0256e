"""The browser tests' accessibility check: axe-core (npm, pinned in package.json) run on every
page of the app a browser test visits. A "critical" violation fails the test, naming the rule,
the page and the elements; "serious" ones are written to ``test-output/accessibility/`` for
people to look at.

axe is evaluated into the page through the DevTools protocol (``page.evaluate`` with the
file's text): a ``<script>`` tag added by Playwright would be inline script, which the pages'
Content-Security-Policy refuses, and the policy is not loosened for the check.

``watch(page)`` (installed by ``browser()`` on every page) runs the check on a page the first
time the test touches it after it loaded (before the next action, which may leave it), and
``Shots`` runs it before each screenshot (the state the test waited for, drawn by script).
``CQPI_AXE=report`` records critical violations without failing (to list them all at once)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
REPORTS = Path(os.environ.get("CQPI_TEST_OUTPUT", ROOT / "test-output")) / "accessibility"

EXCLUDE: list[str] = []
"""Containers of markup drawn by third-party libraries that we cannot change at the source,
left out of the check (axe's ``exclude``). None so far: what bpmn-js, form-js, the properties
panel, bpmnlint and the token simulation draw in the browser tests has no critical violation."""

FAILING = ("critical",)
RECORDED = ("critical", "serious")

RUN = """async ([exclude]) => {
  const result = await window.axe.run({exclude: exclude.map(s => [s])},
                                      {resultTypes: ["violations"], iframes: false});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200)}))}));
}"""
"""Our page's own document only: frames (the PDF viewer's) are not entered."""

ACTIONS = (
    "goto", "reload", "go_back", "go_forward", "close", "screenshot",
    "click", "dblclick", "fill", "type", "press", "check", "uncheck", "select_option",
    "set_input_files", "hover", "focus", "tap", "drag_and_drop", "dispatch_event",
    "locator", "get_by_role", "get_by_text", "get_by_label", "get_by_placeholder",
    "get_by_title", "get_by_test_id", "query_selector", "query_selector_all",
    "eval_on_selector", "eval_on_selector_all", "evaluate", "inner_text", "text_content",
    "input_value", "get_attribute", "is_visible", "is_checked", "content",
)
"""Page methods before which a page that loaded since its last check is checked."""


class AccessibilityError(AssertionError):
    """A critical violation on a page of the app."""


def _source() -> str | None:
    if SOURCE.exists():
        return SOURCE.read_text(encoding="utf-8")
    if os.environ.get("CQPI_REQUIRE_SERVICES") == "1":
        pytest.fail(f"axe-core is required for the browser tests but {SOURCE} is missing "
                    "(make install)")
    return None


def _test_name() -> str:
    current = os.environ.get("PYTEST_CURRENT_TEST", "outside-a-test")
    return re.sub(r"[^\w.-]+", "_", current.split(" ")[0].split("::")[-1])


_recorded: dict[str, dict[str, None]] = {}


def _record(lines: list[str]) -> None:
    """Keep each test's pages and violations (once each, in order) in its own report file."""
    name = _test_name()
    kept = _recorded.setdefault(name, {})
    kept.update(dict.fromkeys(lines))
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name}.txt").write_text("".join(f"{line}\n" for line in kept), "utf-8")


def _describe(url: str, violation: dict[str, Any]) -> str:
    targets = "; ".join(node["target"] for node in violation["nodes"])
    return f"{violation['impact']} {violation['id']} ({violation['help']}) at {url}: {targets}"


def _path(url: str) -> str:
    """The page without the test server's origin (its port changes with every run)."""
    return re.sub(r"^https?://[^/]+", "", url) or "/"


def in_scope(url: str) -> bool:
    """The app's pages: http(s), not about:blank, data: or Chromium's error and PDF pages."""
    return url.startswith(("http://", "https://"))


def violations(page: Any, evaluate: Any = None) -> list[dict[str, Any]]:
    """axe's violations on the page's document (axe evaluated into it first if need be)."""
    evaluate = evaluate or page.evaluate
    source = _source()
    if source is None:
        return []
    if not evaluate("() => document.contentType === 'text/html'"):
        return []  # Chromium's PDF viewer, an image, a download
    if not evaluate("() => typeof window.axe === 'object'"):
        evaluate(f"{source}\n;0")
    found: list[dict[str, Any]] = evaluate(RUN, [EXCLUDE])
    return found


def check(page: Any, evaluate: Any = None) -> None:
    """Fail on a critical violation on the page; record serious ones."""
    url = page.url
    found = [v for v in violations(page, evaluate) if v["impact"] in RECORDED]
    _record([f"checked {_path(url)}"] + [_describe(_path(url), v) for v in found])
    failing = [v for v in found if v["impact"] in FAILING]
    if failing and os.environ.get("CQPI_AXE") != "report":
        raise AccessibilityError("accessibility (axe-core): " + "\n".join(
            _describe(url, v) + "\n  " + "\n  ".join(n["html"] for n in v["nodes"])
            for v in failing))


class Watch:
    """Checks a page once after each load of its main frame, before the test's next action."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.original = {name: getattr(page, name) for name in ACTIONS}
        self.pending = False
        page.on("framenavigated", self._navigated)
        for name in ACTIONS:
            setattr(page, name, self._before(name))

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.pending = True

    def _before(self, name: str) -> Any:
        original = self.original[name]

        def action(*args: Any, **kwargs: Any) -> Any:
            self.settle()
            return original(*args, **kwargs)
        return action

    def settle(self) -> None:
        """Check the page if it loaded since its last check."""
        if self.pending and not self.page.is_closed():
            self.check()

    def check(self) -> None:
        self.pending = False
        if not in_scope(self.page.url):
            return
        try:
            self.page.wait_for_load_state("load", timeout=10_000)
            check(self.page, self.original["evaluate"])
        except AccessibilityError:
            raise
        except Exception as error:  # noqa: BLE001 - it left the page: checked after its next load
            if "context was destroyed" not in str(error) and "navigat" not in str(error):
                raise
            self.pending = True


def watch(page: Any) -> Watch:
    watcher = Watch(page)
    page._cqpi_axe = watcher
    return watcher


def settle(page: Any) -> None:
    """Check a watched page that loaded since its last check (the end of a test)."""
    watcher = getattr(page, "_cqpi_axe", None)
    if watcher is not None:
        watcher.settle()


def check_now(page: Any) -> None:
    """Check a page now (before a screenshot: the state a test waited for)."""
    watcher = getattr(page, "_cqpi_axe", None)
    if watcher is not None:
        watcher.check()
    elif in_scope(page.url):
        check(page)
