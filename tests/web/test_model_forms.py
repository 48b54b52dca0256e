"""The form designer's server side (issue 17): its check answers what deployment would refuse,
in Chinese, for analysts only; the upload page takes a zip of a diagram with its form."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from engine.db import db
from engine.models import Definition
from registry import demo
from tests.conftest import BPMN
from tests.processes.helpers import deploy_processes
from tests.web.test_pages import csrf, sign_in

SELF_CHECK = (Path(__file__).resolve().parents[1] / "forms" / "self_check.form").read_text()


@pytest.fixture
def demo_app(app: Flask) -> Flask:
    deploy_processes()
    demo.load()
    return app


@pytest.mark.parametrize(("text", "expected"), [
    (SELF_CHECK, []),
    ('{"type": "default", "id": "f", "components": [{"type": "html", "id": "Html_1"}]}',
     ["类型 html 不予接受"]),
    ("{not json", ["不是有效的 JSON"]),
    ('{"type": "object"}', ["不是 form-js 表单"]),
    ("", ["没有内容"]),
])
def test_the_designer_check_says_what_deployment_would_refuse(
        demo_app: Flask, text: str, expected: list[str]) -> None:
    client = demo_app.test_client()
    sign_in(client, "fenxi")
    answer = client.post("/models/forms/check.json", data={
        "form": text, "csrf_token": csrf(client, "/models/forms/new")})
    problems = answer.get_json()["problems"]
    assert len(problems) == len(expected) and all(
        part in line for part, line in zip(expected, problems, strict=True)), problems


def test_only_analysts_design_forms(demo_app: Flask) -> None:
    client = demo_app.test_client()
    sign_in(client, "qiye")
    assert client.get("/models/forms/new").status_code == 403


def test_the_upload_page_deploys_a_zip_of_a_diagram_with_its_form(demo_app: Flask) -> None:
    client = demo_app.test_client()
    sign_in(client, "fenxi")
    page = client.get("/models/upload").get_data(as_text=True)
    assert 'accept=".bpmn,.xml,.form,.json,.zip"' in page and "/models/forms/new" in page
    diagram = (BPMN / "loop.bpmn").read_text().replace('value="test_form"',
                                                       'value="self_check.form"')
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("self_check.form", SELF_CHECK)
        archive.writestr("loop.bpmn", diagram)
    token = csrf(client, "/models/upload")
    checked = client.post("/models/upload", data={
        "csrf_token": token, "file": (io.BytesIO(packed.getvalue()), "loop.zip")},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "校验通过" in checked and "loop.zip/self_check.form" in checked
    assert checked.index("<h3>loop.zip/loop.bpmn</h3>") > 0  # the diagram is the one drawn
    names = [("file_name", "loop.zip/loop.bpmn"), ("file_name", "loop.zip/self_check.form")]
    answer = client.post("/models/deploy", data={
        "csrf_token": token, "file_name": [n for _, n in names],
        "xml": [diagram, SELF_CHECK]})
    assert answer.status_code == 302
    loop = db.session.scalars(sa.select(Definition).filter_by(key="loop").order_by(
        Definition.version.desc())).first()
    assert loop is not None
    assert json.loads(SELF_CHECK)["components"] == loop.forms["self_check.form"]["document"][
        "components"]


def _self_check(client: object) -> Definition:
    """The self-check deployed with its two forms through the upload page's deploy."""
    forms = Path(__file__).resolve().parents[1] / "forms"
    files = [("self_check.bpmn", (BPMN / "self_check.bpmn").read_text()),
             ("self_check.form", (forms / "self_check.form").read_text()),
             ("self_check_review.form", (forms / "self_check_review.form").read_text())]
    answer = client.post("/models/deploy", data={  # type: ignore[attr-defined]
        "csrf_token": csrf(client, "/models/upload"), "file_name": [n for n, _ in files],
        "xml": [t for _, t in files]})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    found = db.session.scalars(sa.select(Definition).filter_by(key="self_check").order_by(
        Definition.version.desc())).first()
    assert found is not None and set(found.forms or {}) == {"self_check.form",
                                                           "self_check_review.form"}
    return found


def test_the_modeler_deploys_an_edit_with_the_forms_of_its_version(demo_app: Flask) -> None:
    """An edited diagram alone names forms that no system form has: checked and deployed
    with the base version's forms (the page offers them), or with a form attached instead."""
    client = demo_app.test_client()
    sign_in(client, "fenxi")
    v1 = _self_check(client)
    page = client.get(f"/models/edit?definition={v1.id}").get_data(as_text=True)
    assert f'name="base" value="{v1.id}"' in page and "self_check_review.form" in page
    diagram = v1.bpmn.decode()
    edited = diagram.replace('name="区县审核"', 'name="区县审核（新）"', 1)
    assert edited != diagram
    token = csrf(client, f"/models/edit?definition={v1.id}")
    alone = {"csrf_token": token, "file_name": "self_check.bpmn", "xml": edited}
    problems = client.post("/models/validate.json", data=alone).get_json()["problems"]
    assert any("未知的表单“self_check_review.form”" in p["message"] for p in problems)
    assert client.post("/models/validate.json", data={**alone, "base": str(v1.id)}).get_json()[
        "problems"] == []

    review = json.loads((Path(__file__).resolve().parents[1] / "forms" /
                         "self_check_review.form").read_text())
    review["components"][0]["label"] = "审核意见（新）"
    attached = io.BytesIO(json.dumps(review, ensure_ascii=False).encode())
    answer = client.post("/models/deploy", data={
        **alone, "base": str(v1.id), "file": (attached, "self_check_review.form")},
        content_type="multipart/form-data")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    v2 = db.session.scalar(sa.select(Definition).filter_by(key="self_check", version=2))
    assert v2 is not None and "区县审核（新）".encode() in v2.bpmn
    assert v2.forms is not None and set(v2.forms) == set(v1.forms or {})
    assert v2.forms["self_check_review.form"]["document"]["components"][0]["label"] == \
        "审核意见（新）"  # the attached file replaced the version's own
    assert v2.forms["self_check.form"] == (v1.forms or {})["self_check.form"]
