"""The application lifecycle: one owner of every status move. Races with real threads over
the API on both backends, the statuses and their labels end to end, and the guide's checks
at the boundary (R-IB-1, R-IB-2)."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine.db import db
from engine.models import Instance, UserTask, WaitStatus
from lifecycle import keys, states
from registry import users
from registry.models import (
    LABELS,
    Application,
    AppStatus,
    AuditEvent,
    Notification,
    Objection,
)
from tests.conftest import Simulator
from tests.processes.helpers import (
    REVIEW_OK,
    REVIEW_PROBLEM,
    People,
    deploy_processes,
    settle,
    signed_people,
)
from tests.registry.test_applications import PDF, header, hm_stages
from tests.web.test_api import login, open_intake
from tests.web.test_pages import csrf, sign_in

Call = Callable[[Any], Any]


@pytest.fixture
def who(app: Flask) -> People:
    result = signed_people()
    users.create_user("ops-1", "password-123", "ops", "运维")
    db.session.commit()
    return result


def race(app: Flask, calls: list[Call]) -> list[Any]:
    """Run each call with its own test client in its own thread, all let go at once."""
    barrier = threading.Barrier(len(calls), timeout=30)
    answers: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        answers[n] = calls[n](client)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.session.expire_all()
    return answers


def instances_of(application_id: int) -> list[Instance]:
    return list(db.session.scalars(sa.select(Instance).filter_by(
        business_key=keys.business_key(application_id))))


def open_tasks(application_id: int) -> list[UserTask]:
    return list(db.session.scalars(sa.select(UserTask).join(
        Instance, Instance.id == UserTask.instance_id).where(
        Instance.business_key == keys.business_key(application_id),
        UserTask.status == WaitStatus.OPEN)))


def status(application_id: int) -> str:
    db.session.expire_all()
    found = db.session.get(Application, application_id)
    assert found is not None
    return found.status


def refused(answer: Any, code: int) -> str:
    assert answer.status_code == code, answer.get_json()
    message = str(answer.get_json()["message"])
    assert any("\u4e00" <= c <= "\u9fff" for c in message), message
    return message


def _under_review(app: Flask, who: People) -> tuple[Any, dict[str, str], dict[str, str], int,
                                                 UserTask]:
    """A submitted intake waiting for its review: the client, the applicant's and the
    reviewer's headers, the application id and the review task."""
    client = app.test_client()
    unit, reviewer = login(client, who.unit.username), login(client, "yz-reviewer")
    application_id = open_intake(client, unit)
    client.post(f"/api/v1/applications/{application_id}/submit", headers=unit)
    [task] = open_tasks(application_id)
    return client, unit, reviewer, application_id, task


def test_every_status_has_one_label_and_every_move_names_known_statuses() -> None:
    assert set(LABELS) == set(AppStatus)
    assert len(set(LABELS.values())) == len(LABELS)
    for target, sources in states.MOVES.items():
        assert target in AppStatus and sources <= set(AppStatus)
    assert not states.MOVES[AppStatus.WITHDRAWN] & {AppStatus.SUBMITTED, AppStatus.APPROVED}


def test_the_same_draft_submitted_five_times_at_once_starts_one_procedure(
        app: Flask, who: People) -> None:
    unit = login(app.test_client(), who.unit.username)
    application_id = open_intake(app.test_client(), unit)
    answers = race(app, [lambda c: c.post(f"/api/v1/applications/{application_id}/submit",
                                          headers=unit)] * 5)
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409, 409, 409]
    for answer in answers:
        if answer.status_code == 409:
            refused(answer, 409)
    assert len(instances_of(application_id)) == 1
    assert len(open_tasks(application_id)) == 1
    assert status(application_id) == "submitted"


def test_submit_and_withdraw_at_once_one_wins_and_the_state_agrees(
        app: Flask, who: People) -> None:
    unit = login(app.test_client(), who.unit.username)
    for _ in range(3):
        application_id = open_intake(app.test_client(), unit)
        submit, withdraw = race(app, [
            lambda c, a=application_id: c.post(f"/api/v1/applications/{a}/submit",
                                               headers=unit),
            lambda c, a=application_id: c.post(f"/api/v1/applications/{a}/withdraw",
                                               headers=unit)])
        assert sorted([submit.status_code, withdraw.status_code]) == [200, 409]
        if submit.status_code == 200:
            assert status(application_id) == "submitted"
            assert len(instances_of(application_id)) == 1
        else:
            assert status(application_id) == "withdrawn"
            assert instances_of(application_id) == []


def _returned(app: Flask, who: People, unit: dict[str, str]) -> int:
    client = app.test_client()
    application_id = open_intake(client, unit)
    assert client.post(f"/api/v1/applications/{application_id}/submit",
                       headers=unit).status_code == 200
    reviewer = login(client, "yz-reviewer")
    [task] = open_tasks(application_id)
    answer = client.post(f"/api/v1/tasks/{task.id}/complete", headers=reviewer,
                         json=REVIEW_PROBLEM)
    assert answer.status_code == 200, answer.get_json()
    settle(app)
    assert status(application_id) == "returned"
    return application_id


def test_resubmit_and_withdraw_of_a_returned_application_at_once_one_wins(
        app: Flask, who: People) -> None:
    unit = login(app.test_client(), who.unit.username)
    application_id = _returned(app, who, unit)
    submit, withdraw = race(app, [
        lambda c: c.post(f"/api/v1/applications/{application_id}/submit", headers=unit,
                         json={"note": "已按意见修改合同金额"}),
        lambda c: c.post(f"/api/v1/applications/{application_id}/withdraw", headers=unit)])
    assert sorted([submit.status_code, withdraw.status_code]) == [200, 409]
    settle(app)
    if submit.status_code == 200:
        assert status(application_id) == "submitted"
        [review] = open_tasks(application_id)
        assert review.element_id == "Task_DistrictReview"
        assert db.session.get(Application, application_id).rounds == 1  # type: ignore[union-attr]
    else:
        assert status(application_id) == "withdrawn"
        assert open_tasks(application_id) == []
        assert instances_of(application_id)[0].status == "completed"


def test_complete_and_suspend_at_once_never_leave_a_half_step(
        app: Flask, who: People) -> None:
    client = app.test_client()
    unit, ops = login(client, who.unit.username), login(client, "ops-1")
    reviewer = login(client, "yz-reviewer")
    application_id = open_intake(client, unit)
    client.post(f"/api/v1/applications/{application_id}/submit", headers=unit)
    [task] = open_tasks(application_id)
    [instance] = instances_of(application_id)
    complete, suspend = race(app, [
        lambda c: c.post(f"/api/v1/tasks/{task.id}/complete", headers=reviewer, json=REVIEW_OK),
        lambda c: c.post(f"/api/v1/instances/{instance.id}/suspend", headers=ops,
                         json={"reason": "核查数据"})])
    assert complete.status_code in (200, 409) and suspend.status_code in (200, 409)
    assert 200 in (complete.status_code, suspend.status_code)
    db.session.expire_all()
    done = db.session.get(UserTask, task.id)
    assert done is not None
    if complete.status_code == 200:  # the step went through whole
        assert done.status == WaitStatus.DONE
    else:  # refused whole: the task waits, the instance is suspended
        refused(complete, 409)
        assert done.status == WaitStatus.OPEN
        assert db.session.get(Instance, instance.id).status == "suspended"  # type: ignore[union-attr]


def test_the_database_holds_one_active_procedure_per_business_key(app: Flask) -> None:
    deploy_processes()
    engine.start("monthly_sampling", business_key="k-1", scope="city", data={"period": "x"})
    with pytest.raises(engine.Conflict, match="已有进行中的流程"):
        engine.start("monthly_sampling", business_key="k-1", scope="city",
                     data={"period": "x"})
    assert db.session.scalar(sa.select(sa.func.count(Instance.id))) == 1


def test_a_submission_and_its_procedure_are_one_commit_or_nothing(
        app: Flask, who: People) -> None:
    """The engine joins the caller's unit of work: a start that fails leaves the draft."""
    client = app.test_client()
    unit = login(client, who.unit.username)
    application_id = open_intake(client, unit)
    with pytest.raises(RuntimeError), engine.transaction():
        application = db.session.get(Application, application_id)
        assert application is not None
        states.move(application, AppStatus.SUBMITTED, "test")
        engine.start("intake", business_key=keys.business_key(application_id),
                     data={"application_id": application_id, "managed_by": "district",
                           "scope": "500103", "applicant": 1})
        raise RuntimeError("after the start, before the commit")
    assert status(application_id) == "draft"
    assert instances_of(application_id) == []
    assert db.session.scalar(sa.select(sa.func.count(UserTask.id))) == 0


def test_statuses_and_labels_from_draft_to_pushed_agree_everywhere(
        app: Flask, who: People, national: Simulator) -> None:
    """R-IB-3, A-1, A-2: review, publicity, push; the API says where it stands, in the same
    words the applicant is told; a push that runs out of retries shows as failing."""
    client = app.test_client()
    unit, reviewer = login(client, who.unit.username), login(client, "yz-reviewer")
    application_id = open_intake(client, unit)

    def seen() -> tuple[str, str]:
        body = client.get(f"/api/v1/applications/{application_id}", headers=unit).get_json()
        return body["status"], body["status_label"]

    assert seen() == ("draft", "草稿")
    client.post(f"/api/v1/applications/{application_id}/submit", headers=unit)
    assert seen() == ("submitted", "审核中")
    [task] = open_tasks(application_id)
    client.post(f"/api/v1/tasks/{task.id}/complete", headers=reviewer, json=REVIEW_OK)
    settle(app)
    assert seen() == ("in_publicity", "公示中")
    national.state.fail_next = 100
    settle(app, travel=timedelta(days=15))
    assert seen() == ("push_failed", "推送全国平台失败，运维处理中")
    national.state.fail_next = 0
    ops = login(client, "ops-1")
    [instance] = instances_of(application_id)
    assert client.post(f"/api/v1/instances/{instance.id}/retry", headers=ops,
                       json={"reason": "国家平台已恢复"}).status_code == 200
    settle(app)
    assert seen() == ("approved", "已办结（已推送全国平台）")
    moves = [e.data["to"] for e in db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action.like("application\\_%", escape="\\"),
        AuditEvent.object == f"application:{application_id}").order_by(AuditEvent.id))
        if e.data and "to" in e.data]
    assert moves == ["submitted", "in_publicity", "pushing", "push_failed", "pushing",
                     "approved"]
    told = db.session.scalars(sa.select(Notification.title).where(
        Notification.audience == f"org:{who.org.id}").order_by(Notification.id)).all()
    assert told[-1].endswith("：" + LABELS["approved"])
    assert any(t.endswith("：" + LABELS["push_failed"]) for t in told)
    body = client.get(f"/api/v1/applications/{application_id}", headers=unit).get_json()
    project = client.get(f"/api/v1/projects/{body['project_id']}", headers=unit).get_json()
    assert body["project_number"] == project["project_number"] == "NP0000000001"


def test_an_application_under_review_cannot_be_withdrawn_by_page_or_api(
        app: Flask, who: People) -> None:
    """A-4: withdrawal is for a draft or a returned application; under review it is refused
    alike over the API and the page, and its procedure runs on."""
    client = app.test_client()
    unit = login(client, who.unit.username)
    application_id = open_intake(client, unit)
    client.post(f"/api/v1/applications/{application_id}/submit", headers=unit)
    message = refused(client.post(f"/api/v1/applications/{application_id}/withdraw",
                                  headers=unit), 409)
    assert "审核中" in message
    page = app.test_client()
    sign_in(page, who.unit.username, "password-123")
    answer = page.post(f"/applications/{application_id}/withdraw",
                       data={"csrf_token": csrf(page, f"/applications/{application_id}")},
                       follow_redirects=True)
    assert "不能撤回" in answer.get_data(as_text=True)
    assert status(application_id) == "submitted"
    assert len(open_tasks(application_id)) == 1


def test_r_ib_2_a_review_must_cover_every_stage_and_the_materials(
        app: Flask, who: People) -> None:
    client, unit, reviewer, application_id, task = _under_review(app, who)
    partial = {"items": [i for i in REVIEW_OK["items"] if i["item"] != "bidding"]}
    answer = client.post(f"/api/v1/tasks/{task.id}/complete", headers=reviewer, json=partial)
    assert "招投标" in refused(answer, 422) and answer.get_json()["rule"] == "R-IB-2"
    extra = {"items": [*REVIEW_OK["items"], {"item": "permit", "result": "pass"}]}
    answer = client.post(f"/api/v1/tasks/{task.id}/complete", headers=reviewer, json=extra)
    assert "施工许可" in refused(answer, 422)
    db.session.expire_all()
    assert db.session.get(UserTask, task.id).status == WaitStatus.OPEN  # type: ignore[union-attr]
    assert client.post(f"/api/v1/tasks/{task.id}/complete", headers=reviewer,
                       json=REVIEW_OK).status_code == 200


def test_r_ib_1_an_intake_without_stage_data_is_refused_at_submission(
        app: Flask, who: People) -> None:
    client = app.test_client()
    unit = login(client, who.unit.username)
    opened = client.post("/api/v1/applications", headers=unit, json={
        "kind": "intake", "project": header(), "stages": {}})
    assert opened.status_code == 201, opened.get_json()
    application_id = opened.get_json()["id"]
    for kind in ("report", "commitment", "application_form", "evidence"):
        client.post(f"/api/v1/applications/{application_id}/attachments", headers=unit,
                    data={"kind": kind, "file": (io.BytesIO(PDF), f"{kind}.pdf")},
                    content_type="multipart/form-data")
    answer = client.post(f"/api/v1/applications/{application_id}/submit", headers=unit)
    message = refused(answer, 422)
    assert answer.get_json()["rule"] == "R-IB-1" and "招投标" in message
    assert status(application_id) == "draft" and instances_of(application_id) == []


def test_fields_that_do_not_belong_to_the_kind_are_refused(app: Flask, who: People) -> None:
    client = app.test_client()
    unit = login(client, who.unit.username)
    answer = client.post("/api/v1/applications", headers=unit, json={
        "kind": "intake", "project": header(), "stages": hm_stages(), "target_grade": "B"})
    refused(answer, 422)
    assert answer.get_json()["errors"]["target_grade"] == ["「目标等级」只用于等级调整申请"]
    assert db.session.scalar(sa.select(sa.func.count(Application.id))) == 0


def test_a_3_an_objection_moves_the_application_and_its_ruling_is_recorded(
        app: Flask, who: People) -> None:
    client, unit, reviewer, application_id, task = _under_review(app, who)
    client.post(f"/api/v1/tasks/{task.id}/complete", headers=reviewer, json=REVIEW_OK)
    settle(app)
    [notice] = client.get("/api/v1/publicity").get_json()
    answer = client.post(f"/api/v1/publicity/{notice['id']}/objections", json={
        "name": "王五", "contact": "023-12345678", "content": "该项目实际未竣工"})
    assert answer.status_code == 201, answer.get_json()
    assert status(application_id) == "objection"
    [ruling] = open_tasks(application_id)
    client.post(f"/api/v1/tasks/{ruling.id}/complete", headers=reviewer,
                json={"decision": "dismiss", "reason": "已现场核实竣工"})
    settle(app)
    assert status(application_id) == "in_publicity"
    objection = db.session.scalar(sa.select(Objection))
    assert objection is not None
    assert (objection.status, objection.ruling) == ("dismissed", "已现场核实竣工")
