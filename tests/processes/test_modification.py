"""Ops move an intake back to the district review from its publicity (issue 19)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

import lifecycle
from engine import marks
from engine.db import db
from engine.models import Event
from engine.modification import modify
from registry.models import PublicityNotice
from tests.conftest import Simulator
from tests.processes.helpers import (
    REVIEW_OK,
    deploy_processes,
    instance_of,
    open_task,
    people,
    settle,
    submit_intake,
)


def test_ops_move_an_intake_back_to_review_from_publicity(app: Flask,
                                                           national: Simulator) -> None:
    deploy_processes()
    who = people()
    application = submit_intake(who)
    lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, who.yuzhong)
    settle(app)
    instance = instance_of(application)
    assert marks.marks(instance)["Call_PublicityAndPush"] == "waiting"  # the publicity timer

    modify(instance.id, "Task_DistrictReview", actor="yunwei", reason="核实材料有误，重新审核")
    instance = instance_of(application)
    assert open_task(application).element_id == "Task_DistrictReview"
    top = marks.marks(instance)
    assert top["Task_DistrictReview"] == "active"
    assert top.get("Call_PublicityAndPush") in (None, "completed")
    assert db.session.scalar(sa.select(Event.data).filter_by(kind="instance_modified")) == {
        "reason": "核实材料有误，重新审核", "from": ["Gateway_PublicityWait"],
        "to": "Task_DistrictReview", "skipped": [], "incidents": []}

    lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, who.yuzhong)
    settle(app)
    settle(app, travel=timedelta(days=20))
    assert instance_of(application).status == "completed"
    assert len(national.state.pushes) == 1
    notices = db.session.scalars(sa.select(PublicityNotice)).all()
    assert [n.status for n in notices] == ["closed"]  # one notice, opened again and closed
