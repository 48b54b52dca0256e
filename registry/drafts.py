"""The new-application wizard's draft: kept per user until the application is opened."""

from __future__ import annotations

from typing import Any

from engine.clock import now
from engine.db import db

from .models import User, WizardDraft


def draft_of(user: User) -> dict[str, Any]:
    row = db.session.get(WizardDraft, user.id)
    return dict(row.data) if row is not None else {}


def save(user: User, data: dict[str, Any]) -> None:
    row = db.session.get(WizardDraft, user.id)
    if row is None:
        db.session.add(WizardDraft(user_id=user.id, data=data, updated_at=now()))
    else:
        row.data, row.updated_at = data, now()
    db.session.commit()


def discard(user: User) -> None:
    row = db.session.get(WizardDraft, user.id)
    if row is not None:
        db.session.delete(row)
        db.session.commit()
