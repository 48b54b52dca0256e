"""intake.bpmn with publicity_and_push.bpmn, driven as the people would, through the real
engine, worker, registry and the national-platform simulator (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
import lifecycle
from engine.db import db
from registry.applications import NotAllowed
from registry.models import Application, PublicityNotice, StageRecord
from tests.conftest import Simulator
from tests.processes.helpers import (
    REVIEW_OK,
    REVIEW_PROBLEM,
    deploy_processes,
    instance_of,
    open_task,
    people,
    settle,
    submit_intake,
)

PAST_PUBLICITY = timedelta(days=15)
"""Far enough ahead that any 5-working-day publicity period (A-1) has ended."""


@pytest.fixture
def who(app: Flask):  # type: ignore[no-untyped-def]
    deploy_processes()
    return people()


def test_r_ib_2_a_4_returned_amended_approved_published_pushed_with_grade_d(
        app: Flask, who, national: Simulator) -> None:  # type: ignore[no-untyped-def]
    """R-IB-2, A-4, R-IB-3, A-1, A-2: the whole happy path with one return for amendment."""
    application = submit_intake(who)
    review = open_task(application)
    assert (review.element_id, review.candidate_group, review.scope) == (
        "Task_DistrictReview", "区县住建主管部门", "500103")

    lifecycle.tasks.complete_task(review.id, REVIEW_PROBLEM, who.yuzhong)
    settle(app)
    amend = open_task(application)
    assert (amend.element_id, amend.scope) == ("Task_Amend", f"org:{who.org.id}")
    assert db.session.get(Application, application.id).status == "returned"

    lifecycle.tasks.complete_task(amend.id, {"action": "resubmit", "note": "已更正合同金额"},
                                  who.unit)
    settle(app)
    again = open_task(application)
    assert again.element_id == "Task_DistrictReview"
    assert db.session.get(Application, application.id).rounds == 1

    lifecycle.tasks.complete_task(again.id, REVIEW_OK, who.yuzhong)
    settle(app)
    notice = db.session.scalar(sa.select(PublicityNotice))
    assert notice is not None and notice.status == "open"
    assert national.state.pushes == {}  # nothing is pushed while publicity runs

    settle(app, travel=PAST_PUBLICITY)  # 5 working days, time moved forward
    assert instance_of(application).status == "completed"
    assert len(national.state.pushes) == 1
    [push] = national.state.pushes.values()
    assert push["body"]["payload"]["grades"] == {"bidding": "D", "completion": "D",
                                                 "contract": "D"}
    done = db.session.get(Application, application.id)
    assert done is not None and done.status == "approved"
    grades = dict(db.session.execute(sa.select(StageRecord.stage, StageRecord.grade)).all())
    assert grades == {"bidding": "D", "contract": "D", "completion": "D"}
    assert db.session.get(PublicityNotice, notice.id).status == "closed"  # type: ignore[union-attr]


def test_r_sup_1_city_managed_projects_are_reviewed_by_the_city(
        app: Flask, who) -> None:  # type: ignore[no-untyped-def]
    """R-SUP-1: every application is reviewed, by the city when the project is city-managed."""
    application = submit_intake(who, city_managed=True, managing_code=None)
    review = open_task(application)
    assert (review.element_id, review.candidate_group, review.scope) == (
        "Task_CityReview", "市住建委", "city")
    with pytest.raises(NotAllowed):
        lifecycle.tasks.complete_task(review.id, REVIEW_OK, who.yuzhong)
    lifecycle.tasks.complete_task(review.id, REVIEW_OK, who.city)


def test_a_district_reviewer_cannot_act_on_another_district_or_the_unit_on_a_review(
        app: Flask, who) -> None:  # type: ignore[no-untyped-def]
    application = submit_intake(who)
    review = open_task(application)
    for stranger in (who.jiangbei, who.city, who.unit):
        with pytest.raises(NotAllowed):
            lifecycle.tasks.complete_task(review.id, REVIEW_OK, stranger)


def test_a_4_the_unit_may_withdraw_after_a_return(app: Flask, who) -> None:  # type: ignore[no-untyped-def]
    application = submit_intake(who)
    lifecycle.tasks.complete_task(open_task(application).id, REVIEW_PROBLEM, who.yuzhong)
    settle(app)
    lifecycle.tasks.complete_task(open_task(application).id, {"action": "withdraw"}, who.unit)
    settle(app)
    assert instance_of(application).status == "completed"
    assert db.session.get(Application, application.id).status == "withdrawn"  # type: ignore[union-attr]


def _published(app: Flask, who) -> Application:  # type: ignore[no-untyped-def]
    application = submit_intake(who)
    lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, who.yuzhong)
    settle(app)
    return application


def test_a_3_an_upheld_objection_stops_the_push_and_returns_the_application(
        app: Flask, who, national: Simulator) -> None:  # type: ignore[no-untyped-def]
    """A-3: an objection during publicity goes to the authority; upheld, nothing is pushed
    and the application goes back to the unit."""
    application = _published(app, who)
    notice = db.session.scalar(sa.select(PublicityNotice))
    assert notice is not None
    lifecycle.events.raise_objection(notice.id, {"name": "王五", "contact": "023-12345678",
                                         "content": "该项目实际未竣工"})
    ruling = open_task(application)
    assert (ruling.element_id, ruling.scope, ruling.form_key) == (
        "Task_DistrictRuling", "500103", "objection_ruling")
    lifecycle.tasks.complete_task(ruling.id, {"decision": "uphold", "reason": "经核查异议属实"},
                           who.yuzhong)
    settle(app)
    assert national.state.pushes == {}
    assert db.session.get(PublicityNotice, notice.id).status == "stopped"  # type: ignore[union-attr]
    assert open_task(application).element_id == "Task_Amend"
    assert db.session.get(Application, application.id).status == "returned"  # type: ignore[union-attr]


def test_a_3_a_dismissed_objection_lets_the_push_go_ahead_once(
        app: Flask, who, national: Simulator) -> None:  # type: ignore[no-untyped-def]
    application = _published(app, who)
    notice = db.session.scalar(sa.select(PublicityNotice))
    assert notice is not None
    lifecycle.events.raise_objection(notice.id, {"name": "王五", "contact": "023-12345678",
                                         "content": "怀疑金额不实"})
    ruling = open_task(application)
    lifecycle.tasks.complete_task(ruling.id, {"decision": "dismiss", "reason": "与合同备案一致"},
                           who.yuzhong)
    settle(app)  # publicity resumes, its end moved by the pause; then the push
    assert db.session.get(Application, application.id).status == "in_publicity"  # type: ignore[union-attr]
    assert national.state.pushes == {}
    settle(app, travel=PAST_PUBLICITY)
    assert instance_of(application).status == "completed"
    assert len(national.state.pushes) == 1


def test_objections_after_publicity_are_refused(app: Flask, who) -> None:  # type: ignore[no-untyped-def]
    application = submit_intake(who)
    lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, who.yuzhong)
    settle(app)
    settle(app, travel=PAST_PUBLICITY)
    notice = db.session.scalar(sa.select(PublicityNotice))
    assert notice is not None and notice.status == "closed"
    with pytest.raises(NotAllowed, match="公示期已结束"):
        lifecycle.events.raise_objection(notice.id, {"name": "王五", "contact": "023-12345678",
                                             "content": "迟到的异议"})


def test_a_push_that_fails_is_retried_and_reaches_the_platform_once(
        app: Flask, who, national: Simulator) -> None:  # type: ignore[no-untyped-def]
    national.state.fail_next = 2
    application = submit_intake(who)
    lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, who.yuzhong)
    settle(app)
    settle(app, travel=PAST_PUBLICITY)
    assert instance_of(application).status == "completed"
    assert len(national.state.pushes) == 1
    assert national.state.requests == 3


def test_submitting_without_a_deployed_procedure_changes_nothing(app: Flask) -> None:
    who = people()  # nothing deployed
    from registry import applications as apps
    from tests.registry.test_applications import PDF, header, hm_stages

    application = apps.open_application(who.unit, "intake", hm_stages(), project=header())
    for kind in ("report", "commitment", "application_form", "evidence"):
        apps.add_attachment(application.id, who.unit, kind, PDF, f"{kind}.pdf")
    with pytest.raises(engine.NotFound):
        lifecycle.submission.submit(application.id, who.unit)
    assert db.session.get(Application, application.id).status == "draft"  # type: ignore[union-attr]


def test_a_1_publicity_lasts_five_working_days(app: Flask, who) -> None:  # type: ignore[no-untyped-def]
    """A-1: the notice stays open until the end of its fifth working day (Beijing time)."""
    from engine.clock import now
    from registry.calendar import period_end

    application = submit_intake(who)
    lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, who.yuzhong)
    settle(app)
    notice = db.session.scalar(sa.select(PublicityNotice))
    assert notice is not None
    expected, _ = period_end(notice.opened_at, 5)
    assert notice.closes_at == expected
    settle(app, travel=notice.closes_at - now() - timedelta(minutes=1))
    assert db.session.get(PublicityNotice, notice.id).status == "open"  # type: ignore[union-attr]
    settle(app, travel=timedelta(minutes=2))
    assert db.session.get(PublicityNotice, notice.id).status == "closed"  # type: ignore[union-attr]
    assert instance_of(application).status == "completed"


def test_notices_reach_the_reviewers_group_and_the_applicant(app: Flask, who) -> None:  # type: ignore[no-untyped-def]
    from registry.models import Notification

    application = submit_intake(who)
    lifecycle.tasks.complete_task(open_task(application).id, REVIEW_PROBLEM, who.yuzhong)
    settle(app)
    audiences = [n.audience for n in db.session.scalars(
        sa.select(Notification).order_by(Notification.id))]
    assert audiences == ["500103|区县住建主管部门", f"org:{who.org.id}",
                         f"org:{who.org.id}|参建单位"]
