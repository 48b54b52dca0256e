"""``publicity.open`` and ``publicity.close``: the notice on the public board (R-IB-3, A-1).

The length is ``CQPI_PUBLICITY``: a number of working days (default 5), or an ISO 8601
duration such as ``PT30S`` for demos and tests.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.clock import now
from engine.db import db
from registry.calendar import period_end
from registry.models import PublicityNotice

from . import params as params_

log = logging.getLogger(__name__)


def closes_at(opened: datetime, setting: str) -> tuple[datetime, list[str]]:
    """When a notice opened at ``opened`` closes, by the configured length."""
    if setting.strip().isdigit():
        return period_end(opened, int(setting))
    parsed = TimerEventDefinition.parse_iso_duration(setting)
    return opened + timedelta(seconds=TimerEventDefinition.get_timedelta_from_start(
        parsed).total_seconds()), []


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
        db.session.commit()
    return {"publicity_notice_id": notice.id,
            "publicity_closes_at": notice.closes_at.isoformat() + "+00:00"}


def close_notice(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Close a notice: ``closed`` at its end, ``stopped`` when an objection is upheld (A-3)."""
    outcome = str(params.get("outcome", "closed"))
    if outcome not in ("closed", "stopped"):
        raise ValueError(f"未知的公示结果: {outcome}")
    notice = db.session.get(PublicityNotice, int(params["notice_id"]))
    if notice is None:
        raise LookupError(f"公示 {params['notice_id']} 不存在")
    if notice.status == "open":
        notice.status, notice.closed_at = outcome, now()
        db.session.commit()
    return {"publicity_outcome": "upheld" if notice.status == "stopped" else "closed"}
