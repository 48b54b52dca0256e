"""The domain's tables: jurisdictions, organisations, users, projects and their stage records,
applications and attachments. Queries that pages and the API need live beside them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.clock import now
from engine.db import Base
from engine.models import JSONType


class Role(enum.StrEnum):
    ENTERPRISE = "enterprise"  # a user of one organisation
    DISTRICT = "district_reviewer"  # a reviewer of one jurisdiction
    CITY = "city_reviewer"
    OPS = "ops"
    ANALYST = "analyst"
    ADMIN = "admin"


class Category(enum.StrEnum):
    HM = "HM"  # 房屋建筑和市政工程总承包
    OI = "OI"  # 其他行业工程总承包
    SUB = "SUB"  # 专业承包（分包）


class PartyRole(enum.StrEnum):
    OWNER = "建设单位"
    SURVEY = "勘察"
    DESIGN = "设计"
    CONSTRUCTION = "施工"
    SUPERVISION = "监理"
    SPECIALIST = "专业承包/分包"


class Source(enum.StrEnum):
    BUSINESS = "business"  # 业务办理
    REGISTRATION = "registration"  # 登记
    BACKFILL = "backfill"  # 历史补录
    EXCHANGE = "exchange"  # 共享交换 (e.g. the permit-issuing system)


class Kind(enum.StrEnum):
    INTAKE = "intake"
    BACKFILL = "backfill"
    CORRECTION = "correction"
    GRADE_ADJUST = "grade_adjust"


class AppStatus(enum.StrEnum):
    """Where an application stands; the moves between them are ``lifecycle.states.MOVES``."""

    DRAFT = "draft"
    SUBMITTED = "submitted"  # under review
    RETURNED = "returned"  # for amendment
    IN_PUBLICITY = "in_publicity"
    OBJECTION = "objection"  # an objection to its publicity is being handled
    PUSHING = "pushing"  # to the national platform
    PUSH_FAILED = "push_failed"  # the push ran out of retries: an incident for ops
    APPROVED = "approved"  # pushed and entered: done
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


LABELS: dict[str, str] = {
    AppStatus.DRAFT: "草稿",
    AppStatus.SUBMITTED: "审核中",
    AppStatus.RETURNED: "已退回，待修改",
    AppStatus.IN_PUBLICITY: "公示中",
    AppStatus.OBJECTION: "公示异议处理中",
    AppStatus.PUSHING: "正在推送全国平台",
    AppStatus.PUSH_FAILED: "推送全国平台失败，运维处理中",
    AppStatus.APPROVED: "已办结（已推送全国平台）",
    AppStatus.REJECTED: "未获同意",
    AppStatus.WITHDRAWN: "已撤回",
}
"""One Chinese label per status: the API's ``status_label``, the pages, the notices."""

EDITABLE = frozenset({AppStatus.DRAFT, AppStatus.RETURNED})
"""Statuses in which the applicant may change an application's stage data and materials."""


class Jurisdiction(Base):
    __tablename__ = "jurisdiction"

    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(16))  # district, county, zone


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (
        sa.CheckConstraint("role <> 'enterprise' OR organisation_id IS NOT NULL",
                           name="enterprise_has_org"),
        sa.CheckConstraint("role <> 'district_reviewer' OR jurisdiction_code IS NOT NULL",
                           name="district_has_jurisdiction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(32))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"))
    jurisdiction_code: Mapped[str | None] = mapped_column(sa.ForeignKey("jurisdiction.code"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)

    organisation: Mapped[Organisation | None] = relationship()


class Project(Base):
    __tablename__ = "project"
    __table_args__ = (
        sa.CheckConstraint("city_managed OR managing_code IS NOT NULL", name="has_manager"),
        sa.CheckConstraint("NOT city_managed OR managing_code IS NULL", name="one_manager"),
        sa.CheckConstraint("category <> 'SUB' OR general_project_id IS NOT NULL",
                           name="sub_has_general"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_number: Mapped[str | None] = mapped_column(sa.String(16), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(8))
    sector: Mapped[str | None] = mapped_column(sa.String(4))  # 项目分类 code, OI sector
    general_project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("project.id"))
    location_code: Mapped[str] = mapped_column(sa.ForeignKey("jurisdiction.code"), index=True)
    city_managed: Mapped[bool] = mapped_column(default=False)
    managing_code: Mapped[str | None] = mapped_column(sa.ForeignKey("jurisdiction.code"),
                                                      index=True)
    on_national_platform: Mapped[bool] = mapped_column(default=False)
    national_id: Mapped[str | None] = mapped_column(sa.String(64))
    completed_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def scope(self) -> str:
        """Who reviews it: ``city`` or the managing jurisdiction's code."""
        return "city" if self.city_managed else str(self.managing_code)


class ProjectParty(Base):
    """An organisation's role on a project (R-ROLE-1)."""

    __tablename__ = "project_party"
    __table_args__ = (sa.UniqueConstraint("project_id", "organisation_id", "role",
                                          name="uq_project_party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))


class StageRecord(Base):
    """One stage of one project (per contract for SUB); its payload is versioned."""

    __tablename__ = "stage_record"
    __table_args__ = (sa.UniqueConstraint("project_id", "stage", "contract_key",
                                          name="uq_stage_record"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id"), index=True)
    stage: Mapped[str] = mapped_column(sa.String(32))
    contract_key: Mapped[str] = mapped_column(sa.String(100), default="")
    grade: Mapped[str | None] = mapped_column(sa.String(1))  # D, B, A; None before the push
    source: Mapped[str] = mapped_column(sa.String(16))
    from_permit_system: Mapped[bool] = mapped_column(default=False)
    used_for_qualification: Mapped[bool] = mapped_column(default=False)
    marked_false: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=now)


class StageVersion(Base):
    """Every payload a stage record has had: corrections keep the earlier ones."""

    __tablename__ = "stage_version"
    __table_args__ = (sa.UniqueConstraint("record_id", "version", name="uq_stage_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("stage_record.id"), index=True)
    version: Mapped[int]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    changed_by: Mapped[str | None] = mapped_column(sa.String(100))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    application_id: Mapped[int | None] = mapped_column(sa.ForeignKey("application.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Application(Base):
    __tablename__ = "application"
    __table_args__ = (sa.Index("ix_application_org_status", "applicant_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    applicant_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"))
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id"), index=True)
    stages: Mapped[list[str]] = mapped_column(JSONType)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the stage payloads entered
    target_grade: Mapped[str | None] = mapped_column(sa.String(1))
    status: Mapped[str] = mapped_column(sa.String(16), default=AppStatus.DRAFT)
    instance_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engine_instance.id"))
    rounds: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None] = mapped_column(index=True)  # approved or rejected

    project: Mapped[Project] = relationship()

    @property
    def status_label(self) -> str:
        return LABELS.get(self.status, self.status)


class Attachment(Base):
    """An uploaded file, stored by content hash outside the database."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("application.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    media_type: Mapped[str] = mapped_column(sa.String(64))
    display_name: Mapped[str] = mapped_column(sa.String(200))
    uploaded_by: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)


class PublicityNotice(Base):
    """A project on the public board for its publicity period (R-IB-3, A-1)."""

    __tablename__ = "publicity_notice"
    __table_args__ = (sa.Index("ix_publicity_open", "status", "closes_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("application.id"), index=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    published: Mapped[dict[str, Any]] = mapped_column(JSONType)  # what the public sees
    status: Mapped[str] = mapped_column(sa.String(16), default="open")  # open, closed, stopped
    opened_at: Mapped[datetime] = mapped_column(default=now)
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class Objection(Base):
    """An objection raised against a notice while it is open (A-3)."""

    __tablename__ = "objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("publicity_notice.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    contact: Mapped[str] = mapped_column(sa.String(30))
    content: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="open")  # open, upheld, dismissed
    ruling: Mapped[str | None] = mapped_column(sa.Text)
    ruled_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    ruled_at: Mapped[datetime | None]


class Complaint(Base):
    """A complaint or report of fraud about a project (R-SUP-7)."""

    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("project.id"), index=True)
    project_number: Mapped[str | None] = mapped_column(sa.String(16))
    project_name: Mapped[str] = mapped_column(sa.String(200))
    # the jurisdiction the complainant says the project is in: tells same-named projects apart
    location_code: Mapped[str | None] = mapped_column(sa.String(12),
                                                      sa.ForeignKey("jurisdiction.code"))
    content: Mapped[str] = mapped_column(sa.Text)
    name: Mapped[str | None] = mapped_column(sa.String(50))
    contact: Mapped[str | None] = mapped_column(sa.String(30))
    status: Mapped[str] = mapped_column(sa.String(16), default="open")  # open, inspecting, closed
    created_at: Mapped[datetime] = mapped_column(default=now)


class CheckCode(Base):
    """The check code (查询码) given to the filer of one complaint or one objection, kept only
    as a salted scrypt hash (issue 18): at most one per filing, and of exactly one filing."""

    __tablename__ = "check_code"
    __table_args__ = (sa.CheckConstraint(
        "(complaint_id IS NULL AND objection_id IS NOT NULL) OR "
        "(complaint_id IS NOT NULL AND objection_id IS NULL)", name="one_filing"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complaint.id"), unique=True)
    objection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("objection.id"), unique=True)
    digest: Mapped[str] = mapped_column(sa.String(200))  # werkzeug's scrypt:…$salt$hash
    created_at: Mapped[datetime] = mapped_column(default=now)


class SamplingDraw(Base):
    """One recorded draw: its population and seed, so that it can be derived again (A-5)."""

    __tablename__ = "sampling_draw"
    __table_args__ = (sa.UniqueConstraint("kind", "period", "scope", name="uq_sampling_draw"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # monthly (R-SUP-2), in_process (R-SUP-6)
    period: Mapped[str] = mapped_column(sa.String(32))  # e.g. 2026-10, or a batch reference
    scope: Mapped[str] = mapped_column(sa.String(12))  # the district's jurisdiction code
    population: Mapped[list[int]] = mapped_column(JSONType)
    seed: Mapped[str] = mapped_column(sa.String(64))
    quota: Mapped[int]
    drawn: Mapped[list[int]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Inspection(Base):
    """A key inspection of a project, opened by a complaint or a failed sample (R-SUP-7, A-6)."""

    __tablename__ = "inspection"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id"), index=True)
    trigger: Mapped[str] = mapped_column(sa.String(16))  # complaint, sample
    complaint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complaint.id"))
    draw_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sampling_draw.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="open")  # open, closed
    result: Mapped[str | None] = mapped_column(sa.String(16))  # genuine, false
    application_id: Mapped[int | None] = mapped_column(sa.ForeignKey("application.id"))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=now)
    closed_at: Mapped[datetime | None]


class Push(Base):
    """The outbox of pushes to the national platform, written with the step that asks for
    them; ``idempotency_key`` makes a repeated send harmless."""

    __tablename__ = "push_outbox"
    __table_args__ = (sa.Index("ix_push_outbox_pending", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # stage, grade, correction, fraud_mark
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    national_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None]


class Holiday(Base):
    """An admin's correction of the statutory calendar: a day off or a make-up working day
    (调休) that the calendar package does not know yet, e.g. of a year not announced then."""

    __tablename__ = "holiday"

    day: Mapped[date] = mapped_column(primary_key=True)
    workday: Mapped[bool]
    name: Mapped[str] = mapped_column(sa.String(100))


class Notification(Base):
    """An in-app notice: to everyone of a group in a scope (``audience`` ``scope|group``) when
    a task arrives, or to an organisation (``org:ID``) when its application moves."""

    __tablename__ = "notification"
    __table_args__ = (sa.Index("ix_notification_audience", "audience", "created_at"),
                      sa.Index("ix_notification_audience_id", "audience", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(sa.String(250))
    title: Mapped[str] = mapped_column(sa.String(300))
    link: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)


class NotificationRead(Base):
    """That one person read one notice (a notice goes to a group or an organisation; reading
    it is each person's own). Notices up to the person's NotificationCursor need no row."""

    __tablename__ = "notification_read"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    notification_id: Mapped[int] = mapped_column(sa.ForeignKey("notification.id"),
                                                 primary_key=True)
    read_at: Mapped[datetime] = mapped_column(default=now)


class NotificationCursor(Base):
    """全部标为已读: every notice of the person's up to ``read_through`` (a notice id) is read."""

    __tablename__ = "notification_cursor"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    read_through: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=now)


class AuditEvent(Base):
    """Who changed what in the registry, when (the engine's history covers the procedures)."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_object", "object", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(sa.String(50))
    object: Mapped[str] = mapped_column(sa.String(100))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=now)


class WizardDraft(Base):
    """What a user has typed into the new-application wizard so far (one per user), so that
    closing the browser loses nothing; it goes once the application is opened."""

    __tablename__ = "wizard_draft"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(default=now)
