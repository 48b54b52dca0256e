"""Reviewers' lists (issue 18): 已办, the search of applications and projects with a
project's page, and the staff lists of complaints and inspections: each in its user's scope,
escaped, paged, filtered, and a bad filter answered with the page and a Chinese message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import lifecycle
from engine.db import db
from engine.models import Instance, UserTask
from registry import applications as apps
from registry.models import Application, Organisation, User
from tests.processes.helpers import (
    REVIEW_OK,
    REVIEW_PROBLEM,
    People,
    open_task,
    settle,
    signed_people,
    submit_intake,
)
from tests.processes.test_supervision import INSPECTORS
from tests.registry import factory
from tests.registry.test_applications import header, hm_stages
from tests.web.test_pages import sign_in
from web import workflow

HOSTILE = '<script>alert("x")</script>恶意'


@dataclass
class World:
    who: People
    other: User  # an enterprise user of another organisation
    other_org: Organisation
    yuzhong: Application  # the builder's, reviewed by Yuzhong: passed
    jiangbei: Application  # the other organisation's, reviewed by Jiangbei: returned


def _as(app: Flask, username: str) -> Any:
    client = app.test_client()
    sign_in(client, username, "password-123")
    return client


def _page(client: Any, path: str, status: int = 200) -> str:
    answer = client.get(path)
    assert answer.status_code == status, (path, answer.status_code)
    return str(answer.get_data(as_text=True))


@pytest.fixture
def world(app: Flask) -> World:
    who = signed_people()
    other_org = factory.organisation(f"{HOSTILE}建设有限公司")
    other = factory.enterprise_user(other_org)
    db.session.commit()
    yuzhong = submit_intake(who, name="渝中查询项目")
    opened = apps.open_application(other, "intake", hm_stages(), project=header(
        name=f"{HOSTILE}项目", location_code="500105", managing_code="500105"))
    from tests.registry.test_applications import PDF
    for kind in ("report", "commitment", "application_form", "evidence"):
        apps.add_attachment(opened.id, other, kind, PDF, f"{kind}.pdf")
    jiangbei = lifecycle.submission.submit(opened.id, other)
    settle(app)
    lifecycle.tasks.complete_task(open_task(yuzhong).id, REVIEW_OK, who.yuzhong)
    lifecycle.tasks.complete_task(open_task(jiangbei).id, REVIEW_PROBLEM, who.jiangbei)
    settle(app)
    return World(who, other, other_org, yuzhong, jiangbei)


def _links(page: str, kind: str) -> set[int]:
    return {int(n) for n in re.findall(rf'href="/{kind}/(\d+)"', page)}


def test_done_lists_what_the_reviewer_decided_newest_first_in_their_scope_only(
        app: Flask, world: World) -> None:
    yz = _as(app, "yz-reviewer")
    done = _page(yz, "/done")
    assert "已办任务" in done and "审核通过" in done
    assert _links(done, "applications") == {world.yuzhong.id}
    assert 'aria-current="page">已办' in done and 'href="/start#started"' in done
    jb = _page(_as(app, "jb-reviewer"), "/done")
    assert _links(jb, "applications") == {world.jiangbei.id}
    assert "退回修改（1 项有问题）" in jb
    assert "<script>alert" not in jb and "&lt;script&gt;" in jb
    # the applicant's answer to the return is in its own 已办, not in a reviewer's
    unit = _as(app, world.other.username)
    lifecycle.tasks.complete_task(open_task(world.jiangbei).id, {"action": "withdraw"}, world.other)
    assert "撤回申请" in _page(unit, "/done")
    assert "撤回申请" not in _page(_as(app, "jb-reviewer"), "/done")
    # the inbox has the tabs too
    assert 'href="/done"' in _page(yz, "/tasks")


def test_search_applications_keeps_to_the_scope_and_escapes_names(
        app: Flask, world: World) -> None:
    yz = _page(_as(app, "yz-reviewer"), "/applications")
    assert _links(yz, "applications") == {world.yuzhong.id}
    jb = _page(_as(app, "jb-reviewer"), f"/applications?enterprise={HOSTILE[:8]}")
    assert _links(jb, "applications") == {world.jiangbei.id}
    assert "<script>alert" not in jb and "&lt;script&gt;alert" in jb
    city = _page(_as(app, "city-reviewer"), "/applications")
    assert _links(city, "applications") == set()  # neither is city-managed nor reached the city
    builder = _page(_as(app, world.who.unit.username), "/applications")
    assert _links(builder, "applications") == {world.yuzhong.id}
    other = _page(_as(app, world.other.username), "/applications")
    assert _links(other, "applications") == {world.jiangbei.id}
    # Yuzhong's search by the other firm's credit code or Jiangbei's district finds nothing
    yzc = _as(app, "yz-reviewer")
    for query in (f"credit_code={world.other_org.credit_code}", "district=500105"):
        assert _links(_page(yzc, f"/applications?{query}"), "applications") == set(), query


def test_search_applications_filters(app: Flask, world: World) -> None:
    yz = _as(app, "yz-reviewer")
    org = world.who.org
    hits = {
        "name=渝中查询": {world.yuzhong.id}, "name=没有这个": set(),
        f"number={world.yuzhong.id}": {world.yuzhong.id}, "number=999999": set(),
        f"credit_code={org.credit_code.lower()}": {world.yuzhong.id},
        "enterprise=渝建": {world.yuzhong.id}, "enterprise=%": set(),
        "district=500103": {world.yuzhong.id}, "kind=intake": {world.yuzhong.id},
        "kind=correction": set(), f"status={world.yuzhong.status}": {world.yuzhong.id},
        "status=draft": set(), "from=2000-01-01&to=2999-12-31": {world.yuzhong.id},
        "to=2000-01-01": set(),
    }
    for query, expected in hits.items():
        assert _links(_page(yz, f"/applications?{query}"), "applications") == expected, query


def test_bad_filter_values_answer_the_page_with_a_chinese_message(
        app: Flask, world: World) -> None:
    yz = _as(app, "yz-reviewer")
    cases = {
        "/applications?from=2026-13-45": "「提交日期自」应为日期",
        "/applications?page=abc": "「页码」应为正整数",
        "/applications?district=nowhere": "「所在区县」不是可选的值",
        "/applications?status=bogus": "「状态」不是可选的值",
        "/applications?credit_code=123": "「统一社会信用代码」应为 18 位",
        "/applications?from=2026-05-02&to=2026-05-01": "「提交日期自」不能晚于「提交日期至」",
        "/projects?page=-1": "「页码」应为正整数",
        "/done?page=abc": "「页码」应为正整数",
        "/supervision/complaints?from=2026-13-45": "「登记日期自」应为日期",
        "/supervision/inspections?status=x": "「处理状态」不是可选的值",
    }
    for path, message in cases.items():
        page = _page(yz, path, 400)
        assert message in page and 'role="alert"' in page, path
    # the rest of the query still applies, and the refused value is shown escaped
    page = _page(yz, "/applications?name=渝中查询&from=<b>x</b>", 400)
    assert _links(page, "applications") == {world.yuzhong.id}
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_lists_page_by_twenty(app: Flask, world: World) -> None:
    for _ in range(21):
        apps.open_application(world.who.unit, "intake", hm_stages(),
                              project=header(name="翻页项目"))
    db.session.commit()
    yz = _as(app, "yz-reviewer")
    first = _page(yz, "/applications?name=翻页")
    assert len(_links(first, "applications")) == 20 and "共 21 条" in first
    assert 'href="/applications?name=%E7%BF%BB%E9%A1%B5&amp;page=2"' in first
    second = _page(yz, "/applications?name=翻页&page=2")
    assert len(_links(second, "applications")) == 1 and "上一页" in second
    assert _links(first, "applications").isdisjoint(_links(second, "applications"))
    projects = _page(yz, "/projects?name=翻页")
    assert "共 21 条" in projects and len(_links(projects, "projects")) == 20


def test_projects_search_and_page_keep_to_the_scope(app: Flask, world: World) -> None:
    yz_project, jb_project = world.yuzhong.project_id, world.jiangbei.project_id
    yz = _as(app, "yz-reviewer")
    assert _links(_page(yz, "/projects"), "projects") == {yz_project}
    assert _links(_page(yz, f"/projects?credit_code={world.who.org.credit_code}"),
                  "projects") == {yz_project}
    assert _links(_page(yz, "/projects?kind=SUB"), "projects") == set()
    page = _page(yz, f"/projects/{yz_project}")
    assert "渝中查询项目" in page and world.who.org.name in page
    assert _links(page, "applications") == {world.yuzhong.id} and "重点检查" in page
    _page(yz, f"/projects/{jb_project}", 404)
    other = _as(app, world.other.username)
    assert _links(_page(other, "/projects"), "projects") == {jb_project}
    mine = _page(other, f"/projects/{jb_project}")
    assert "&lt;script&gt;" in mine and "<script>alert" not in mine
    assert "重点检查" not in mine  # an enterprise sees its data and applications only
    _page(other, f"/projects/{yz_project}", 404)
    _page(_as(app, world.who.unit.username), f"/projects/{jb_project}", 404)


def _inspect(app: Flask, world: World, findings: str) -> int:
    """A complaint about the Yuzhong project (matched by name and district), inspected by
    the city: genuine."""
    complaint = workflow.file_complaint({"project_name": "渝中查询项目", "location_code": "500103",
                                         "content": f"{HOSTILE}合同系伪造", "name": "王五"})
    assert complaint.project_id == world.yuzhong.project_id
    task = db.session.scalar(sa.select(UserTask).join(
        Instance, Instance.id == UserTask.instance_id).where(
        Instance.business_key.like("inspection-%"), UserTask.status == "open"))
    assert task is not None
    lifecycle.tasks.complete_task(task.id, {
        "inspectors": INSPECTORS, "inspected_on": "2026-11-26", "on_site": True,
        "result": "genuine", "findings": findings}, world.who.city)
    settle(app)
    return complaint.id


def test_supervision_lists_complaints_and_inspections_with_their_outcome(
        app: Flask, world: World) -> None:
    complaint_id = _inspect(app, world, "<b>现场核实无误</b>")
    city = _as(app, "city-reviewer")
    complaints = _page(city, "/supervision/complaints")
    assert f"<td>{complaint_id}</td>" in complaints and "信息属实" in complaints
    assert "已办结" in complaints and "王五" in complaints
    assert "&lt;script&gt;" in complaints and "<script>alert" not in complaints
    assert _links(complaints, "projects") == {world.yuzhong.project_id}
    inspections = _page(city, "/supervision/inspections")
    assert "&lt;b&gt;现场核实无误&lt;/b&gt;" in inspections and "投诉举报" in inspections
    # the city reads the page of the project it inspected, though it is a district's
    assert "渝中查询项目" in _page(city, f"/projects/{world.yuzhong.project_id}")
    # the district of the project sees them; another district does not
    yz = _as(app, "yz-reviewer")
    assert f"<td>{complaint_id}</td>" in _page(yz, "/supervision/complaints")
    assert "现场核实无误" in _page(yz, "/supervision/inspections")
    jb = _as(app, "jb-reviewer")
    assert f"<td>{complaint_id}</td>" not in _page(jb, "/supervision/complaints")
    assert "现场核实无误" not in _page(jb, "/supervision/inspections")
    _page(jb, f"/projects/{world.yuzhong.project_id}", 404)
    # filters
    assert f"<td>{complaint_id}</td>" not in _page(city, "/supervision/complaints?status=open")
    assert f"<td>{complaint_id}</td>" in _page(city, "/supervision/complaints?text=渝中查询")
    assert "现场核实无误" not in _page(city, "/supervision/inspections?district=500105")
    # enterprises have no staff lists; the header shows reviewers the way there
    _page(_as(app, world.who.unit.username), "/supervision/complaints", 403)
    header_links = _page(yz, "/tasks")
    for path in ("/done", "/applications", "/supervision/complaints"):
        assert f'href="{path}"' in header_links
