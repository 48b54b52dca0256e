"""The registry's audit trail: one event per state-changing call, in its transaction."""

from __future__ import annotations

from typing import Any

from engine.db import db

from .models import AuditEvent


def record(actor: str, action: str, obj: str, data: dict[str, Any] | None = None) -> None:
    db.session.add(AuditEvent(actor=actor, action=action, object=obj, data=data))
