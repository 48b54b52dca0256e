"""The analysts' console in a real browser: a diagram with a broken gateway is refused with
the problem on its element; the fixed one deploys as version 2; new applications run on it,
an old one finishes on version 1, another moves to version 2; the modeler keeps what the
engine reads and marks a wrong form key on its task."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from lxml import etree

import lifecycle
from engine.db import db
from engine.models import Definition, Instance
from registry import demo
from registry.models import Application, User
from tests.processes.helpers import PROCESSES, REVIEW_OK, open_task, settle
from tests.web.browser import Shots, browser, sign_in
from tests.web.test_browser import _quiet
from tests.web.test_browser_ops import _intake

INTAKE = (PROCESSES / "intake.bpmn").read_text()
BROKEN = INTAKE.replace(' default="Flow_ToDistrict"', "", 1)
FIXED = INTAKE.replace('name="逐项核实申报信息"', 'name="逐项核实申报信息（第二版）"', 1)



def _version_of(application: Application) -> int:
    db.session.expire_all()
    instance = db.session.get(Instance, application.instance_id)
    assert instance is not None
    definition = db.session.get(Definition, instance.definition_id)
    assert definition is not None
    return definition.version


def test_an_analyst_fixes_a_diagram_deploys_v2_and_moves_an_instance(
        app: Flask, site: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    assert INTAKE not in (BROKEN, FIXED)
    shot = Shots(request.node.name)
    stays, moves = _intake(), _intake()
    settle(app)
    _quiet(app)
    (tmp_path / "intake.bpmn").write_text(BROKEN)
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        _upload_broken_then_fixed(page, site, tmp_path, shot)
        page.goto(f"{site}/models/intake/1")  # the old version's running instances
        page.check(f"input[name=instance][value='{moves.instance_id}']")
        page.click("#migrate")
        page.wait_for_selector("text=已将 1 个实例迁移到 v2")
        page.goto(f"{site}/models/intake/diff?from=1&to=2")
        assert "逐项核实申报信息（第二版）" in page.inner_text("#changes")
        shot(page, "diff")

        _modeler_marks_a_wrong_form_key(page, site, shot)
        page.close()
    fresh = _intake()
    assert (_version_of(stays), _version_of(moves), _version_of(fresh)) == (1, 2, 2)
    reviewer = db.session.scalar(sa.select(User).filter_by(username="yuzhong"))
    for application in (stays, moves, fresh):
        lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, reviewer)
    settle(app)
    settle(app, travel=timedelta(days=20))
    for application in (stays, moves, fresh):
        db.session.refresh(application)
        assert application.status == "approved", application.id
    assert _version_of(stays) == 1


def _upload_broken_then_fixed(page: Any, site: str, tmp_path: Path, shot: Shots) -> None:
    sign_in(page, site, "fenxi", demo.PASSWORD)
    assert page.url.endswith("/models")
    page.click("a:has-text('上传 BPMN 文件')")
    page.set_input_files("#file", str(tmp_path / "intake.bpmn"))
    page.click("button:has-text('校验')")
    assert "既没有条件也不是默认分支" in page.inner_text("#problems")
    page.wait_for_selector("#diagram[data-ready=true]")
    flow = page.locator("g.djs-element[data-element-id='Flow_ToDistrict']")
    assert "cqpi-problem" in (flow.get_attribute("class") or "")
    assert page.locator(".problem-badge").count() >= 1
    shot(page, "broken-gateway")

    (tmp_path / "intake.bpmn").write_text(FIXED)
    page.set_input_files("#file", str(tmp_path / "intake.bpmn"))
    page.click("button:has-text('校验')")
    page.wait_for_selector("text=校验通过")
    page.click("#deploy")
    page.wait_for_selector("text=已部署：intake v2")
    shot(page, "deployed-v2")


def _modeler_marks_a_wrong_form_key(page: Any, site: str, shot: Shots) -> None:
    v2 = db.session.scalar(sa.select(Definition).filter_by(key="intake", version=2))
    assert v2 is not None
    page.goto(f"{site}/models/edit?definition={v2.id}")
    page.wait_for_selector("#modeler[data-ready=true]")
    page.click("#validate")
    page.wait_for_selector("#valid")  # bpmn-js keeps every extension the engine reads
    _select(page, "Task_DistrictReview")
    assert page.input_value(_entry("cqpi-formKey")) == "review"
    page.select_option(_entry("cqpi-formKey"), "")  # （无）: no form
    page.fill(_entry("cqpi-dueIn"), "三天")
    _expect_marked(page, "Task_DistrictReview")
    assert "用户任务没有指定表单" in page.inner_text("#check")
    shot(page, "modeler-problem")


def _entry(entry_id: str) -> str:
    """The input of an entry of bpmn.io's properties panel."""
    return f"#properties #bio-properties-panel-{entry_id}"


def _select(page: Any, element_id: str) -> None:
    """Select a diagram element in the modeler (its properties open in the panel)."""
    page.evaluate("""id => { const m = window.cqpiModeler;
                             m.get('selection').select(m.get('elementRegistry').get(id)); }""",
                  element_id)


def _expect_marked(page: Any, element_id: str) -> None:
    """Validate; the element gets marked with a problem (waited for: an earlier validation's
    problems may still be on the page while this one's answer is on its way)."""
    page.click("#validate")
    page.wait_for_selector(f"g.djs-element.cqpi-problem[data-element-id='{element_id}']")


def test_the_modeler_edits_a_timer_and_a_message_and_deploys_them(
        app: Flask, site: str, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    v1 = db.session.scalar(sa.select(Definition).filter_by(key="publicity_and_push", version=1))
    assert v1 is not None
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        sign_in(page, site, "fenxi", demo.PASSWORD)
        page.goto(f"{site}/models/edit?definition={v1.id}")
        page.wait_for_selector("#modeler[data-ready=true]")
        _select(page, "Event_PublicityEnded")
        assert "定时捕获事件" in page.inner_text("#properties .bio-properties-panel-header")
        timer_kind, timer = _entry("timerEventDefinitionType"), _entry("timerEventDefinitionValue")
        assert page.input_value(timer_kind) == "timeDate"
        assert page.input_value(timer) == "publicity_closes_at"
        page.select_option(timer_kind, "timeDuration")
        page.fill(timer, '"PT2H" +')  # not an expression: marked on the event
        _expect_marked(page, "Event_PublicityEnded")
        shot(page, "timer-problem")
        page.fill(timer, '"PT2H"')

        _select(page, "Event_ObjectionRaised")
        assert page.input_value(_entry("messageName")) == "objection"
        page.fill(_entry("messageName"), "objection_v2")  # nothing delivers it: refused
        _expect_marked(page, "Event_ObjectionRaised")
        assert "未知的消息“objection_v2”" in page.inner_text("#check")
        _select(page, "Event_ObjectionRaised")
        page.fill(_entry("messageName"), "objection")
        page.click("#validate")
        page.wait_for_selector("#valid")
        shot(page, "timer-and-message-edited")
        page.click("#deploy")
        page.wait_for_selector("text=已部署：publicity_and_push v2")
        page.close()
    _deployed_timer_and_message()


def _deployed_timer_and_message() -> None:
    """Version 2 waits two hours (a duration, the date gone) and still catches objections;
    the message named in between is not left in the file."""
    v2 = db.session.scalar(sa.select(Definition).filter_by(key="publicity_and_push", version=2))
    assert v2 is not None
    root = etree.fromstring(v2.bpmn)
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    [timer] = root.xpath("//bpmn:intermediateCatchEvent[@id='Event_PublicityEnded']"
                         "/bpmn:timerEventDefinition", namespaces=ns)
    assert [etree.QName(c).localname for c in timer] == ["timeDuration"]
    assert timer[0].text == '"PT2H"'
    [ref] = root.xpath("//bpmn:intermediateCatchEvent[@id='Event_ObjectionRaised']"
                       "/bpmn:messageEventDefinition/@messageRef", namespaces=ns)
    assert root.xpath(f"//bpmn:message[@id='{ref}']/@name", namespaces=ns) == ["objection"]
    assert root.xpath("//bpmn:message/@name", namespaces=ns) == ["objection"]
