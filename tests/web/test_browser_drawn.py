"""A procedure drawn in the analysts' modeler, not uploaded (issue 17): on a new diagram the
analyst wraps the start event in a pool of two lanes, appends a task, a gateway and two end
events from the context pad, makes the task a user task through the replace menu, fills every
property the engine reads in bpmn.io's properties panel (process id and name, lane roles,
forms attached as .form files from the form designer, the condition, the default flow),
validates and deploys; then the builder starts it from the portal, Yuzhong's reviewer
approves it in the inbox and ops sees it finished, as for an uploaded one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from registry import demo
from tests.web.browser import Shots, browser, sign_in, sign_out
from tests.web.test_browser_csp import Violations
from tests.web.test_browser_self_check import _ops, _review, _start

FORMS = Path(__file__).resolve().parents[1] / "forms"


def test_an_analyst_draws_the_self_check_and_it_runs(
        site: str, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    refused = Violations()
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
        page.set_default_timeout(15000)
        refused.watch(page)
        _draw(page, site, shot)
        key = _start(page, site, shot)
        _review(page, site, key, shot)
        _ops(page, site, key, shot)
        page.close()
    assert refused == [], "\n".join(refused)


def _entry(entry_id: str) -> str:
    return f"#properties #bio-properties-panel-{entry_id}"


def _click(page: Any, element_id: str) -> None:
    """Click an element of the diagram (it is selected, its context pad opens): a pool or a
    lane on its name band, a flow on its last segment, anything else in its middle."""
    box = page.evaluate("""id => { const m = window.cqpiModeler,
        e = m.get('elementRegistry').get(id), vb = m.get('canvas').viewbox(),
        r = m.get('canvas')._container.getBoundingClientRect(),
        at = (x, y) => ({ x: r.left + (x - vb.x) * vb.scale, y: r.top + (y - vb.y) * vb.scale });
        if (e.type === 'bpmn:Participant' || e.type === 'bpmn:Lane') {
            return at(e.x + 12, e.y + e.height / 2); }
        if (e.waypoints) { const [a, b] = e.waypoints.slice(-2);
                           return at(a.x + (b.x - a.x) * 0.6, a.y + (b.y - a.y) * 0.6); }
        return at(e.x + e.width / 2, e.y + e.height / 2); }""", element_id)
    canvas = page.locator("#modeler .djs-container").bounding_box()
    for _ in range(3):  # a first click may only end the editing of a label
        # first on nothing (the last selection's context pad may cover the point), then on it
        page.mouse.click(canvas["x"] + canvas["width"] - 40, canvas["y"] + 20)
        page.mouse.click(box["x"], box["y"])
        if page.evaluate("""id => { const s = window.cqpiModeler.get('selection').get();
                            return s.length === 1 && s[0].id === id; }""", element_id):
            return
    raise AssertionError(f"{element_id} is not selected by a click")


def _only(page: Any, kind: str) -> list[str]:
    """The ids of the diagram's elements of ``kind`` (labels aside), left to right."""
    return page.evaluate("""kind => window.cqpiModeler.get('elementRegistry')
        .filter(e => e.type === kind && !e.labelTarget).sort((a, b) => a.x - b.x)
        .map(e => e.id)""", kind)


def _append(page: Any, source: str, action: str, kind: str) -> str:
    before = set(_only(page, kind))
    _click(page, source)
    page.click(f".djs-context-pad [data-action='{action}']")
    [made] = set(_only(page, kind)) - before
    return made


def _draw(page: Any, site: str, shot: Shots) -> None:
    sign_in(page, site, "fenxi", demo.PASSWORD)
    page.goto(f"{site}/models/edit")
    page.wait_for_selector("#modeler[data-ready=true]")
    page.set_input_files("#attach", [str(FORMS / "self_check.form"),
                                     str(FORMS / "self_check_review.form")])
    page.wait_for_selector("#attached-now:has-text('self_check_review.form')")

    [start] = _only(page, "bpmn:StartEvent")
    task = _append(page, start, "append.append-task", "bpmn:Task")
    _click(page, task)
    page.click(".djs-context-pad [data-action='replace']")
    page.click(".djs-popup [data-id='replace-with-user-task']")
    [task] = _only(page, "bpmn:UserTask")
    gateway = _append(page, task, "append.gateway", "bpmn:ExclusiveGateway")
    approved = _append(page, gateway, "append.end-event", "bpmn:EndEvent")
    returned = _append(page, gateway, "append.end-event", "bpmn:EndEvent")
    _pool_of_two_lanes(page, [task, gateway, approved, returned])
    shot(page, "drawn")

    _properties(page, start, task, gateway)
    page.click("#validate")  # the gateway's two flows have neither condition nor default
    page.wait_for_selector("#check li.error:has-text('既没有条件也不是默认分支')")
    shot(page, "flows-refused")

    to_approved, to_returned = _flows_from(page, gateway, [approved, returned])
    _click(page, to_approved)
    page.fill(_entry("cqpi-condition"), 'decision == "approve"')
    _click(page, to_returned)
    page.click(".djs-context-pad [data-action='replace']")
    page.click(".djs-popup [data-id='replace-with-default-flow']")
    page.click("#validate")
    page.wait_for_selector("#valid")
    shot(page, "drawn-valid")
    page.click("#deploy")
    page.wait_for_selector("text=已部署：self_check v1")
    shot(page, "deployed")
    sign_out(page)


def _properties(page: Any, start: str, task: str, gateway: str) -> None:
    """What the engine reads, filled in the properties panel."""
    [pool] = _only(page, "bpmn:Participant")
    _click(page, pool)
    page.fill(_entry("processId"), "self_check")
    page.fill(_entry("processName"), "项目数据年度自查")
    enterprise, district = _lanes(page)
    for lane, role in ((enterprise, "参建单位"), (district, "区县住建主管部门")):
        _click(page, lane)
        page.select_option(_entry("cqpi-lane"), role)
    _click(page, start)
    page.fill(_entry("name"), "自查已提交")
    page.select_option(_entry("cqpi-formKey"), "self_check")
    _click(page, task)
    page.fill(_entry("name"), "区县审核")
    page.select_option(_entry("cqpi-formKey"), "self_check_review")
    _click(page, gateway)
    page.fill(_entry("name"), "自查是否通过?")


def _pool_of_two_lanes(page: Any, lower: list[str]) -> None:
    """A pool around the drawing (bpmn-js wraps what is there), divided into two lanes from
    its context pad; the elements in ``lower`` dragged down into the second lane."""
    page.click(".djs-palette [data-action='create.participant-expanded']")
    canvas = page.locator("#modeler .djs-container").bounding_box()
    page.mouse.move(canvas["x"] + 300, canvas["y"] + 200)
    page.mouse.click(canvas["x"] + 300, canvas["y"] + 200)
    page.keyboard.press("Escape")
    [pool] = _only(page, "bpmn:Participant")
    _click(page, pool)
    page.click(".djs-context-pad [data-action='lane-divide-two']")
    _, district = _lanes(page)
    page.evaluate("""([ids, lane]) => { const m = window.cqpiModeler,
        all = m.get('elementRegistry'), target = all.get(lane),
        shapes = ids.map(id => all.get(id)), top = Math.min(...shapes.map(s => s.y));
        m.get('modeling').moveElements(shapes, { x: 0, y: target.y + 40 - top }, target); }""",
                  [lower, district])
    # moved clear of the palette, as a person would pan
    page.evaluate("() => window.cqpiModeler.get('canvas').scroll({ dx: 150, dy: 0 })")


def _lanes(page: Any) -> tuple[str, str]:
    upper, lower = page.evaluate("""() => window.cqpiModeler.get('elementRegistry')
        .filter(e => e.type === 'bpmn:Lane').sort((a, b) => a.y - b.y).map(e => e.id)""")
    return upper, lower


def _flows_from(page: Any, source: str, targets: list[str]) -> list[str]:
    return page.evaluate("""([source, targets]) => targets.map(t => window.cqpiModeler
        .get('elementRegistry').filter(e => e.type === 'bpmn:SequenceFlow' &&
        e.source.id === source && e.target.id === t)[0].id)""", [source, targets])
