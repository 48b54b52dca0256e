"""The in-app notices a person reads (消息中心, ``/notifications`` and ``GET
/api/v1/notifications``): whose they are, which of them the person has read, marking them
read. handlers.notify writes them.

A notice goes to an audience, not a person: a group in a scope (a task arrived) or an
organisation (its application moved). Reading is each person's: a NotificationRead row per
notice opened, and a NotificationCursor for 全部标为已读 (every notice up to an id), so that
marking everything read is one row whatever the history, and the unread count is one
COUNT over the index (audience, id) above the cursor.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.clock import now
from engine.db import db
from handlers.notify import task_audience
from registry.applications import NotFound
from registry.models import Notification, NotificationCursor, NotificationRead, Role, User

from . import tasks


def audiences(user: User) -> list[str]:
    """Whose notices ``user`` reads: its group in its scope (tasks that arrived there) and,
    for an enterprise user, its organisation (its applications). None for a person of no
    lane and no organisation (they have no notices)."""
    found = []
    group = tasks.group_of(user)
    if group is not None:
        found.append(task_audience(tasks.user_scope(user), group))
    if user.role == Role.ENTERPRISE and user.organisation_id is not None:
        found.append(f"org:{user.organisation_id}")
    return found


def mine(user: User) -> sa.Select[Any]:
    """The notices of ``user``, newest first."""
    return sa.select(Notification).where(Notification.audience.in_(audiences(user))) \
        .order_by(Notification.id.desc())


def _unread(user: User) -> sa.ColumnElement[bool]:
    through = sa.select(NotificationCursor.read_through).where(
        NotificationCursor.user_id == user.id).scalar_subquery()
    return sa.and_(Notification.id > sa.func.coalesce(through, 0), ~sa.exists().where(
        NotificationRead.user_id == user.id, NotificationRead.notification_id == Notification.id))


def listed(user: User, offset: int, limit: int) -> list[tuple[Notification, bool]]:
    """A page of ``user``'s notices, newest first, each with whether it is unread."""
    rows = db.session.execute(
        mine(user).add_columns(sa.case((_unread(user), True), else_=False))
        .offset(offset).limit(limit)).all()
    return [(notice, bool(unread)) for notice, unread in rows]


def unread_count(user: User) -> int:
    """How many of ``user``'s notices are unread: one COUNT (index audience, id)."""
    wanted = audiences(user)
    if not wanted:
        return 0
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.audience.in_(wanted), _unread(user))) or 0


def open_notice(user: User, notification_id: int) -> Notification:
    """Mark one of ``user``'s notices read (again is harmless) and return it; another's
    answers NotFound, as a notice that does not exist."""
    notice = db.session.scalar(mine(user).where(Notification.id == notification_id))
    if notice is None:
        raise NotFound(f"消息 {notification_id} 不存在")
    unread = db.session.execute(sa.select(sa.case((_unread(user), True), else_=False))
                                .where(Notification.id == notice.id)).scalar()
    if unread:
        _insert_once(NotificationRead(user_id=user.id, notification_id=notice.id))
    db.session.commit()
    return notice


def read_all(user: User) -> int:
    """全部标为已读: move ``user``'s cursor to their newest notice, drop the single marks it
    covers; how many were unread."""
    count = unread_count(user)
    newest = db.session.scalar(sa.select(sa.func.max(Notification.id)).where(
        Notification.audience.in_(audiences(user))))
    if newest is None:
        return 0
    cursor = db.session.get(NotificationCursor, user.id)
    if cursor is None:
        _insert_once(NotificationCursor(user_id=user.id, read_through=newest))
        cursor = db.session.get(NotificationCursor, user.id)
    if cursor is not None and cursor.read_through < newest:
        cursor.read_through, cursor.updated_at = newest, now()
    db.session.execute(sa.delete(NotificationRead).where(
        NotificationRead.user_id == user.id, NotificationRead.notification_id <= newest))
    db.session.commit()
    return count


def _insert_once(row: Any) -> None:
    """Add ``row`` unless another request of the same person just did (two tabs)."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except sa.exc.IntegrityError:
        pass

