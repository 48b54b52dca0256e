"""The statuses of an application, the moves between them, and the one function that makes
a move: every caller (API, pages, handlers) changes an application's status through
``move``, which checks the move against ``MOVES`` and makes it with a compare-and-set, so that
of two racing moves one wins and the other gets ``StatusConflict`` (409)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from engine import Conflict
from engine.clock import now
from engine.db import db
from registry import audit
from registry.models import EDITABLE, LABELS, Application, AppStatus, Notification

__all__ = ["EDITABLE", "ENDED", "LABELS", "MOVES", "StatusConflict", "label", "move"]

S = AppStatus

MOVES: dict[AppStatus, frozenset[AppStatus]] = {
    # the applicant submits a draft, or resubmits after a return
    S.SUBMITTED: frozenset({S.DRAFT, S.RETURNED}),
    # a review finds problems, a sample fails, an objection is upheld
    S.RETURNED: frozenset({S.SUBMITTED, S.IN_PUBLICITY, S.OBJECTION}),
    # the review passed: the notice is on the board (R-IB-3); again after a dismissed objection
    S.IN_PUBLICITY: frozenset({S.SUBMITTED, S.OBJECTION}),
    # an objection arrived while the notice was open
    S.OBJECTION: frozenset({S.IN_PUBLICITY}),
    # publicity ended (intake, backfill), or the decision was applied (correction, grade)
    S.PUSHING: frozenset({S.SUBMITTED, S.IN_PUBLICITY, S.OBJECTION, S.PUSH_FAILED}),
    # the push ran out of retries
    S.PUSH_FAILED: frozenset({S.PUSHING}),
    # pushed and recorded
    S.APPROVED: frozenset({S.PUSHING, S.PUSH_FAILED}),
    # the Ministry did not agree (R-COR-5)
    S.REJECTED: frozenset({S.SUBMITTED}),
    # the applicant withdraws a draft, or a returned application instead of amending it
    S.WITHDRAWN: frozenset({S.DRAFT, S.RETURNED}),
}
"""Target status -> the statuses it may be reached from; nothing else moves."""

ENDED = frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN})

VERBS = {S.SUBMITTED: "提交", S.RETURNED: "退回", S.IN_PUBLICITY: "公示",
         S.OBJECTION: "受理异议", S.PUSHING: "推送", S.PUSH_FAILED: "记为推送失败",
         S.APPROVED: "办结", S.REJECTED: "不予同意", S.WITHDRAWN: "撤回"}

TOLD = frozenset({S.RETURNED, S.IN_PUBLICITY, S.OBJECTION, S.PUSH_FAILED, S.APPROVED,
                  S.REJECTED})
"""Statuses the applicant organisation is told of, in the same words as everywhere (not the
ones it reaches by its own act: submitted, withdrawn)."""


class StatusConflict(Conflict):
    """The application is not in a status the move may start from (409)."""


def label(status: str) -> str:
    return LABELS.get(status, status)


def may_move(source: str, target: AppStatus) -> bool:
    return source in MOVES[target]


def move(application: Application, target: AppStatus, actor: str, *,
         idempotent: bool = False, **values: Any) -> bool:
    """Move ``application`` to ``target`` in the caller's transaction, with ``values`` set on
    it too. Returns False when ``idempotent`` and it is there already (a handler run twice);
    raises StatusConflict when the move is not allowed or another writer moved it first."""
    source = application.status
    if source == target and idempotent:
        return False
    if not may_move(source, target):
        raise StatusConflict(f"申请当前状态为“{label(source)}”，不能{VERBS[target]}")
    if target in ENDED:
        values.setdefault("decided_at", now())
    try:
        changed = db.session.execute(
            sa.update(Application)
            .where(Application.id == application.id, Application.status == source)
            .values(status=target, **values)
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    except OperationalError as exc:  # SQLite: another writer holds the database
        if "locked" not in str(exc):
            raise
        db.session.rollback()
        changed = 0
    if not changed:  # nothing was written: the caller's transaction decides what follows
        raise StatusConflict("申请已被他人处理（状态已改变），请刷新后重试")
    for name, value in {"status": target, **values}.items():
        set_committed_value(application, name, value)  # what the UPDATE wrote, no 2nd write
    audit.record(actor, f"application_{target}", f"application:{application.id}",
                 {"from": source, "to": str(target)})
    if target in TOLD:
        db.session.add(Notification(
            audience=f"org:{application.applicant_id}",
            title=f"您的申请（{application.project.name}）：{label(target)}",
            link=f"/applications/{application.id}"))
    return True

