"""Read-only queries of the registry for pages and the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from engine.db import db
from engine.models import UserTask

from .models import (
    Application,
    Project,
    ProjectParty,
    Role,
    StageRecord,
    StageVersion,
    User,
)


def visible_projects(user: User) -> Any:
    """A select of the projects ``user`` may see (its organisation's, its scope's, or all)."""
    query = sa.select(Project)
    if user.role == Role.ENTERPRISE:
        mine = sa.select(ProjectParty.project_id).where(
            ProjectParty.organisation_id == user.organisation_id)
        return query.where(Project.id.in_(mine))
    if user.role == Role.DISTRICT:
        return query.where(Project.managing_code == user.jurisdiction_code)
    if user.role == Role.CITY:
        return query.where(Project.city_managed.is_(True))
    if user.role in (Role.OPS, Role.ADMIN):
        return query
    return query.where(sa.false())


def visible_applications(user: User) -> Any:
    """A select of the applications ``user`` may see: its organisation's, its scope's, or all."""
    query = sa.select(Application)
    if user.role == Role.ENTERPRISE:
        return query.where(Application.applicant_id == user.organisation_id)
    in_scope = Application.project_id.in_(visible_projects(user).with_only_columns(Project.id))
    if user.role == Role.DISTRICT:
        return query.where(in_scope)
    if user.role == Role.CITY:  # and what reached the city: a district's correction or B→A
        reached = sa.select(UserTask.instance_id).where(UserTask.scope == "city")
        return query.where(sa.or_(in_scope, Application.instance_id.in_(reached)))
    if user.role in (Role.OPS, Role.ADMIN):
        return query
    return query.where(sa.false())


def stage_records(project_id: int) -> Sequence[dict[str, Any]]:
    """The project's stage records with the payload of their current version."""
    rows = db.session.execute(
        sa.select(StageRecord, StageVersion.payload)
        .outerjoin(StageVersion, sa.and_(StageVersion.record_id == StageRecord.id,
                                         StageVersion.version == StageRecord.version))
        .where(StageRecord.project_id == project_id).order_by(StageRecord.stage)).all()
    return [{**{c: getattr(r, c) for c in ("stage", "contract_key", "grade", "source",
                                             "version", "from_permit_system",
                                             "used_for_qualification", "marked_false")},
             "payload": payload or {}} for r, payload in rows]
