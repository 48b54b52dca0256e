"""The form designer in a real browser (issue 17): an analyst builds a form in bpmn.io's form-js
editor, the server's check refuses a bad form and passes the good one, the preview runs
form-js's own checks in Chinese and shows the data a task would post, the downloaded .form
deploys with a diagram that names it; no Content-Security-Policy violation on the way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.db import db
from engine.models import Definition
from registry import demo
from tests.conftest import BPMN
from tests.web.browser import Shots, browser, sign_in
from tests.web.test_browser_csp import Violations

SELF_CHECK = Path(__file__).resolve().parents[1] / "forms" / "self_check.form"
BAD = {"type": "default", "id": "bad", "components": [
    {"type": "html", "id": "Html_1", "content": "<script>alert(1)</script>"},
    {"type": "textfield", "id": "Field_1", "key": "name", "label": "名称",
     "conditional": {"hide": "=true"}}]}


def test_an_analyst_designs_a_form_and_deploys_it_with_its_diagram(
        site: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    refused = Violations()
    (tmp_path / "bad.form").write_text(json.dumps(BAD))
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN",
                                 accept_downloads=True)
        page.set_default_timeout(15000)
        refused.watch(page)
        sign_in(page, site, "fenxi", demo.PASSWORD)
        page.click("a:has-text('设计表单')")
        page.wait_for_selector("#form-editor[data-ready=true]")
        _bad_form_is_refused(page, tmp_path, shot)
        _preview_checks_in_chinese(page, shot)
        page.reload()
        page.wait_for_selector("#form-editor[data-ready=true]")
        designed = _design(page, tmp_path, shot)
        _deploy(page, site, tmp_path, designed, shot)
        page.close()
    assert refused == [], "\n".join(refused)
    loop = db.session.scalars(sa.select(Definition).filter_by(key="loop").order_by(
        Definition.version.desc())).first()
    assert loop is not None
    assert loop.forms["designed.form"]["document"]["components"] == designed["components"]


def _check(page: Any) -> str:
    """Click 校验 and wait for the server's answer; the state it shows."""
    page.evaluate("document.getElementById('form-check').removeAttribute('data-state')")
    page.click("#check-form")
    page.wait_for_selector("#form-check[data-state=valid], #form-check[data-state=problems]")
    return str(page.get_attribute("#form-check", "data-state"))


def _bad_form_is_refused(page: Any, tmp_path: Path, shot: Shots) -> None:
    page.set_input_files("#open-form", str(tmp_path / "bad.form"))
    page.wait_for_selector("#form-check[data-state=opened]")
    assert page.input_value("#form-file-name") == "bad.form"
    assert _check(page) == "problems"
    problems = page.inner_text("#form-problems")
    assert "类型 html 不予接受" in problems and "显示条件" in problems, problems
    shot(page, "bad-form-refused")


def _preview_checks_in_chinese(page: Any, shot: Shots) -> None:
    """self_check.form (written by Camunda Modeler) in the preview: an empty submission is
    refused on its fields in Chinese, a filled one shows the data the task page would post."""
    page.set_input_files("#open-form", str(SELF_CHECK))
    page.wait_for_selector("#form-check[data-state=opened]")
    assert _check(page) == "valid"
    page.click("#tab-preview")
    page.wait_for_selector("#preview[data-ready=true]")
    page.click("#preview-form > button:has-text('试提交')")
    page.wait_for_selector("#preview-data[data-state=refused]")
    assert "此项必填" in page.inner_text("#preview")
    shot(page, "preview-refused")
    preview = page.locator("#preview")
    preview.get_by_label("项目编号").fill("5001012024000001")
    preview.locator(".fjs-form-field-select .fjs-input-group").first.click()
    preview.locator(".fjs-dropdownlist-item:has-text('是')").click()
    preview.get_by_label("完成比例（%）").fill("60")
    date = preview.locator(".fjs-form-field-datetime input").first
    date.fill("2024/05/06")
    date.press("Enter")
    page.click("#preview-form > button:has-text('试提交')")
    page.wait_for_selector("#preview-data[data-state=accepted]")
    sent = json.loads(page.inner_text("#preview-data"))
    assert sent["project_number"] == "5001012024000001" and sent["data_accurate"] == "yes"
    assert sent["progress"]["percent"] == 60 and sent["progress"]["checked_on"] == "2024-05-06"
    shot(page, "preview-accepted")


def _design(page: Any, tmp_path: Path, shot: Shots) -> dict[str, Any]:
    """A text field and a select dragged from the palette, named in the properties panel."""
    canvas = page.locator(".fjs-drop-container-vertical").first
    for kind in ("textfield", "select"):
        page.locator(f".fjs-palette-field[data-field-type='{kind}']").drag_to(canvas)
    page.wait_for_selector(".fjs-editor-container .fjs-form-field-select")
    page.fill("#form-file-name", "designed.form")
    assert _check(page) == "valid"
    shot(page, "designed")
    with page.expect_download() as waiting:
        page.click("#download-form")
    download = waiting.value
    assert download.suggested_filename == "designed.form"
    path = tmp_path / "designed.form"
    download.save_as(str(path))
    designed = json.loads(path.read_text())
    assert [c["type"] for c in designed["components"]] == ["textfield", "select"]
    return dict(designed)


def _deploy(page: Any, site: str, tmp_path: Path, designed: dict[str, Any],
            shot: Shots) -> None:
    """loop.bpmn, its task's form now the designed file, uploaded with it and deployed."""
    diagram = (BPMN / "loop.bpmn").read_text().replace('value="test_form"',
                                                       'value="designed.form"')
    (tmp_path / "loop.bpmn").write_text(diagram)
    page.goto(f"{site}/models/upload")
    assert ".form" in str(page.get_attribute("#file", "accept"))
    page.set_input_files("#file", [str(tmp_path / "loop.bpmn"), str(tmp_path / "designed.form")])
    page.click("button:has-text('校验')")
    page.wait_for_selector("text=校验通过")
    assert "designed.form" in page.inner_text("#deployment-files")
    page.click("#deploy")
    page.wait_for_selector("text=已部署：loop")
    shot(page, "deployed")
    assert designed["components"]
