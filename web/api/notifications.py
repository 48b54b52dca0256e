"""``/api/v1/notifications``: the caller's in-app notices, newest first."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_smorest import Blueprint

from engine.db import db
from forms.api import NotificationOut, Page
from handlers.notify import task_audience
from lifecycle import tasks
from registry.models import Notification, Role

from .auth import signed_in, signed_in_user

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications",
                description="站内通知")


@blp.get("")
@signed_in
@blp.arguments(Page, location="query")
@blp.response(200, NotificationOut(many=True))
def notices(args: dict[str, Any]) -> Any:
    """Notices to the caller's organisation, or to its group in its scope."""
    user = signed_in_user()
    scope = tasks.user_scope(user)
    audiences = [task_audience(scope, tasks.group_of(user))]
    if user.role == Role.ENTERPRISE:
        audiences.append(f"org:{user.organisation_id}")
    page, per_page = args["page"], args["per_page"]
    return db.session.scalars(
        sa.select(Notification).where(Notification.audience.in_(audiences))
        .order_by(Notification.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
