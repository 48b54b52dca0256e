"""Supervision: monthly sampling (R-SUP-2, A-5) and key inspections (R-SUP-7, A-6)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

import lifecycle
from engine.db import db
from engine.models import Instance, UserTask
from handlers.sampling import monthly_draw
from handlers.schedule import start_monthly_sampling
from registry.models import Application, Complaint, Inspection, SamplingDraw, StageRecord
from tests.conftest import Simulator
from tests.forms.test_stages import VALID
from tests.processes.helpers import People, deploy_processes, people, settle
from tests.registry import factory
from web import workflow

INSPECTORS = [{"name": "张三", "staff_number": "CQ001"}, {"name": "李四", "staff_number": "CQ002"}]


@pytest.fixture
def who(app: Flask) -> People:
    deploy_processes()
    return people()


def open_tasks(process_key_prefix: str) -> list[UserTask]:
    db.session.expire_all()
    return list(db.session.scalars(
        sa.select(UserTask).join(Instance, Instance.id == UserTask.instance_id)
        .where(UserTask.status == "open", Instance.business_key.like(f"{process_key_prefix}%"))
        .order_by(UserTask.created_at)))


def complain(who: People) -> tuple[Complaint, int]:
    project = factory.project(who.org, on_platform=True)
    project.project_number = "5001032024090009"
    factory.stage(project, "contract", VALID["contract"], grade="D")
    db.session.commit()
    complaint = workflow.file_complaint({"project_number": "5001032024090009",
                                         "project_name": project.name,
                                         "content": "该项目合同系伪造", "contact": "13800000000"})
    return complaint, project.id


def test_r_sup_7_a_6_a_complaint_confirmed_false_is_marked_and_pushed(
        app: Flask, who: People, national: Simulator) -> None:
    """R-SUP-7: a complained-about project is inspected item by item (on site, at least two
    inspectors); A-6: confirmed false, its records are marked 虚假项目 and the mark pushed."""
    complaint, project_id = complain(who)
    [task] = open_tasks("inspection-")
    assert (task.element_id, task.scope, task.form_key) == ("Task_Inspect", "city", "inspection")
    with pytest.raises(Exception, match="至少需要 2 项"):
        lifecycle.tasks.complete_task(task.id, {"inspectors": INSPECTORS[:1],
                                                "inspected_on": "2026-11-26",
                                         "on_site": True, "result": "false", "findings": "x"},
                               who.city)
    lifecycle.tasks.complete_task(task.id, {"inspectors": INSPECTORS, "inspected_on": "2026-11-26",
                                     "on_site": True, "result": "false",
                                     "findings": "现场无此工程"}, who.city)
    settle(app)
    assert set(db.session.scalars(sa.select(StageRecord.marked_false).filter_by(
        project_id=project_id))) == {True}
    [push] = national.state.pushes.values()
    assert push["body"]["kind"] == "fraud_mark"
    inspection = db.session.scalar(sa.select(Inspection))
    assert inspection is not None and (inspection.status, inspection.result) == ("closed", "false")
    assert db.session.get(Complaint, complaint.id).status == "inspecting"  # type: ignore[union-attr]


def test_r_sup_7_a_genuine_project_closes_the_complaint(app: Flask, who: People) -> None:
    complaint, project_id = complain(who)
    [task] = open_tasks("inspection-")
    lifecycle.tasks.complete_task(task.id, {"inspectors": INSPECTORS, "inspected_on": "2026-11-26",
                                     "on_site": False, "result": "genuine",
                                     "findings": "各环节信息与备案一致"}, who.city)
    settle(app)
    assert db.session.get(Complaint, complaint.id).status == "closed"  # type: ignore[union-attr]
    assert set(db.session.scalars(sa.select(StageRecord.marked_false).filter_by(
        project_id=project_id))) == {False}


def _entries(who: People, location: str, count: int, decided: datetime, *,
             city: bool = False) -> list[int]:
    ids = []
    for _ in range(count):
        project = factory.project(who.org, location=location, city_managed=city)
        application = Application(kind="intake", applicant_id=who.org.id, project_id=project.id,
                                  stages=["contract"], data={}, status="approved",
                                  decided_at=decided, created_by=who.unit.id)
        db.session.add(application)
        db.session.flush()
        ids.append(application.id)
    db.session.commit()
    return ids


def test_r_sup_2_a_5_a_6_monthly_sampling_per_district_and_failed_items_inspected(
        app: Flask, who: People) -> None:
    """R-SUP-2 / A-5: each district's entries of the month are sampled at ceil(10%) or more,
    city-managed ones are not; the draw is recorded and re-derivable; A-6: a failed check
    opens a key inspection."""
    october = datetime(2026, 10, 15, 4, 0)
    yuzhong = _entries(who, "500103", 25, october)
    jiangbei = _entries(who, "500105", 5, october)
    _entries(who, "500101", 3, october, city=True)
    _entries(who, "500103", 4, october + timedelta(days=40))  # November: not this period
    instance, started = start_monthly_sampling("2026-10", "city-reviewer")
    assert started
    settle(app)
    draws = {d.scope: d for d in db.session.scalars(sa.select(SamplingDraw))}
    assert set(draws) == {"500103", "500105"}
    assert draws["500103"].population == yuzhong and draws["500105"].population == jiangbei
    assert len(draws["500103"].drawn) == math.ceil(25 * 0.1) == 3
    assert len(draws["500105"].drawn) == 1
    for draw in draws.values():
        assert monthly_draw("2026-10", draw.seed, draw.population) == draw.drawn
    checks = open_tasks("monthly-sampling-")
    assert len(checks) == 4 and {t.element_id for t in checks} == {"Task_CheckSample"}
    for i, task in enumerate(checks):
        result = {"passed": False, "findings": "竣工日期不符"} if i == 0 else {"passed": True}
        lifecycle.tasks.complete_task(task.id, result, who.city)
    settle(app)
    [inspection] = db.session.scalars(sa.select(Inspection)).all()
    assert inspection.trigger == "sample" and inspection.draw_id is not None
    assert len(open_tasks("inspection-")) == 1
    again, started = start_monthly_sampling("2026-10", "city-reviewer")
    assert (again.id, again.status, started) == (instance.id, "completed", False)  # only once


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 400), st.text(min_size=4, max_size=16))
def test_a_5_the_monthly_quota_is_always_met(size: int, seed: str) -> None:
    population = list(range(size))
    drawn = monthly_draw("2026-10", seed, population)
    assert len(drawn) == math.ceil(size * 0.1) and set(drawn) <= set(population)


def test_r_sup_2_a_month_without_entries_draws_nothing(app: Flask, who: People) -> None:
    instance, _started = start_monthly_sampling("2026-08", "scheduler")
    settle(app)
    db.session.expire_all()
    assert db.session.get(Instance, instance.id).status == "completed"  # type: ignore[union-attr]
    assert db.session.scalar(sa.select(sa.func.count(SamplingDraw.id))) == 0


def test_r_sup_2_the_scheduler_starts_last_months_sampling_once(app: Flask, who: People) -> None:
    """R-SUP-2: on the configured day the tick starts last month's sampling, once, however
    many workers tick; a failed start is tried again at the next tick."""
    from engine.jobs import tick
    from handlers.sampling import previous_month

    app.config["CQPI_SAMPLING_DAY"] = 1
    try:
        tick()
        tick()
    finally:
        app.config["CQPI_SAMPLING_DAY"] = 0
    key = f"monthly-sampling-{previous_month()}"
    assert db.session.scalar(sa.select(sa.func.count(Instance.id)).filter_by(
        business_key=key)) == 1


def test_a_failed_scheduled_start_is_retried(app: Flask) -> None:
    from engine.jobs import tick
    from engine.models import ScheduledRun

    app.config["CQPI_SAMPLING_DAY"] = 1
    try:
        tick()  # nothing deployed: the start fails and the claim is given back
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScheduledRun)) == 0
        deploy_processes()
        tick()
    finally:
        app.config["CQPI_SAMPLING_DAY"] = 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScheduledRun)) == 1
