"""A deployment as a folder or a zip: diagrams with their forms and declared lanes (issue 17);
a zip from a stranger is read safely."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine import package
from engine.db import db
from engine.models import Definition, UserTask
from engine.validation import validate
from tests.conftest import BPMN, test_catalog

FORM = {"type": "default", "id": "self_check", "schemaVersion": 16,
        "components": [{"type": "textfield", "key": "title", "label": "项目名称"}]}
MANIFEST = {"lanes": {"自查企业": "enterprise"}}


def _diagram() -> bytes:
    """loop.bpmn with its lane renamed and its task's form a deployed form file."""
    text = (BPMN / "loop.bpmn").read_text()
    text = text.replace('name="reviewer"', 'name="自查企业"')
    return text.replace('value="test_form"', 'value="self_check.form"').encode()


def _zip(files: dict[str, bytes], **infos: Any) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def _deployment() -> dict[str, bytes]:
    return {"self_check/loop.bpmn": _diagram(), "self_check/self_check.form":
            json.dumps(FORM).encode(), "self_check/deployment.json": json.dumps(MANIFEST).encode()}


def test_a_zip_deploys_its_diagram_with_its_form_and_declared_lane(app: Flask) -> None:
    files, problems = package.expand("self_check.zip", _zip(_deployment()))
    assert problems == [] and len(files) == 3
    [deployed] = engine.deploy(files, engine.catalog())
    row = db.session.scalar(sa.select(Definition).filter_by(key="loop"))
    assert row.forms == {"self_check.form": {"kind": "form-js", "id": "self_check",
                                             "file": "self_check.zip/self_check/self_check.form",
                                             "document": FORM}}
    assert row.lanes == MANIFEST["lanes"]
    instance = engine.start("loop", business_key="S-1")
    [task] = db.session.scalars(sa.select(UserTask).filter_by(instance_id=instance.id))
    assert task.candidate_group == "参建单位"  # what the inbox of enterprise users shows
    assert task.form_key == "self_check.form"
    again = engine.deploy(files, engine.catalog())
    assert again[0].outcome == "unchanged"


def test_a_changed_form_alone_makes_a_new_version(app: Flask) -> None:
    engine.deploy(package.expand("a.zip", _zip(_deployment()))[0], engine.catalog())
    label = {**FORM["components"][0], "label": "工程名称"}  # type: ignore[index]
    changed = {**_deployment(), "self_check/self_check.form": json.dumps(
        {**FORM, "components": [label]}).encode()}
    [again] = engine.deploy(package.expand("a.zip", _zip(changed))[0], engine.catalog())
    assert again.outcome == "created" and again.version == 2


def test_an_undeclared_lane_and_an_unknown_form_are_named() -> None:
    catalog = test_catalog()
    files = [(n, c) for n, c in _deployment().items() if not n.endswith("deployment.json")]
    files = [(n, c.replace(b"self_check.form\"", b"other.form\"")) for n, c in files]
    lines = [str(p) for p in validate(files, catalog).problems]
    assert any("未知的表单“other.form”" in line for line in lines)
    assert any("泳道“自查企业”没有对应的办理角色" in line and "deployment.json" in line
               for line in lines)


def test_a_role_name_is_a_lane_without_declaring_it() -> None:
    catalog = test_catalog()
    text = (BPMN / "loop.bpmn").read_text().replace('name="reviewer"', 'name="city_reviewer"')
    assert validate([("loop.bpmn", text.encode())], catalog).problems == []


def test_a_form_check_refusal_names_the_file() -> None:
    catalog = test_catalog()
    catalog.add_form_kind("form-js", lambda document: ["组件“title”缺少标签"])
    lines = [str(p) for p in validate(list(_deployment().items()), catalog).problems]
    assert lines == ["self_check/self_check.form:0: - (-): 组件“title”缺少标签"]


@pytest.mark.parametrize(("member", "reason"), [
    ("../evil.bpmn", "文件名不安全"),
    ("/etc/evil.bpmn", "文件名不安全"),
])
def test_a_zip_member_outside_the_deployment_is_refused(member: str, reason: str) -> None:
    files, problems = package.expand("x.zip", _zip({member: b"<x/>"}))
    assert files == [] and reason in str(problems[0])


def test_a_zip_bomb_stops_at_the_limit() -> None:
    big = b"0" * (package.MAX_FILE_BYTES + 1)
    files, problems = package.expand("bomb.zip", _zip({"a.bpmn": big}))
    assert files == [] and "文件过大" in str(problems[0])
    lying = bytearray(_zip({"a.bpmn": big}))  # a header that says the member is small
    files, problems = package.expand("liar.zip", bytes(_understate(lying)))
    assert files == [] and problems


def _understate(archive: bytearray) -> bytearray:
    """The zip with its members' uncompressed sizes written as 10 bytes."""
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = archive.find(signature)
        archive[at + offset:at + offset + 4] = (10).to_bytes(4, "little")
    return archive


def test_what_is_no_deployment_file_is_left_out_and_garbage_is_named() -> None:
    files, problems = package.expand("x.zip", _zip({
        "__MACOSX/._a.bpmn": b"junk", ".hidden.bpmn": b"junk", "README.md": b"# hi",
        "a.bpmn": b"<x/>"}))
    assert [n for n, _ in files] == ["x.zip/a.bpmn"] and problems == []
    files, problems = package.expand("x.zip", b"PK\x03\x04 not really a zip")
    assert files == [] and "不是有效的 zip 文件" in str(problems[0])


def test_too_many_files_are_refused() -> None:
    many = {f"f{n}.form": b"{}" for n in range(package.MAX_FILES + 1)}
    assert "文件过多" in str(package.expand("x.zip", _zip(many))[1][0])


def test_a_folder_is_read_with_its_sub_folders(tmp_path: Path) -> None:
    for name, content in _deployment().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    (tmp_path / "notes.txt").write_text("left out")
    files, problems = package.read_paths([tmp_path, tmp_path / "missing.bpmn"])
    assert sorted(Path(n).name for n, _ in files) == ["deployment.json", "loop.bpmn",
                                                       "self_check.form"]
    assert "文件不存在" in str(problems[0])


def test_a_start_form_missing_from_the_deployment_is_named() -> None:
    text = (BPMN / "loop.bpmn").read_text().replace(
        '<bpmn:startEvent id="Event_Start" name="开始">',
        '<bpmn:startEvent id="Event_Start" name="开始"><bpmn:extensionElements>'
        '<spiffworkflow:properties><spiffworkflow:property name="formKey" value="start.form"/>'
        '</spiffworkflow:properties></bpmn:extensionElements>')
    [line] = [str(p) for p in validate([("loop.bpmn", text.encode())], test_catalog()).problems]
    assert "Event_Start (开始): 未知的表单“start.form”" in line
