"""The engine's tables: definitions, instances and their wait states, jobs, incidents, history.

Everything a list or an inbox needs is a column, so that no query has to deserialize a
workflow; the serialized SpiffWorkflow state (without the spec) lives in one column of the
instance row.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .clock import now
from .db import Base

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


class InstanceStatus(enum.StrEnum):
    RUNNING = "running"  # the engine has work queued for it (a service job)
    WAITING = "waiting"  # it waits for a person, a timer or a message
    COMPLETED = "completed"
    ERROR = "error"  # a job ran out of retries: see its incidents
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


ACTIVE_KEY = ("business_key IS NOT NULL AND "
              "status IN ('running', 'waiting', 'error', 'suspended')")
"""The instances that hold their business key: those that have not ended."""


STATUS_LABELS = {"running": "运行中", "waiting": "等待中", "suspended": "已挂起", "error": "故障",
                 "completed": "已完成", "terminated": "已终止"}
"""An instance's status as people read it."""


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


class WaitStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Definition(Base):
    """One deployed version of one process (a BPMN process id)."""

    __tablename__ = "engine_definition"
    __table_args__ = (
        sa.UniqueConstraint("key", "version", name="uq_engine_definition_key_version"),
        sa.UniqueConstraint("key", "content_hash", name="uq_engine_definition_key_hash"),
        sa.Index("ix_engine_definition_key_activated", "key", "activated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[int]
    name: Mapped[str | None] = mapped_column(sa.String(400))
    file_name: Mapped[str] = mapped_column(sa.String(400))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    # the two large columns load when read, not with every look-up of a version (each start
    # asks for the latest one; its parsed specs are cached per process)
    bpmn: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType, deferred=True)
    # what the version was deployed with beside its diagram: the forms its user tasks name
    # (by the name they use) and the lanes its deployment declared (deployment.json)
    forms: Mapped[dict[str, Any] | None] = mapped_column(JSONType, deferred=True)
    lanes: Mapped[dict[str, str] | None] = mapped_column(JSONType, deferred=True)
    deployed_at: Mapped[datetime] = mapped_column(default=now)
    deployed_by: Mapped[str | None] = mapped_column(sa.String(200))
    # the version that new instances start is the one activated last: a deploy activates the
    # new version, and an analyst may activate an earlier one again (rollback)
    activated_at: Mapped[datetime] = mapped_column(default=now)


class Instance(Base):
    """A running or finished process instance; ``lock_version`` guards concurrent writers."""

    __tablename__ = "engine_instance"
    __table_args__ = (
        sa.Index("ix_engine_instance_status_started", "status", "started_at"),
        # one active instance per business key (one running procedure per application): of
        # two racing starts the database lets one win
        sa.Index("uq_engine_instance_active_key", "business_key", unique=True,
                 postgresql_where=sa.text(ACTIVE_KEY), sqlite_where=sa.text(ACTIVE_KEY)),
        # a person's own instances, newest first (我发起的)
        sa.Index("ix_engine_instance_started_by", "started_by", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(sa.ForeignKey("engine_definition.id"), index=True)
    business_key: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    scope: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    area: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    """A label the caller files the instance under and filters inboxes by (cqpi: the project's
    jurisdiction); the engine gives it no meaning."""
    started_by: Mapped[str | None] = mapped_column(sa.String(200))
    """The person who started the instance (their username), whose own list shows it; None
    for the instances the system starts (timers, schedules, other procedures)."""
    status: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[bytes] = mapped_column(sa.LargeBinary)
    serializer_version: Mapped[str] = mapped_column(sa.String(16))
    lock_version: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    ended_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": lock_version}


class UserTask(Base):
    """A user task that waits (or waited) for a person: the inbox reads only this table."""

    __tablename__ = "engine_task"
    __table_args__ = (
        sa.Index("ix_engine_task_inbox", "status", "candidate_group", "scope", "created_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)  # SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(sa.ForeignKey("engine_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(sa.String(200))
    name: Mapped[str | None] = mapped_column(sa.String(400))
    candidate_group: Mapped[str | None] = mapped_column(sa.String(200))
    form_key: Mapped[str | None] = mapped_column(sa.String(200))
    scope: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default=WaitStatus.OPEN)
    assignee: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(sa.String(200))


class Job(Base):
    """A deferred service task: the rq job that runs its handler, with retries and back-off."""

    __tablename__ = "engine_job"
    __table_args__ = (sa.Index("ix_engine_job_due", "status", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(sa.ForeignKey("engine_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    element_id: Mapped[str] = mapped_column(sa.String(200))
    operation: Mapped[str] = mapped_column(sa.String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(16), default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int]
    backoff_base: Mapped[int]
    run_after: Mapped[datetime] = mapped_column(default=now)
    enqueued_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    finished_at: Mapped[datetime | None]


class Timer(Base):
    """A timer event that waits for its due time; the scheduler tick fires the due ones."""

    __tablename__ = "engine_timer"
    __table_args__ = (sa.Index("ix_engine_timer_due", "status", "due_at"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)  # SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(sa.ForeignKey("engine_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(sa.String(200))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(16), default=WaitStatus.OPEN)
    enqueued_at: Mapped[datetime | None]


class MessageWait(Base):
    """A message catch that waits for a message of ``name`` with ``correlation_key``."""

    __tablename__ = "engine_message_wait"
    __table_args__ = (
        sa.Index("ix_engine_message_wait_lookup", "status", "name", "correlation_key"),
    )

    id: Mapped[str] = mapped_column(sa.String(240), primary_key=True)  # task id:message name
    task_id: Mapped[str] = mapped_column(sa.String(36))  # SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(sa.ForeignKey("engine_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(sa.String(200))
    name: Mapped[str] = mapped_column(sa.String(200))
    correlation_key: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(16), default=WaitStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Incident(Base):
    """A job that ran out of retries; open until ops retry it or end the instance."""

    __tablename__ = "engine_incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(sa.ForeignKey("engine_instance.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engine_job.id"))
    element_id: Mapped[str] = mapped_column(sa.String(200))
    error: Mapped[str] = mapped_column(sa.Text)
    attempts: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=now)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)


class Event(Base):
    """The append-only history of an instance: who did what, when, with what data."""

    __tablename__ = "engine_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(sa.ForeignKey("engine_instance.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    element_id: Mapped[str | None] = mapped_column(sa.String(200))
    actor: Mapped[str | None] = mapped_column(sa.String(200))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=now)


class ScheduledRun(Base):
    """A periodic run that happened (e.g. the sampling of 2026-10): claimed once, cluster-wide."""

    __tablename__ = "engine_scheduled_run"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
