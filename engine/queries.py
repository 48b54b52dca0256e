"""Read-only queries over the engine's tables: inboxes, an instance's open tasks and history.
Plain indexed queries; no workflow is deserialized."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from .db import db
from .models import Event, UserTask, WaitStatus


def inbox(group: str, scope: str, *, assignee: str | None = None, form_key: str | None = None,
          page: int = 1, per_page: int = 20) -> Sequence[UserTask]:
    """Open tasks of ``group`` in ``scope``, oldest first (optionally only ``assignee``'s)."""
    query = sa.select(UserTask).where(UserTask.status == WaitStatus.OPEN,
                                      UserTask.candidate_group == group,
                                      UserTask.scope == scope)
    if assignee is not None:
        query = query.where(UserTask.assignee == assignee)
    if form_key:
        query = query.where(UserTask.form_key == form_key)
    query = query.order_by(UserTask.created_at, UserTask.id)
    return db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()


def open_tasks(instance_id: int) -> Sequence[UserTask]:
    return db.session.scalars(sa.select(UserTask).filter_by(
        instance_id=instance_id, status=WaitStatus.OPEN).order_by(UserTask.created_at)).all()


def history(instance_id: int) -> Sequence[Event]:
    return db.session.scalars(sa.select(Event).filter_by(instance_id=instance_id)
                              .order_by(Event.id)).all()
