"""R-SUP-7: a complaint about any project known to the platform opens a key inspection, the
project found by its number or by its exact name (within the jurisdiction given)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine.db import db
from engine.models import Definition, Instance, UserTask, WaitStatus
from registry import publicity
from registry.models import Complaint, Inspection, Project
from tests.processes.helpers import People, deploy_processes, people, submit_intake
from tests.registry import factory
from tests.web.test_pages import csrf
from web import workflow

NAME = "渝中区某住宅项目"


@pytest.fixture
def who(app: Flask) -> People:
    deploy_processes()
    return people()


def intake_project(who: People, name: str = NAME, location: str = "500103") -> Project:
    """A project entered through intake (no number until the national platform gives one)."""
    application = submit_intake(who, name=name, location_code=location, managing_code=location)
    project = db.session.get(Project, application.project_id)
    assert project is not None and project.project_number is None
    return project


def complain(**fields: Any) -> Complaint:
    return workflow.file_complaint({"project_name": NAME, "content": "该项目业绩造假",
                                    "contact": "13800000000", **fields})


def assert_key_inspection(complaint: Complaint, project: Project) -> None:
    """The complaint names the project and a key_inspection instance works on it."""
    db.session.expire_all()
    assert complaint.project_id == project.id
    inspection = db.session.scalar(sa.select(Inspection).filter_by(complaint_id=complaint.id))
    assert inspection is not None and inspection.project_id == project.id
    assert inspection.trigger == "complaint"
    instance = engine.instance_by_key(f"inspection-{inspection.id}")
    assert instance is not None
    definition = db.session.get(Definition, instance.definition_id)
    assert definition is not None and definition.key == "key_inspection"
    assert instance.area == project.location_code
    [task] = db.session.scalars(sa.select(UserTask).filter_by(
        instance_id=instance.id, status=WaitStatus.OPEN)).all()
    assert (task.element_id, task.scope) == ("Task_Inspect", "city")
    assert db.session.get(Complaint, complaint.id).status == "inspecting"  # type: ignore[union-attr]


def inspections() -> int:
    db.session.expire_all()
    return len(list(db.session.scalars(sa.select(Instance).where(
        Instance.business_key.like("inspection-%")))))


def test_r_sup_7_intake_project_found_by_its_number_written_loosely(app: Flask,
                                                                   who: People) -> None:
    """R-SUP-7: the number the push gave the project, in any case and with spaces."""
    project = intake_project(who)
    project.project_number = "NP0000000001"  # what the push sets from the national id
    db.session.commit()
    complaint = complain(project_number=" np 0000 0000 01", project_name="别的名字")
    assert complaint.project_number == "NP0000000001"
    assert_key_inspection(complaint, project)
    match = publicity.complaint_match(complaint)
    assert (match.by, match.note) == ("number", publicity.IDENTIFIED)


def test_r_sup_7_intake_project_found_by_its_exact_name(app: Flask, who: People) -> None:
    """R-SUP-7: no number: the exact name (whitespace normalised) identifies the project."""
    project = intake_project(who, name="渝中区 某住宅项目")
    intake_project(who, name="渝中区某住宅项目二期")  # a longer name is another project
    complaint = complain(project_name="  渝中区\u3000\u3000某住宅项目 ")
    assert_key_inspection(complaint, project)


def test_r_sup_7_a_number_not_found_falls_back_to_the_name(app: Flask, who: People) -> None:
    project = intake_project(who)
    complaint = complain(project_number="5001039999999999")
    assert_key_inspection(complaint, project)
    note = publicity.complaint_match(complaint).note
    assert note.startswith("未找到项目编号 5001039999999999；已按项目名称")


def test_r_sup_7_same_named_projects_told_apart_by_the_jurisdiction(app: Flask,
                                                                     who: People) -> None:
    """R-SUP-7: two projects of one name in two districts: the jurisdiction picks one."""
    yuzhong = intake_project(who, location="500103")
    jiangbei = intake_project(who, location="500105")
    assert_key_inspection(complain(location_code="500105"), jiangbei)
    assert_key_inspection(complain(location_code="500103"), yuzhong)


def test_r_sup_7_the_managing_jurisdiction_counts_too(app: Flask, who: People) -> None:
    located = factory.project(who.org, location="500112")
    located.name, located.managing_code = NAME, "500105"  # in Yubei, managed by Jiangbei
    other = factory.project(who.org, location="500103")
    other.name = NAME
    db.session.commit()
    assert publicity.match_project(None, NAME, "500105").project_id == located.id
    assert publicity.match_project(None, NAME, "500112").project_id == located.id
    assert publicity.match_project(None, NAME, "500103").project_id == other.id
    assert publicity.match_project(None, NAME, "500101").project_id is None


def test_r_sup_7_an_ambiguous_name_opens_nothing_and_asks_for_more(app: Flask,
                                                                  who: People) -> None:
    """R-SUP-7: a name shared by several projects, no jurisdiction: the complaint is kept
    open, no inspection starts, and the answer asks for the number or the jurisdiction."""
    intake_project(who, location="500103")
    intake_project(who, location="500105")
    complaint = complain()
    assert complaint.project_id is None and complaint.status == "open"
    assert inspections() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0
    match = publicity.complaint_match(complaint)
    assert (match.project_id, match.candidates) == (None, 2)
    assert match.note == (f"无法确定被投诉的项目：平台中有 2 个名为“{NAME}”的项目，"
                          "请补充项目编号或所在区县")


def test_r_sup_7_api_answers_with_the_project_or_why_not(app: Flask, who: People,
                                                         client: Any) -> None:
    """R-SUP-7 over the API: project_id and a Chinese note; the jurisdiction settles it."""
    intake_project(who, location="500103")
    jiangbei = intake_project(who, location="500105")
    body = {"project_name": NAME, "content": "业绩造假"}
    vague = client.post("/api/v1/complaints", json=body)
    assert vague.status_code == 201, vague.get_json()
    answer = vague.get_json()
    assert (answer["project_id"], answer["status"]) == (None, "open")
    assert "请补充项目编号或所在区县" in answer["note"]
    precise = client.post("/api/v1/complaints", json={**body, "location_code": "500105"})
    assert precise.status_code == 201
    answer = precise.get_json()
    assert (answer["project_id"], answer["status"]) == (jiangbei.id, "inspecting")
    assert answer["note"] == f"已按项目名称{publicity.IDENTIFIED}"
    assert db.session.get(Complaint, answer["id"]).location_code == "500105"  # type: ignore[union-attr]
    unknown = client.post("/api/v1/complaints", json={**body, "location_code": "999999"})
    assert unknown.status_code == 422
    assert "「所在区县」不在代码表中" in str(unknown.get_json())
    long = client.post("/api/v1/complaints", json={**body, "project_number": "1" * 17})
    assert long.status_code == 422 and "「项目编号」去掉空格后不能超过 16 个字符" in str(
        long.get_json())
    assert inspections() == 1


def test_r_sup_7_complaint_page_offers_the_jurisdictions(app: Flask, who: People,
                                                        client: Any) -> None:
    """R-SUP-7 on the public page: 所在区县 is a select; a vague complaint is told so."""
    intake_project(who, location="500103")
    jiangbei = intake_project(who, location="500105")
    page = client.get("/complaints").get_data(as_text=True)
    assert '<select id="location_code" name="location_code">' in page
    assert '<option value="500105">江北区</option>' in page
    token = csrf(client, "/complaints")
    form = {"csrf_token": token, "project_name": NAME, "content": "业绩造假"}
    vague = client.post("/complaints", data=form, follow_redirects=True).get_data(as_text=True)
    assert "无法确定被投诉的项目" in vague and "请补充项目编号或所在区县" in vague
    precise = client.post("/complaints", data={**form, "location_code": "500105"},
                          follow_redirects=True).get_data(as_text=True)
    assert publicity.IDENTIFIED in precise
    complaint = db.session.scalar(sa.select(Complaint).order_by(Complaint.id.desc()).limit(1))
    assert complaint is not None and complaint.project_id == jiangbei.id
