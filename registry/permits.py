"""The permit feed: HM basic info and permits pushed by the permit-issuing system (R-HM-2).

Stage records written here come from the shared exchange and are locked against entry by
units. A push that repeats the current data writes nothing (the feed may resend).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError

from engine.db import db
from forms.project import PermitFeed
from forms.stages import STAGES

from . import audit, jurisdictions, rules
from .applications import FormInvalid, record_stage
from .models import Category, Project, Source, StageRecord, StageVersion

SOURCE_NAME = "施工许可核发系统"


def _current(project_id: int, stage: str) -> dict[str, Any] | None:
    record = db.session.scalar(sa.select(StageRecord).filter_by(project_id=project_id,
                                                                 stage=stage))
    if record is None:
        return None
    return db.session.scalar(sa.select(StageVersion.payload).filter_by(
        record_id=record.id, version=record.version))


def receive(data: dict[str, Any]) -> Project:
    """Take one push; returns the project. Raises FormInvalid or RuleViolation (nothing
    written)."""
    try:
        feed = PermitFeed().load(data)
    except ValidationError as exc:
        raise FormInvalid(exc.messages) from None  # type: ignore[arg-type]
    table = jurisdictions.table()
    if feed["location_code"] not in table:
        raise rules.RuleViolation("R-SCOPE-1", "项目所在地不是重庆市的区县或功能区")
    managing = None if feed["city_managed"] else feed.get("managing_code") or feed["location_code"]
    if managing is not None and managing not in table:
        raise FormInvalid({"managing_code": ["「管理区县」不在区划代码表中"]})
    try:
        project = _upsert(feed, managing)
        for stage in ("basic", "permit"):
            payload = STAGES[stage]().dump(feed[stage])
            if _current(project.id, stage) != payload:
                record_stage(project.id, stage, payload, source=Source.EXCHANGE,
                             changed_by=SOURCE_NAME, reason="施工许可核发系统推送")
                audit.record(SOURCE_NAME, "permit_stage_received", f"project:{project.id}",
                             {"stage": stage})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return project


def _upsert(feed: dict[str, Any], managing: str | None) -> Project:
    project = db.session.scalar(sa.select(Project).filter_by(
        project_number=feed["project_number"]))
    if project is None:
        project = Project(project_number=feed["project_number"], category=Category.HM,
                          name=feed["name"], sector=feed["sector"],
                          location_code=feed["location_code"],
                          city_managed=feed["city_managed"], managing_code=managing)
        db.session.add(project)
        db.session.flush()
    elif project.category != Category.HM:
        raise rules.RuleViolation("R-HM-2", "施工许可核发系统只推送房屋建筑和市政工程项目")
    return project
