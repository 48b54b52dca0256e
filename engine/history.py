"""The append-only event log of instances."""

from __future__ import annotations

from typing import Any

from .db import db
from .models import Event


def record(instance_id: int, kind: str, *, element_id: str | None = None,
           actor: str | None = None, data: dict[str, Any] | None = None) -> None:
    """Add one event to the current transaction; it commits (or not) with the step."""
    db.session.add(Event(instance_id=instance_id, kind=kind, element_id=element_id,
                         actor=actor, data=data))
