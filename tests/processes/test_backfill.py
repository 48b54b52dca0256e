"""backfill.bpmn: the same review, publicity and push, recorded as historical backfill."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

import lifecycle
from engine.db import db
from registry import applications as apps
from registry.models import Application, StageRecord
from tests.conftest import Simulator
from tests.processes.helpers import (
    REVIEW_OK,
    deploy_processes,
    instance_of,
    open_task,
    people,
    settle,
)
from tests.registry.test_applications import PDF, backfill_stages, header


@pytest.fixture
def open_backfill(app: Flask) -> Iterator[None]:
    app.config["CQPI_BACKFILL_DEADLINE"] = "2099-12-31"
    yield
    app.config["CQPI_BACKFILL_DEADLINE"] = "2024-12-31"


def test_r_bf_3_backfilled_hm_data_reaches_the_platform_only_after_confirmation(
        app: Flask, open_backfill: None, national: Simulator) -> None:
    """R-BF-3: nothing is pushed before the district confirms; then publicity, push, grade D,
    source 历史补录."""
    deploy_processes()
    who = people()
    application = apps.open_application(who.unit, "backfill", backfill_stages(),
                                        project=header())
    for kind in ("report", "commitment", "application_form", "evidence"):
        apps.add_attachment(application.id, who.unit, kind, PDF, f"{kind}.pdf")
    application = lifecycle.submission.submit(application.id, who.unit)
    settle(app)
    assert national.state.pushes == {}
    review = open_task(application)
    assert review.element_id == "Task_DistrictReview"
    lifecycle.tasks.complete_task(review.id, REVIEW_OK, who.yuzhong)
    settle(app)
    settle(app, travel=timedelta(days=15))
    assert instance_of(application).status == "completed"
    assert len(national.state.pushes) == 1
    sources = set(db.session.scalars(sa.select(StageRecord.source)))
    assert sources == {"backfill"}
    assert db.session.get(Application, application.id).status == "approved"  # type: ignore[union-attr]


def test_a_4_a_returned_backfill_is_amended_or_withdrawn(app: Flask, open_backfill: None) -> None:
    from tests.processes.helpers import REVIEW_PROBLEM

    deploy_processes()
    who = people()
    application = apps.open_application(who.unit, "backfill", backfill_stages(),
                                        project=header(city_managed=True, managing_code=None))
    for kind in ("report", "commitment", "application_form", "evidence"):
        apps.add_attachment(application.id, who.unit, kind, PDF, f"{kind}.pdf")
    application = lifecycle.submission.submit(application.id, who.unit)
    review = open_task(application)
    assert review.element_id == "Task_CityReview"
    lifecycle.tasks.complete_task(review.id, REVIEW_PROBLEM, who.city)
    settle(app)
    lifecycle.tasks.complete_task(open_task(application).id, {"action": "withdraw"}, who.unit)
    settle(app)
    assert db.session.get(Application, application.id).status == "withdrawn"  # type: ignore[union-attr]
