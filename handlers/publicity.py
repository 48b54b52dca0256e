"""``publicity.open``, ``publicity.resume`` and ``publicity.close``: the notice on the public
board (R-IB-3, A-1, A-3).

The length is ``CQPI_PUBLICITY``: a number of working days (default 5), or an ISO 8601
duration such as ``PT30S`` for demos and tests. An objection pauses the notice (A-3); when it
is dismissed the notice resumes and its end moves by the time it was paused: by the working
days of the pause (after the day it paused, up to the day it resumes, as A-1 counts), or by
the paused wall-clock time when the length is a duration.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.clock import now
from engine.db import db
from lifecycle import events
from registry.calendar import BEIJING, Calendar, period_end
from registry.models import Objection, PublicityNotice

from . import params as params_

log = logging.getLogger(__name__)

ENDED = {"closed": "结束", "stopped": "终止"}


def closes_at(opened: datetime, setting: str) -> tuple[datetime, list[str]]:
    """When a notice opened at ``opened`` closes, by the configured length."""
    if setting.strip().isdigit():
        return period_end(opened, int(setting))
    parsed = TimerEventDefinition.parse_iso_duration(setting)
    return opened + timedelta(seconds=TimerEventDefinition.get_timedelta_from_start(
        parsed).total_seconds()), []


def resumed_end(closes: datetime, paused: datetime, resumed: datetime, setting: str
                ) -> tuple[datetime, list[str]]:
    """The new end of a notice paused at ``paused`` and resumed at ``resumed`` (naive UTC)
    that was to close at ``closes``: later by the working days of the pause, or by the paused
    time itself when ``setting`` is a duration (A-1, A-3)."""
    if not setting.strip().isdigit():
        return closes + max(resumed - paused, timedelta(0)), []
    first, last = (_beijing_day(paused), _beijing_day(resumed))
    calendar = Calendar.load(first)
    days = calendar.workdays_between(first, last)
    if days <= 0:
        return closes, calendar.warnings()
    # the end is the midnight after the last working day: count on from that day
    return period_end(closes - timedelta(microseconds=1), days, calendar)


def _beijing_day(moment: datetime) -> date:
    return moment.replace(tzinfo=UTC).astimezone(BEIJING).date()


def _result(notice: PublicityNotice) -> dict[str, Any]:
    return {"publicity_notice_id": notice.id,
            "publicity_closes_at": notice.closes_at.isoformat() + "+00:00"}


def open_notice(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Open the notice of an application (once: an open notice is returned as it is)."""
    application = params_.application(params)
    notice = db.session.scalar(sa.select(PublicityNotice).filter_by(
        application_id=application.id, status="open"))
    if notice is None:
        opened = now()
        end, warnings = closes_at(opened, str(current_app.config.get("CQPI_PUBLICITY", "5")))
        for warning in warnings:
            log.warning("publicity of application %s: %s", application.id, warning)
        notice = PublicityNotice(application_id=application.id,
                                 project_id=application.project_id,
                                 title=application.project.name,
                                 published={"kind": application.kind,
                                            "stages": application.data},
                                 opened_at=opened, closes_at=end)
        db.session.add(notice)
    events.publicity_opened(application)  # the application says so, in the same commit
    db.session.commit()
    return _result(notice)


def resume_notice(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Re-open a notice paused by an objection that was dismissed (A-3), its end moved by
    the pause (A-1); the new ``publicity_closes_at`` for the timer. Idempotent: a notice
    already open is returned as it is."""
    notice = db.session.get(PublicityNotice, int(params["notice_id"]))
    if notice is None:
        raise LookupError(f"公示 {params['notice_id']} 不存在")
    if notice.status == "paused":
        paused = db.session.scalar(sa.select(sa.func.max(Objection.created_at)).where(
            Objection.notice_id == notice.id)) or now()
        resumed = now()
        end, warnings = resumed_end(notice.closes_at, paused, resumed,
                                    str(current_app.config.get("CQPI_PUBLICITY", "5")))
        for warning in warnings:
            log.warning("publicity notice %s: %s", notice.id, warning)
        resumed_rows = db.session.execute(sa.update(PublicityNotice).where(
            PublicityNotice.id == notice.id, PublicityNotice.status == "paused").values(
            status="open", closes_at=end))
        db.session.commit()
        if resumed_rows.rowcount == 1:  # type: ignore[attr-defined]
            log.info("publicity notice %s resumed after %s, closes at %s",
                     notice.id, resumed - paused, end)
        db.session.refresh(notice)
    elif notice.status != "open":  # closed or stopped meanwhile: not for the push to go on
        raise ValueError(f"公示 {notice.id} 已{ENDED.get(notice.status, notice.status)}，不能恢复")
    events.publicity_opened(params_.application_by_id(notice.application_id))
    db.session.commit()
    return _result(notice)


def close_notice(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Close a notice: ``closed`` at its end, ``stopped`` when an objection is upheld (A-3)."""
    outcome = str(params.get("outcome", "closed"))
    if outcome not in ("closed", "stopped"):
        raise ValueError(f"未知的公示结果: {outcome}")
    notice = db.session.get(PublicityNotice, int(params["notice_id"]))
    if notice is None:
        raise LookupError(f"公示 {params['notice_id']} 不存在")
    if notice.status in ("open", "paused"):
        notice.status, notice.closed_at = outcome, now()
    if notice.status == "closed":  # no objection stands: the push follows
        events.publicity_ended(params_.application_by_id(notice.application_id))
    db.session.commit()
    return {"publicity_outcome": "upheld" if notice.status == "stopped" else "closed"}
