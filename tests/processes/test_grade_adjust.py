"""grade_adjust.bpmn: D→B by the district, B→A district then city (commitment, in-process
sampling), D→A by the city; through the real worker and the simulator."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

import lifecycle
from engine.db import db
from handlers.sampling import in_process, replay
from registry import applications as apps
from registry.models import Application, Project, SamplingDraw, StageRecord
from tests.conftest import Simulator
from tests.forms.test_stages import VALID
from tests.processes.helpers import (
    People,
    deploy_processes,
    instance_of,
    open_task,
    people,
    settle,
)
from tests.processes.helpers import (
    document as upload,
)
from tests.registry import factory
from tests.registry.test_applications import PDF

APPROVE = {"approved": True, "reason": "升级环节数据与佐证材料一致"}
DOCUMENT = {"document_number": "渝中建文〔2026〕88号", "issued_on": "2026-11-20",
            "commitment": True, "attachment_id": "doc-1"}


def grade_application(who: People, *, city: bool, grade: str, target: str) -> Application:
    project = factory.project(who.org, city_managed=city, on_platform=True)
    factory.stage(project, "contract", VALID["contract"], grade=grade)
    db.session.commit()
    application = apps.open_application(who.unit, "grade_adjust", {"contract": {}},
                                        project_id=project.id, target_grade=target)
    for kind in ("report", "commitment", "application_form", "evidence"):
        apps.add_attachment(application.id, who.unit, kind, PDF, f"{kind}.pdf")
    return lifecycle.submission.submit(application.id, who.unit)


def grade_of(application: Application) -> str | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(StageRecord.grade).filter_by(
        project_id=application.project_id, stage="contract"))


@pytest.fixture
def who(app: Flask) -> People:
    deploy_processes()
    return people()


def test_r_ga_3_district_raises_d_to_b(app: Flask, who: People, national: Simulator) -> None:
    """R-GA-3: the district verifies the stage data and sets grade B; the grade is pushed."""
    application = grade_application(who, city=False, grade="D", target="B")
    verify = open_task(application)
    assert (verify.element_id, verify.scope) == ("Task_DistrictVerify", "500103")
    lifecycle.tasks.complete_task(verify.id, APPROVE, who.yuzhong)
    settle(app)
    assert instance_of(application).status == "completed"
    assert grade_of(application) == "B"
    [push] = national.state.pushes.values()
    assert push["body"]["kind"] == "grade"
    assert push["body"]["payload"]["grades"] == {"contract": "B"}


def test_r_ga_4_r_sup_5_r_sup_6_b_to_a_goes_through_the_city(
        app: Flask, who: People, national: Simulator) -> None:
    """R-GA-4 / R-SUP-4: the district approves and reports by formal document with its
    commitment (R-SUP-5); the city samples (R-SUP-6) and, if drawn, checks before grade A."""
    application = grade_application(who, city=False, grade="B", target="A")
    lifecycle.tasks.complete_task(open_task(application).id, APPROVE, who.yuzhong)
    settle(app)
    document = open_task(application)
    assert (document.element_id, document.form_key) == ("Task_FormalDocument", "formal_document")
    with pytest.raises(apps.FormInvalid):
        lifecycle.tasks.complete_task(document.id, {**DOCUMENT, "commitment": False},
                                      who.yuzhong)
    lifecycle.tasks.complete_task(document.id, upload(application, who.yuzhong,
                                                      "formal_document", DOCUMENT), who.yuzhong)
    settle(app)
    check = open_task(application)  # the first item of the month is always drawn
    assert (check.element_id, check.scope) == ("Task_CitySampleCheck", "city")
    lifecycle.tasks.complete_task(check.id, {"passed": True}, who.city)
    settle(app)
    assert instance_of(application).status == "completed"
    assert grade_of(application) == "A"
    draw = db.session.scalar(sa.select(SamplingDraw))
    assert draw is not None and draw.population == [application.id]
    assert draw.drawn == [application.id] and draw.scope == "500103"


def test_r_ga_5_r_sup_3_city_managed_d_to_a_by_the_city(app: Flask, who: People) -> None:
    """R-GA-5 / R-SUP-3: the city verifies city-managed D→A itself (100%)."""
    application = grade_application(who, city=True, grade="D", target="A")
    verify = open_task(application)
    assert (verify.element_id, verify.candidate_group) == ("Task_CityVerify", "市住建委")
    lifecycle.tasks.complete_task(verify.id, APPROVE, who.city)
    settle(app)
    assert grade_of(application) == "A"


def test_a_failed_sample_returns_the_application(app: Flask, who: People) -> None:
    application = grade_application(who, city=False, grade="B", target="A")
    lifecycle.tasks.complete_task(open_task(application).id, APPROVE, who.yuzhong)
    settle(app)
    lifecycle.tasks.complete_task(open_task(application).id,
                                  upload(application, who.yuzhong, "formal_document", DOCUMENT),
                                  who.yuzhong)
    settle(app)
    lifecycle.tasks.complete_task(open_task(application).id,
                           {"passed": False, "findings": "佐证材料与现场不符"}, who.city)
    settle(app)
    assert open_task(application).element_id == "Task_Amend"
    assert grade_of(application) == "B"


def test_a_verification_that_fails_returns_the_application(app: Flask, who: People) -> None:
    application = grade_application(who, city=False, grade="D", target="B")
    lifecycle.tasks.complete_task(open_task(application).id,
                           {"approved": False, "reason": "佐证材料不足"}, who.yuzhong)
    settle(app)
    assert open_task(application).element_id == "Task_Amend"
    assert db.session.get(Application, application.id).status == "returned"  # type: ignore[union-attr]


def test_r_sup_6_a_5_in_process_draw_is_at_least_a_tenth_and_rederivable(
        app: Flask, who: People) -> None:
    """R-SUP-6 / A-5: among 25 items of one district in one month at least 3 are drawn, and
    the recorded seed and population give the same draw again."""
    project = factory.project(who.org, on_platform=True)
    ids = []
    for _ in range(25):
        application = Application(kind="grade_adjust", applicant_id=who.org.id,
                                  project_id=project.id, stages=["contract"], data={},
                                  target_grade="A", created_by=who.unit.id)
        db.session.add(application)
        db.session.flush()
        ids.append(application.id)
    db.session.commit()
    sampled = [in_process({"application_id": i}, {})["sampled"] for i in ids]
    again = [in_process({"application_id": i}, {})["sampled"] for i in ids]
    assert sampled == again  # deciding twice decides the same
    draw = db.session.scalar(sa.select(SamplingDraw))
    assert draw is not None and draw.population == ids
    assert sum(sampled) >= math.ceil(25 * 0.1) == 3
    assert replay(draw.seed, draw.population) == draw.drawn
    assert {i for i, s in zip(ids, sampled, strict=True) if s} == set(draw.drawn)
    assert db.session.get(Project, project.id) is not None


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=8, max_size=32), st.integers(1, 300))
def test_a_5_the_quota_holds_at_every_size(seed: str, size: int) -> None:
    """A-5: at any point of a period at least ceil(10%) of the items so far are drawn."""
    population = list(range(1000, 1000 + size))
    drawn = replay(seed, population)
    assert len(drawn) >= math.ceil(size * 0.1)
    assert set(drawn) <= set(population)


def _not_drawn_next(who: People) -> None:
    """Record this month's draw for 500103 so that the next item is not drawn: one item
    already drawn (the quota of two items is one) and a seed that does not pick the next."""
    from handlers.sampling import _period, lucky

    next_id = (db.session.scalar(sa.select(sa.func.max(Application.id))) or 0) + 1
    seed = next(f"seed-{i}" for i in range(1000) if not lucky(f"seed-{i}", next_id))
    db.session.add(SamplingDraw(kind="in_process", period=_period(), scope="500103",
                                population=[-1], seed=seed, quota=1, drawn=[-1]))
    db.session.commit()


def test_r_sup_5_an_undrawn_b_to_a_is_handled_at_once_on_the_commitment(
        app: Flask, who: People) -> None:
    """R-SUP-5: not drawn, the city handles the item at once on the district's commitment."""
    _not_drawn_next(who)
    application = grade_application(who, city=False, grade="B", target="A")
    lifecycle.tasks.complete_task(open_task(application).id, APPROVE, who.yuzhong)
    settle(app)
    lifecycle.tasks.complete_task(open_task(application).id,
                                  upload(application, who.yuzhong, "formal_document", DOCUMENT),
                                  who.yuzhong)
    settle(app)
    assert instance_of(application).status == "completed"
    assert grade_of(application) == "A"
