"""correction.bpmn: verification by the managing authority, the district's formal document and
the city's sampling, the written request to the Ministry, its reply, then the correction."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

import lifecycle
from engine.db import db
from engine.models import UserTask
from registry import applications as apps
from registry.models import Application, StageRecord, StageVersion
from tests.conftest import Simulator
from tests.forms.test_stages import VALID
from tests.processes.helpers import (
    People,
    deploy_processes,
    document,
    instance_of,
    open_task,
    people,
    review,
    review_problem,
    settle,
)
from tests.registry import factory
from tests.registry.test_applications import PDF

DOCUMENT = {"document_number": "渝中建文〔2026〕90号", "issued_on": "2026-11-20",
            "commitment": True, "attachment_id": "doc-2"}
REQUEST = {"document_number": "渝建函〔2026〕12号", "issued_on": "2026-11-21",
           "attachment_id": "doc-3"}
AGREED = {"agreed": True, "reply_number": "建市函〔2026〕7号", "replied_on": "2026-11-25",
          "attachment_id": "doc-4"}


def correction(who: People, *, city: bool) -> Application:
    project = factory.project(who.org, city_managed=city, on_platform=True)
    factory.stage(project, "completion", VALID["completion"], grade="D")
    db.session.commit()
    fixed = {"completion": dict(VALID["completion"], actual_cost="10200.00")}
    application = apps.open_application(who.unit, "correction", fixed, project_id=project.id)
    for kind in ("report", "commitment", "application_form", "evidence"):
        apps.add_attachment(application.id, who.unit, kind, PDF, f"{kind}.pdf")
    return lifecycle.submission.submit(application.id, who.unit)


def versions(application: Application) -> list[str]:
    db.session.expire_all()
    record = db.session.scalar(sa.select(StageRecord).filter_by(
        project_id=application.project_id, stage="completion"))
    assert record is not None
    return [v.payload["actual_cost"] for v in db.session.scalars(
        sa.select(StageVersion).filter_by(record_id=record.id).order_by(StageVersion.version))]


@pytest.fixture
def who(app: Flask) -> People:
    deploy_processes()
    return people()


def test_r_cor_5_r_sup_3_city_managed_correction_after_the_ministry_agrees(
        app: Flask, who: People, national: Simulator) -> None:
    """R-SUP-3 / R-COR-4: the city verifies city-managed items itself; R-COR-5: the
    correction is applied, keeping the earlier version, and pushed only after the Ministry
    agrees."""
    application = correction(who, city=True)
    lifecycle.tasks.complete_task(open_task(application).id, review(application), who.city)
    settle(app)
    request = open_task(application)
    assert request.element_id == "Task_RequestMinistry"
    lifecycle.tasks.complete_task(
        request.id, document(application, who.city, "ministry_request", REQUEST), who.city)
    settle(app)
    assert versions(application) == ["10100"]  # nothing changes before the Ministry agrees
    assert national.state.pushes == {}
    lifecycle.tasks.complete_task(open_task(application).id,
                                  document(application, who.city, "ministry_reply", AGREED),
                                  who.city)
    settle(app)
    assert instance_of(application).status == "completed"
    assert versions(application) == ["10100", "10200.00"]
    [push] = national.state.pushes.values()
    assert push["body"]["kind"] == "correction"
    assert push["body"]["payload"]["grades"] == {"completion": "D"}


def test_r_cor_4_r_sup_4_district_managed_goes_by_formal_document_and_sampling(
        app: Flask, who: People) -> None:
    """R-COR-4 / R-SUP-4..6: district verification, formal document with commitment, the
    city's in-process draw; the Ministry's reply arrives as a message (R-COR-5)."""
    application = correction(who, city=False)
    verify = open_task(application)
    assert (verify.element_id, verify.scope) == ("Task_DistrictVerify", "500103")
    lifecycle.tasks.complete_task(verify.id, review(application), who.yuzhong)
    settle(app)
    lifecycle.tasks.complete_task(open_task(application).id,
                                  document(application, who.yuzhong, "formal_document", DOCUMENT),
                                  who.yuzhong)
    settle(app)
    check = open_task(application)
    assert check.element_id == "Task_CitySampleCheck"  # the month's first item is drawn
    lifecycle.tasks.complete_task(check.id, {"passed": True}, who.city)
    settle(app)
    lifecycle.tasks.complete_task(open_task(application).id,
                                  document(application, who.city, "ministry_request", REQUEST),
                                  who.city)
    settle(app)
    record = open_task(application)
    assert record.element_id == "Task_RecordReply"
    assert lifecycle.events.ministry_replied(application.id, AGREED) == 1
    settle(app)
    assert instance_of(application).status == "completed"
    assert versions(application) == ["10100", "10200.00"]
    assert db.session.get(UserTask, record.id).status == "cancelled"  # type: ignore[union-attr]


def test_r_cor_5_no_correction_when_the_ministry_refuses(
        app: Flask, who: People, national: Simulator) -> None:
    application = correction(who, city=True)
    lifecycle.tasks.complete_task(open_task(application).id, review(application), who.city)
    settle(app)
    lifecycle.tasks.complete_task(open_task(application).id,
                                  document(application, who.city, "ministry_request", REQUEST),
                                  who.city)
    settle(app)
    lifecycle.tasks.complete_task(open_task(application).id, document(
        application, who.city, "ministry_reply", {**AGREED, "agreed": False}), who.city)
    settle(app)
    assert instance_of(application).status == "completed"
    assert db.session.get(Application, application.id).status == "rejected"  # type: ignore[union-attr]
    assert versions(application) == ["10100"]
    assert national.state.pushes == {}


def test_a_correction_with_problems_goes_back_to_the_unit(app: Flask, who: People) -> None:
    application = correction(who, city=False)
    lifecycle.tasks.complete_task(open_task(application).id, review_problem(application),
                                  who.yuzhong)
    settle(app)
    assert open_task(application).element_id == "Task_Amend"


def test_a_ministry_reply_without_a_waiting_correction_is_not_delivered(
        app: Flask, who: People) -> None:
    application = correction(who, city=True)
    assert lifecycle.events.ministry_replied(application.id, AGREED) == 0
    with pytest.raises(apps.FormInvalid):
        lifecycle.events.ministry_replied(application.id, {"agreed": "perhaps"})


def test_r_sup_5_an_undrawn_district_correction_goes_straight_to_the_ministry_request(
        app: Flask, who: People) -> None:
    from tests.processes.test_grade_adjust import _not_drawn_next

    _not_drawn_next(who)
    application = correction(who, city=False)
    lifecycle.tasks.complete_task(open_task(application).id, review(application), who.yuzhong)
    settle(app)
    lifecycle.tasks.complete_task(open_task(application).id,
                                  document(application, who.yuzhong, "formal_document", DOCUMENT),
                                  who.yuzhong)
    settle(app)
    assert open_task(application).element_id == "Task_RequestMinistry"


def test_a_4_a_returned_correction_may_be_withdrawn(app: Flask, who: People) -> None:
    application = correction(who, city=True)
    lifecycle.tasks.complete_task(open_task(application).id, review_problem(application), who.city)
    settle(app)
    lifecycle.tasks.complete_task(open_task(application).id, {"action": "withdraw"}, who.unit)
    settle(app)
    assert instance_of(application).status == "completed"
    assert db.session.get(Application, application.id).status == "withdrawn"  # type: ignore[union-attr]
