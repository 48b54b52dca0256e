"""The version diff in a real browser: both versions' diagrams side by side with
bpmn-js-differ's result marked (added green on the new one, removed red on the old one,
changed amber and moved blue on both, a badge on each), a legend with the counts, a row of the
table selecting its element on both sides, both viewers moving together, and no violation of
the Content-Security-Policy."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from registry import demo
from tests.web.browser import Shots, browser, sign_in
from tests.web.test_browser import _quiet
from tests.web.test_browser_csp import Violations
from tests.web.test_model_diff import deploy_second_version

MARKED = {
    "old": {"Task_MarkWithdrawn": "removed", "Task_DistrictReview": "changed",
            "Task_CityReview": "changed", "Flow_Withdraw": "changed",
            "Flow_Withdrawn": "changed", "Lane_Unit": "changed", "Event_Entered": "moved"},
    "new": {"Task_Withdraw": "added", "Task_DistrictReview": "changed",
            "Task_CityReview": "changed", "Flow_Withdraw": "changed",
            "Flow_Withdrawn": "changed", "Lane_Unit": "changed", "Event_Entered": "moved"},
}
"""Each side's marks: the renamed task and the one whose form key changed, the flows of the
replaced step and its lane (whose members the server compares) changed, the end event moved."""

KINDS = ("added", "removed", "changed", "moved")


def _element(page: Any, side: str, element_id: str) -> Any:
    return page.locator(f"#diagram-{side} g.djs-element[data-element-id='{element_id}']")


def _marks(page: Any, side: str) -> dict[str, str]:
    """The diff marks on one side's diagram: element id -> kind."""
    return page.evaluate("""side => {
        const found = {};
        document.querySelectorAll(`#diagram-${side} g.djs-element[data-element-id]`).forEach(g => {
            const kind = ['added', 'removed', 'changed', 'moved'].find(
                k => g.classList.contains('diff-' + k));
            if (kind) { found[g.getAttribute('data-element-id')] = kind; }
        });
        return found; }""", side)


SAME_VIEW = """() => {
    const m = s => (document.querySelector(`#diagram-${s} svg g.viewport`)
        .getAttribute('transform') || '').match(/-?[\\d.e-]+/g).map(Number);
    const [a, b] = [m('old'), m('new')];
    return a.every((v, i) => Math.abs(v - b[i]) <= 0.01 * Math.max(1, Math.abs(v))) && a; }"""
"""Whether both diagrams show the same viewbox (its matrix, else false): one side's is set
from the other's, rounded."""


def _same_view(page: Any) -> list[float]:
    view = page.evaluate(SAME_VIEW)
    assert view, "the two diagrams show different viewboxes"
    return list(view)


def test_the_diff_is_drawn_on_both_diagrams(
        app: Flask, site: str, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    deploy_second_version()
    _quiet(app)
    refused = Violations()
    with browser() as chromium:
        page = _diff_page(chromium, site, refused)
        _marked(page, shot)
        centred = _chosen(page, shot)
        _zoomed_together(page, centred, shot)
        page.close()
    assert refused == []


def _diff_page(chromium: Any, site: str, refused: Violations) -> Any:
    """The analyst's diff page between intake v1 and v2, both diagrams drawn and marked, its
    policy violations watched from the start."""
    page = chromium.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    refused.watch(page)
    page.set_default_timeout(15000)
    sign_in(page, site, "fenxi", demo.PASSWORD)
    page.goto(f"{site}/models/intake/diff?from=1&to=2")
    page.wait_for_selector("#differ[data-ready=true]")
    return page


def _marked(page: Any, shot: Shots) -> None:
    """Each side's marks and badges, the legend's counts, one viewbox for both."""
    assert _marks(page, "old") == MARKED["old"]
    assert _marks(page, "new") == MARKED["new"]
    assert _element(page, "new", "Task_MarkWithdrawn").count() == 0
    assert _element(page, "old", "Task_Withdraw").count() == 0
    counts = {k: page.inner_text(f"#differ [data-count={k}]") for k in KINDS}
    assert counts == {"added": "1", "removed": "1", "changed": "5", "moved": "1"}
    assert page.locator("#diagram-new .diff-badge-added").count() == 1
    assert page.locator("#diagram-old .diff-badge-removed").count() == 1
    assert page.locator("#diagram-old .diff-badge").count() == len(MARKED["old"])
    assert page.get_attribute(
        "#diagram-new .djs-overlays[data-container-id='Task_CityReview'] .diff-badge",
        "title") == "表单: review → sampling_result"
    assert "新增" in page.inner_text(".diff-legend")
    _same_view(page)
    shot(page, "marked")


def _chosen(page: Any, shot: Shots) -> list[float]:
    """An element selects its row; a row selects its element on both sides (the one side
    that has it, for a removed element) and centres it. The view it ends on."""
    fitted = _same_view(page)
    _element(page, "new", "Task_Withdraw").click()
    page.wait_for_selector("#changes tr.diff-current[data-element-id='Task_Withdraw']")
    assert "selected" in (_element(page, "new", "Task_Withdraw").get_attribute("class") or "")

    page.click("#changes tr[data-element-id='Task_CityReview']")
    for side in ("old", "new"):
        page.wait_for_selector(
            f"#diagram-{side} g.djs-element.selected[data-element-id='Task_CityReview']")
    assert page.locator("#changes tr.diff-current").count() == 1
    assert page.get_attribute("#changes tr.diff-current", "data-element-id") == \
        "Task_CityReview"
    assert _same_view(page) != fitted
    shot(page, "row-selected")

    page.click("#changes tr[data-element-id='Task_MarkWithdrawn']")  # only in v1
    page.wait_for_selector(
        "#diagram-old g.djs-element.selected[data-element-id='Task_MarkWithdrawn']")
    assert page.locator("#diagram-new g.djs-element.selected").count() == 0
    shot(page, "removed-selected")
    return _same_view(page)


def _zoomed_together(page: Any, before: list[float], shot: Shots) -> None:
    """Zooming in on the old version zooms the new one alike."""
    box = page.locator("#diagram-old").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -240)
    page.keyboard.up("Control")
    page.wait_for_function(f"(() => {{ const v = ({SAME_VIEW})(); "
                           f"return v && v[0] > {before[0]}; }})()")
    shot(page, "zoomed-together")
