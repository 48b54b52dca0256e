"""The pages without a browser: sign-in, CSRF, who may reach what by editing a URL, the error
pages, and the refusals the wizard and the forms show."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import lifecycle
from engine import queries
from engine.db import db
from engine.models import UserTask
from registry import demo
from registry.models import Application, Attachment, WizardDraft
from tests.processes.helpers import deploy_processes, open_task, people, settle
from tests.processes.test_grade_adjust import APPROVE, grade_application
from tests.registry.test_applications import PDF, header, hm_stages

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: Any, path: str = "/login") -> str:
    found = TOKEN.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: Any, username: str, password: str = demo.PASSWORD) -> None:
    answer = client.post("/login", data={"username": username, "password": password,
                                         "csrf_token": csrf(client)})
    assert answer.status_code == 302, answer.get_data(as_text=True)


@pytest.fixture
def demo_app(app: Flask) -> Flask:
    deploy_processes()
    demo.load()
    return app


def _application(username: str = "qiye") -> Application:
    """A submitted HM intake of the demo builder in Yuzhong."""
    from registry import applications as apps
    from registry.models import User

    user = db.session.scalar(sa.select(User).filter_by(username=username))
    opened = apps.open_application(user, "intake", hm_stages(), project=header(name="页面测试项目"))
    for kind in ("report", "commitment", "application_form", "evidence"):
        apps.add_attachment(opened.id, user, kind, PDF, f"{kind}.pdf")
    return lifecycle.submission.submit(opened.id, user)


def test_sign_in_sends_each_role_to_its_work_and_refuses_a_wrong_password(
        demo_app: Flask) -> None:
    client = demo_app.test_client()
    wrong = client.post("/login", data={"username": "qiye", "password": "nope-nope",
                                        "csrf_token": csrf(client)})
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.get_data(as_text=True)
    sign_in(client, "qiye")
    assert client.get("/").headers["Location"].endswith("/portal")
    page = client.get("/portal").get_data(as_text=True)
    assert "渝建集团 申报员" in page and "企业用户" in page
    reviewer = demo_app.test_client()
    sign_in(reviewer, "yuzhong")
    assert reviewer.get("/").headers["Location"].endswith("/tasks")
    assert "渝中区" in reviewer.get("/tasks").get_data(as_text=True)


def test_a_page_post_without_the_session_token_is_refused(demo_app: Flask) -> None:
    client = demo_app.test_client()
    refused = client.post("/login", data={"username": "qiye", "password": demo.PASSWORD})
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)
    sign_in(client, "qiye")
    forged = client.post("/applications/new?step=kind", data={"kind": "intake",
                                                             "csrf_token": "forged"})
    assert forged.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WizardDraft)) == 0


def test_after_sign_in_only_a_path_on_this_site_is_followed(demo_app: Flask) -> None:
    client = demo_app.test_client()
    for target, expected in (("/tasks", "/tasks"), ("https://evil.example/", "/"),
                             ("//evil.example/", "/")):
        token = csrf(client)
        answer = client.post("/login", query_string={"next": target}, data={
            "username": "yuzhong", "password": demo.PASSWORD, "csrf_token": token})
        assert answer.headers["Location"] == expected
        client.post("/logout", data={"csrf_token": csrf(client, "/publicity")})


def test_nothing_of_another_organisation_or_district_is_reachable(demo_app: Flask) -> None:
    application = _application()
    settle(demo_app)
    path = f"/applications/{application.id}"
    [attachment_id] = re.findall(r'/attachments/(\d+)', _page(demo_app, "qiye", path))[:1]
    for username in ("sheji", "jiangjin", "shiji"):  # another firm, district, the city
        client = demo_app.test_client()
        sign_in(client, username)
        for url in (path, f"/attachments/{attachment_id}"):
            answer = client.get(url)
            assert answer.status_code == 404, (username, url)
            assert "不存在" in answer.get_data(as_text=True)
    client = demo_app.test_client()
    sign_in(client, "sheji")
    token = csrf(client, "/portal")
    assert client.post(f"{path}/withdraw", data={"csrf_token": token}).status_code == 404
    yuzhong = demo_app.test_client()
    sign_in(yuzhong, "yuzhong")
    assert yuzhong.get(path).status_code == 200  # the reviewer of its district sees it
    file = yuzhong.get(f"/attachments/{attachment_id}")
    assert file.status_code == 200 and file.data == PDF
    assert file.headers["X-Content-Type-Options"] == "nosniff"
    file.close()
    task_path = re.search(r'href="(/tasks/[^"]+)"', yuzhong.get("/tasks").get_data(
        as_text=True)).group(1)  # type: ignore[union-attr]
    jiangjin = demo_app.test_client()
    sign_in(jiangjin, "jiangjin")
    assert jiangjin.get(task_path).status_code == 404


def _page(app: Flask, username: str, path: str) -> str:
    client = app.test_client()
    sign_in(client, username)
    answer = client.get(path)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_roles_keep_to_their_pages(demo_app: Flask) -> None:
    enterprise = demo_app.test_client()
    sign_in(enterprise, "qiye")
    assert enterprise.get("/portal").status_code == 200
    reviewer = demo_app.test_client()
    sign_in(reviewer, "yuzhong")
    assert reviewer.get("/portal").status_code == 403
    assert reviewer.get("/applications/new").status_code == 403
    ops = demo_app.test_client()
    sign_in(ops, "yunwei")
    assert ops.get("/tasks").status_code == 403
    anonymous = demo_app.test_client()
    for path in ("/portal", "/tasks", "/applications/new"):
        answer = anonymous.get(path)
        assert answer.status_code == 302 and "/login?next=" in answer.headers["Location"]
    assert anonymous.get("/publicity").status_code == 200


def test_error_pages_help_and_the_api_still_answers_json(demo_app: Flask) -> None:
    client = demo_app.test_client()
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "页面不存在" in text and "返回首页" in text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.mimetype == "application/json"


def test_the_wizard_keeps_a_draft_and_names_every_wrong_field(demo_app: Flask) -> None:
    client = demo_app.test_client()
    sign_in(client, "qiye")
    token = csrf(client, "/applications/new")
    client.post("/applications/new?step=kind", data={"kind": "intake", "csrf_token": token})
    wrong = client.post("/applications/new?step=project", data={
        "csrf_token": token, "project_id": "new", "project-name": "缺项目类别的项目",
        "project-location_code": "500103"})
    text = wrong.get_data(as_text=True)
    assert "「项目类别」必填" in text and "项目信息有误" in text
    again = client.get("/applications/new?step=project").get_data(as_text=True)
    assert 'value="缺项目类别的项目"' in again  # kept across visits
    client.post("/applications/new?step=project", data={
        "csrf_token": token, "project_id": "new",
        **{f"project-{k}": str(v).lower() if isinstance(v, bool) else v
           for k, v in header(name="向导项目").items()}})
    stages = client.post("/applications/new?step=stages", data={
        "csrf_token": token, "action": "open", "contract-record_number": "HT-1"})
    text = stages.get_data(as_text=True)
    assert "合同登记" in text and "「合同编号」必填" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 0
    outside = client.post("/applications/new?step=project", data={
        "csrf_token": token, "project_id": "999999"})
    assert "不在您单位参建的项目中" in outside.get_data(as_text=True) or \
        outside.status_code == 302


def test_a_complaint_names_its_missing_fields_and_is_filed_when_complete(
        demo_app: Flask) -> None:
    client = demo_app.test_client()
    token = csrf(client, "/complaints")
    missing = client.post("/complaints", data={"csrf_token": token, "content": "造假"})
    assert missing.status_code == 422
    assert "「项目名称」必填" in missing.get_data(as_text=True)
    filed = client.post("/complaints", data={"csrf_token": token, "project_name": "某项目",
                                             "content": "业绩造假"}, follow_redirects=True)
    assert "投诉举报已受理" in filed.get_data(as_text=True)


def test_a_district_reports_to_the_city_with_its_formal_document_uploaded(app: Flask) -> None:
    """R-SUP-5: the formal document's file is uploaded on the task page and recorded on the
    application; a form refused (no commitment) stores no file."""
    deploy_processes()
    who = people()
    application = grade_application(who, city=False, grade="B", target="A")
    lifecycle.tasks.complete_task(open_task(application).id, APPROVE, who.yuzhong)
    settle(app)
    task = open_task(application)
    client = app.test_client()
    sign_in(client, "yz-reviewer", "password-123")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "公文文号" in page and 'name="document"' in page and "attachment_id" not in page
    form = {"csrf_token": csrf(client, f"/tasks/{task.id}"),
            "document_number": "渝中建文〔2026〕9号", "issued_on": "2026-11-20"}
    refused = client.post(f"/tasks/{task.id}", data={
        **form, "commitment": "false", "document": (io.BytesIO(PDF), "公文.pdf")},
        content_type="multipart/form-data")
    assert refused.status_code == 422 and "R-SUP-5" in refused.get_data(as_text=True)
    assert _documents(application) == []
    done = client.post(f"/tasks/{task.id}", data={
        **form, "commitment": "true", "document": (io.BytesIO(PDF), "公文.pdf")},
        content_type="multipart/form-data")
    assert done.status_code == 302
    [document] = _documents(application)
    assert document.display_name == "公文.pdf"
    completed = db.session.get(UserTask, task.id)
    assert completed is not None and completed.status == "done"
    settle(app)
    history = [e.data for e in queries.history(application.instance_id)
               if e.element_id == "Task_FormalDocument" and e.kind == "task_completed"]
    assert history[0]["attachment_id"] == str(document.id)


def _documents(application: Application) -> list[Attachment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Attachment).filter_by(
        application_id=application.id, kind="formal_document")))


def test_a_complaint_opens_a_key_inspection_worked_on_its_page(demo_app: Flask) -> None:
    """R-SUP-7: a complaint about a known project reaches the city's inbox; the inspection
    form takes at least two inspectors."""
    public = demo_app.test_client()
    public.post("/complaints", data={"csrf_token": csrf(public, "/complaints"),
                                     "project_number": "5001032024010001",
                                     "project_name": "渝中区某项目", "content": "业绩造假"})
    settle(demo_app)
    city = demo_app.test_client()
    sign_in(city, "shiji")
    inbox = city.get("/tasks").get_data(as_text=True)
    task_path = re.search(r'href="(/tasks/[^"]+)"', inbox).group(1)  # type: ignore[union-attr]
    page = city.get(task_path).get_data(as_text=True)
    assert "业绩造假" in page and "投诉举报" in page
    assert 'name="inspectors-1-name"' in page  # two inspectors' rows from the start
    form = {"csrf_token": csrf(city, task_path), "inspected_on": "2026-11-26",
            "on_site": "true", "result": "genuine", "findings": "现场核查属实",
            "inspectors-0-name": "王五", "inspectors-0-staff_number": "CQ-001"}
    one = city.post(task_path, data=form)
    assert one.status_code == 422 and "检查人员" in one.get_data(as_text=True)
    two = city.post(task_path, data={**form, "inspectors-1-name": "赵六",
                                     "inspectors-1-staff_number": "CQ-002"})
    assert two.status_code == 302


PAGES = ("/portal", "/applications/new", "/tasks", "/ops/instances", "/ops/incidents",
         "/ops/queues", "/models", "/models/upload", "/models/edit")
ALLOWED = {
    "qiye": {"/portal", "/applications/new", "/tasks"},
    "yuzhong": {"/tasks"}, "shiji": {"/tasks"},
    "yunwei": {"/ops/instances", "/ops/incidents", "/ops/queues"},
    "fenxi": {"/models", "/models/upload", "/models/edit"},
    "admin": {"/ops/instances", "/ops/incidents", "/ops/queues", "/models", "/models/upload",
              "/models/edit"},
}


@pytest.mark.parametrize("username", [*ALLOWED, None])
def test_the_role_matrix_of_the_pages(demo_app: Flask, username: str | None) -> None:
    client = demo_app.test_client()
    if username:
        sign_in(client, username)
    for path in PAGES:
        status = client.get(path).status_code
        if username is None:
            assert status == 302, path
        else:
            assert status == (200 if path in ALLOWED[username] else 403), (username, path)


def test_the_ops_instance_list_filters_and_pages_by_key(demo_app: Flask) -> None:
    first, second = _application(), _application()
    settle(demo_app)
    ops = demo_app.test_client()
    sign_in(ops, "yunwei")

    def shown(**query: str) -> set[str]:
        page = ops.get("/ops/instances", query_string=query).get_data(as_text=True)
        return set(re.findall(r"<td>(application-\d+)</td>", page))

    both = {f"application-{first.id}", f"application-{second.id}"}
    assert shown() == both
    assert shown(key=f"application-{first.id}") == {f"application-{first.id}"}
    assert shown(process="intake", status="waiting", scope="500103") == both
    assert shown(status="completed") == set() and shown(incident="yes") == set()
    assert shown(**{"from": "2000-01-01", "to": "2999-12-31"}) == both
    assert shown(**{"to": "2000-01-01"}) == set()
    assert shown(before=str(second.instance_id)) == {f"application-{first.id}"}
    assert shown(version="1", process="intake") == both and shown(version="9") == set()
    assert ops.get("/ops/instances?before=abc&version=x").status_code == 200  # ignored
    assert ops.get("/ops/instances?to=9999-12-31&from=0001-01-01").status_code == 200
    listed = ops.get("/ops/instances?process=intake").get_data(as_text=True)
    assert '<option value="intake" selected>工程项目信息入库（intake）</option>' in listed


def test_a_sub_contract_names_its_general_contract_by_project_number(demo_app: Flask) -> None:
    client = demo_app.test_client()
    sign_in(client, "muqiang")
    token = csrf(client, "/applications/new")
    client.post("/applications/new?step=kind", data={"kind": "intake", "csrf_token": token})
    form = {"csrf_token": token, "project_id": "new",
            **{f"project-{k}": str(v).lower() if isinstance(v, bool) else v
               for k, v in header(name="幕墙分包", category="SUB", role="专业承包/分包").items()}}
    unknown = client.post("/applications/new?step=project", data={
        **form, "project-general_project_number": "5009999999999999"})
    assert "「总承包项目编号」5009999999999999 不存在" in unknown.get_data(as_text=True)
    missing = client.post("/applications/new?step=project", data=form)
    assert "须指明总承包项目" in missing.get_data(as_text=True)
    known = client.post("/applications/new?step=project", data={
        **form, "project-general_project_number": "5001032024010001"})
    assert known.status_code == 302 and known.headers["Location"].endswith("step=stages")
    assert client.post("/applications/new?step=project", data={
        "csrf_token": token, "project_id": "99999999999999999999"}).status_code == 200
