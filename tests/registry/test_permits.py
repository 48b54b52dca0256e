"""The permit feed (R-HM-2): pushed HM basic info and permits are locked against units."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from engine.db import db
from registry import applications as apps
from registry.models import Project, StageRecord
from registry.permits import receive
from registry.rules import RuleViolation
from tests.forms.test_stages import VALID
from tests.registry import factory
from tests.registry.test_applications import hm_stages

FEED: dict[str, Any] = {
    "project_number": "5001052024110007", "name": "江北区某商业综合体", "sector": "01",
    "location_code": "500105", "city_managed": False,
    "basic": dict(VALID["basic"], project_number="5001052024110007", location_code="500105"),
    "permit": VALID["permit"],
}


def test_r_hm_2_pushed_stages_are_locked_and_repeats_write_nothing(app: Flask) -> None:
    """R-HM-2: the permit-issuing system's basic info and permit are recorded as exchange
    data, locked; units cannot enter them."""
    project = receive(copy.deepcopy(FEED))
    assert (project.category, project.managing_code) == ("HM", "500105")
    records = {r.stage: r for r in db.session.scalars(sa.select(StageRecord))}
    assert set(records) == {"basic", "permit"}
    assert all(r.from_permit_system and r.source == "exchange" and r.version == 1
               for r in records.values())
    receive(copy.deepcopy(FEED))  # the feed resends: nothing new
    changed = copy.deepcopy(FEED)
    changed["permit"]["issued_on"] = "2024-02-02"
    receive(changed)
    db.session.expire_all()
    assert [r.version for r in db.session.scalars(
        sa.select(StageRecord).order_by(StageRecord.stage))] == [1, 2]
    org = factory.organisation()
    user = factory.enterprise_user(org)
    from registry.models import ProjectParty
    db.session.add(ProjectParty(project_id=project.id, organisation_id=org.id, role="施工"))
    db.session.commit()
    with pytest.raises(RuleViolation) as exc:
        apps.open_application(user, "intake", {"basic": VALID["basic"]}, project_id=project.id)
    assert exc.value.rule == "R-HM-2"
    assert apps.open_application(user, "intake", hm_stages(), project_id=project.id).id


def test_a_bad_push_is_refused_and_writes_nothing(app: Flask) -> None:
    bad = dict(copy.deepcopy(FEED), project_number="123", sector="05")
    with pytest.raises(apps.FormInvalid) as exc:
        receive(bad)
    assert set(exc.value.messages) == {"project_number", "sector"}
    with pytest.raises(RuleViolation):
        receive(dict(copy.deepcopy(FEED), location_code="110101"))
    assert db.session.scalar(sa.select(sa.func.count(Project.id))) == 0
