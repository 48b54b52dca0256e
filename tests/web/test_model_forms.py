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
