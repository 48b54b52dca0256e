"""Applications: open one (forms and rules checked before anything is written), check an
amendment, attach files, record stage versions. Each writing function is one transaction; a
refusal leaves nothing behind. Status moves (submit, withdraw, ...) are ``lifecycle``'s."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from marshmallow import ValidationError

from engine.clock import now
from engine.db import db
from forms import STAGES, load_stages
from forms.project import ProjectHeader

from . import attachments, audit, jurisdictions, rules
from .models import (
    EDITABLE,
    Application,
    Attachment,
    Category,
    Kind,
    Project,
    ProjectParty,
    Role,
    Source,
    StageRecord,
    StageVersion,
    User,
)


class FormInvalid(ValueError):
    """Input that fails its form; ``messages`` maps field paths to Chinese messages."""

    def __init__(self, messages: dict[str, Any]) -> None:
        self.messages = messages
        super().__init__(str(messages))


class NotAllowed(PermissionError):
    """The user may not do this (role or scope)."""


class NotFound(LookupError):
    """No such application or project (or none the user may see)."""


@dataclass(frozen=True)
class Settings:
    backfill_deadline: date
    data_dir: Path
    max_upload: int


def settings() -> Settings:
    cfg = current_app.config
    deadline = cfg.get("CQPI_BACKFILL_DEADLINE", "2024-12-31")
    return Settings(date.fromisoformat(str(deadline)), Path(cfg["CQPI_DATA_DIR"]),
                    int(cfg.get("CQPI_MAX_UPLOAD_BYTES", attachments.MAX_BYTES)))


def _atomic(fn: Any) -> Any:
    """Run ``fn`` as one transaction: commit on success, roll everything back on failure."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
            db.session.commit()
            return result
        except BaseException:
            db.session.rollback()
            raise
    return wrapper


def _enterprise(user: User) -> int:
    if user.role != Role.ENTERPRISE or user.organisation_id is None:
        raise NotAllowed("只有企业用户可以提出申请")
    return user.organisation_id


def _parties(project_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(ProjectParty.organisation_id).filter_by(
        project_id=project_id)))


def _records(project_id: int, stages: list[str], contract_key: str = "") -> list[StageRecord]:
    return list(db.session.scalars(sa.select(StageRecord).where(
        StageRecord.project_id == project_id, StageRecord.stage.in_(stages),
        StageRecord.contract_key == contract_key)))


def _load(stages: dict[str, Any]) -> dict[str, dict[str, Any]]:
    try:
        return load_stages(stages)
    except ValidationError as exc:
        raise FormInvalid({"stages": exc.messages}) from None


def _project(org: int, project_id: int | None, header: dict[str, Any] | None,
             kind: str) -> tuple[Project | None, dict[str, Any] | None]:
    if project_id is not None:
        project = db.session.get(Project, project_id)
        if project is None:
            raise NotFound(f"项目 {project_id} 不存在")
        rules.check_party(org, _parties(project.id))
        return project, None
    if header is None or kind not in (Kind.INTAKE, Kind.BACKFILL):
        raise FormInvalid({"project_id": ["「项目」必填: 请选择已有项目"]})
    try:
        return None, ProjectHeader().load(header)
    except ValidationError as exc:
        raise FormInvalid({"project": exc.messages}) from None


@_atomic
def open_application(user: User, kind: str, stages: dict[str, Any], *,
                     project_id: int | None = None, project: dict[str, Any] | None = None,
                     target_grade: str | None = None) -> Application:
    """Open a draft application after every form and rule check.

    Raises NotAllowed, NotFound, FormInvalid or rules.RuleViolation (nothing written).
    """
    org = _enterprise(user)
    if kind not in {k.value for k in Kind}:
        raise FormInvalid({"kind": [f"「申请类型」不在代码表中: {kind}"]})
    errors: dict[str, Any] = _foreign_fields(kind, project_id, project, target_grade)
    existing, header, loaded = None, None, {}
    try:
        existing, header = _project(org, project_id, project, kind)
    except FormInvalid as exc:
        errors.update(exc.messages)
    if kind != Kind.GRADE_ADJUST:
        try:
            loaded = _load(stages)
        except FormInvalid as exc:
            errors.update(exc.messages)
    if errors:  # every form problem at once, so that the user fixes them in one go
        raise FormInvalid(errors)
    if kind == Kind.GRADE_ADJUST:
        assert existing is not None
        payload = _check_grade(existing, stages, target_grade)
    else:
        _check_entry(kind, existing, header, loaded)
        payload = {name: STAGES[name]().dump(data) for name, data in loaded.items()}
    target = existing or _create_project(org, header or {})
    application = Application(kind=kind, applicant_id=org, project_id=target.id,
                              stages=sorted(payload), data=payload, target_grade=target_grade,
                              created_by=user.id)
    db.session.add(application)
    db.session.flush()
    audit.record(user.username, "application_opened", f"application:{application.id}",
                 {"kind": kind, "project_id": target.id, "stages": sorted(payload)})
    return application


def _foreign_fields(kind: str, project_id: int | None, project: dict[str, Any] | None,
                    target_grade: str | None) -> dict[str, Any]:
    """Fields given that do not belong to this kind of application: refused, never ignored."""
    errors: dict[str, Any] = {}
    if target_grade is not None and kind != Kind.GRADE_ADJUST:
        errors["target_grade"] = ["「目标等级」只用于等级调整申请"]
    if project is not None and project_id is not None:
        errors["project"] = ["「新项目」与「已有项目」只能填写一个"]
    elif project is not None and kind not in (Kind.INTAKE, Kind.BACKFILL):
        errors["project"] = ["「新项目」只用于入库、补录申请；勘误和等级调整请选择已有项目"]
    return errors


def _check_entry(kind: str, project: Project | None, header: dict[str, Any] | None,
                 stages: dict[str, dict[str, Any]]) -> None:
    if kind == Kind.CORRECTION:
        assert project is not None
        records = _records(project.id, list(stages))
        found = {r.stage for r in records}
        for stage in stages:
            if stage not in found:
                raise rules.RuleViolation("R-COR-1", f"项目没有“{stage}”环节信息，无从勘误")
        rules.check_not_locked(records)
        rules.check_correctable(records)
        return
    category = project.category if project else (header or {})["category"]
    location = project.location_code if project else (header or {})["location_code"]
    rules.check_scope(location, jurisdictions.table(), kind, stages)
    rules.check_unit_stages(category, kind, stages)
    if project is not None:
        rules.check_not_locked(_records(project.id, list(stages)))
    general_id = project.general_project_id if project else (header or {}).get(
        "general_project_id")
    if category == Category.SUB and general_id:
        _check_general(int(general_id))
    if kind == Kind.BACKFILL:
        s = settings()
        rules.check_backfill(project, stages, date.today(), s.backfill_deadline)


def _check_general(general_id: int) -> None:
    general = db.session.get(Project, general_id)
    if general is None:
        raise FormInvalid({"project": {"general_project_id": ["「总承包项目」不存在"]}})
    present = {r.stage for r in _records(general.id, list(rules.GENERAL_STAGES))}
    rules.check_general_contract(general, present)


def _check_grade(project: Project, stages: dict[str, Any], target: str | None) -> dict[str, Any]:
    if len(stages) != 1:
        raise FormInvalid({"stages": ["「环节」等级调整每次只针对一个环节（R-GA-1）"]})
    if target not in ("B", "A"):
        raise FormInvalid({"target_grade": ["「目标等级」应为 B 或 A"]})
    [stage] = list(stages)
    if stages[stage]:
        raise FormInvalid({"stages": {stage: ["等级调整只需指明环节，不填写环节数据"]}})
    records = _records(project.id, [stage])
    if not records:
        raise rules.RuleViolation("R-GA-1", f"项目没有“{stage}”环节信息")
    rules.check_grade_step(project, records[0], target)
    return {stage: {}}


def _create_project(org: int, header: dict[str, Any]) -> Project:
    if header.get("location_code") not in jurisdictions.table():
        raise rules.RuleViolation("R-SCOPE-1", "项目所在地不是重庆市的区县或功能区")
    managing = header.get("managing_code")
    if managing and managing not in jurisdictions.table():
        raise FormInvalid({"project": {"managing_code": ["「管理区县」不在区划代码表中"]}})
    project = Project(project_number=header.get("project_number"), name=header["name"],
                      category=header["category"], sector=header["sector"],
                      general_project_id=header.get("general_project_id"),
                      location_code=header["location_code"],
                      city_managed=header["city_managed"], managing_code=managing)
    db.session.add(project)
    db.session.flush()
    db.session.add(ProjectParty(project_id=project.id, organisation_id=org, role=header["role"]))
    return project


def amended_data(application: Application, stages: dict[str, Any]) -> dict[str, Any]:
    """The stage data that would replace ``application``'s, after every form and rule check
    of opening it (A-4: amend after a return); nothing is written. The lifecycle decides
    whether the application may still change and writes it."""
    if application.kind == Kind.GRADE_ADJUST:
        raise NotAllowed("等级调整申请没有可修改的环节信息，请撤回后重新申请")
    loaded = _load(stages)
    _check_entry(application.kind, application.project, None, loaded)
    return {name: STAGES[name]().dump(data) for name, data in loaded.items()}


def get_own(application_id: int, user: User) -> Application:
    """The application if the user's organisation made it; NotFound otherwise."""
    application = db.session.get(Application, application_id)
    if application is None or application.applicant_id != user.organisation_id:
        raise NotFound(f"申请 {application_id} 不存在")
    return application


@_atomic
def add_attachment(application_id: int, user: User, kind: str, content: bytes,
                   filename: str | None) -> Attachment:
    """Check and store an upload for a draft or returned application."""
    application = get_own(application_id, user)
    if application.status not in EDITABLE:
        raise NotAllowed("申请已提交，不能再上传材料")
    return _attach(application, user, kind, content, filename)


def _attach(application: Application, user: User, kind: str, content: bytes,
            filename: str | None) -> Attachment:
    """Check the file by content, store it by hash, record it (in the caller's transaction)."""
    s = settings()
    try:
        media = attachments.check(kind, content, s.max_upload)
    except attachments.FileRefused as exc:
        raise FormInvalid({"file": [f"「文件」{exc}"]}) from None
    row = Attachment(application_id=application.id, kind=kind,
                     sha256=attachments.store(s.data_dir, content), size=len(content),
                     media_type=media, display_name=attachments.display_name(filename),
                     uploaded_by=user.id)
    db.session.add(row)
    db.session.flush()
    audit.record(user.username, "attachment_added", f"application:{application.id}",
                 {"kind": kind, "sha256": row.sha256, "name": row.display_name})
    return row


AUTHORITY_KINDS = ("formal_document", "ministry_request", "ministry_reply")
"""What reviewers upload to an application: formal documents, letters to and from the
Ministry (R-SUP-5, R-COR-5)."""


@_atomic
def add_authority_document(application: Application, user: User, kind: str, content: bytes,
                           filename: str | None) -> Attachment:
    """Store a reviewer's document for an application the caller has checked they may see."""
    if user.role not in (Role.DISTRICT, Role.CITY):
        raise NotAllowed("只有审核人员可以上传公文")
    if kind not in AUTHORITY_KINDS:
        raise FormInvalid({"kind": [f"「材料类型」不能为 {kind}"]})
    return _attach(application, user, kind, content, filename)


def record_stage(project_id: int, stage: str, payload: dict[str, Any], *, source: str,
                 changed_by: str, reason: str | None = None, application_id: int | None = None,
                 contract_key: str = "", grade: str | None = None) -> StageRecord:
    """Write a new version of a stage record (in the caller's transaction); ``grade``, when
    given, is the record's grade from this version on."""
    record = db.session.scalar(sa.select(StageRecord).filter_by(
        project_id=project_id, stage=stage, contract_key=contract_key))
    if record is None:  # inserted with its first version's number and grade: one write
        record = StageRecord(project_id=project_id, stage=stage, contract_key=contract_key,
                             source=source, from_permit_system=source == Source.EXCHANGE,
                             version=1, grade=grade, updated_at=now())
        db.session.add(record)
        db.session.flush()
    else:
        record.version += 1
        record.updated_at = now()
        if grade is not None:
            record.grade = grade
    db.session.add(StageVersion(record_id=record.id, version=record.version, payload=payload,
                                changed_by=changed_by, reason=reason,
                                application_id=application_id))
    return record
