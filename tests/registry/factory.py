"""Small builders of registry rows for tests (each call makes distinct rows)."""

from __future__ import annotations

import itertools
from typing import Any

from engine.db import db
from forms.credit_code import check_char
from registry import users
from registry.applications import record_stage
from registry.models import Organisation, Project, ProjectParty, User

_seq = itertools.count(1)


def credit_code() -> str:
    body = f"915001{next(_seq):011d}"
    return body + check_char(body)


def organisation(name: str = "重庆某建设集团有限公司") -> Organisation:
    org = Organisation(credit_code=credit_code(), name=name)
    db.session.add(org)
    db.session.flush()
    return org


def enterprise_user(org: Organisation | None = None) -> User:
    org = org or organisation()
    user = users.create_user(f"u{next(_seq)}", "password-123", "enterprise", "企业用户",
                             organisation_id=org.id)
    db.session.flush()
    return user


def project(org: Organisation, *, category: str = "HM", sector: str = "01",
            location: str = "500103", city_managed: bool = False, general: Project | None = None,
            on_platform: bool = False, role: str = "施工") -> Project:
    row = Project(name=f"测试项目{next(_seq)}", category=category, sector=sector,
                  location_code=location, city_managed=city_managed,
                  managing_code=None if city_managed else location,
                  general_project_id=general.id if general else None,
                  on_national_platform=on_platform)
    db.session.add(row)
    db.session.flush()
    db.session.add(ProjectParty(project_id=row.id, organisation_id=org.id, role=role))
    db.session.flush()
    return row


def stage(project_row: Project, name: str, payload: dict[str, Any] | None = None, *,
          grade: str | None = None, source: str = "business", **flags: bool) -> Any:
    record = record_stage(project_row.id, name, payload or {}, source=source, changed_by="test")
    record.grade = grade
    for key, value in flags.items():
        setattr(record, key, value)
    db.session.flush()
    return record
