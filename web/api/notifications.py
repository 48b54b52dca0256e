"""``/api/v1/notifications``: the caller's in-app notices, newest first (lifecycle.notices
says whose they are; the pages' 消息中心 reads the same)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from engine.db import db
from forms.api import NotificationOut, Page
from lifecycle import notices as notice_store

from .auth import signed_in, signed_in_user

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications",
                description="站内通知")


@blp.get("")
@signed_in
@blp.arguments(Page, location="query")
@blp.response(200, NotificationOut(many=True))
def notices(args: dict[str, Any]) -> Any:
    """Notices to the caller's organisation, or to its group in its scope."""
    page, per_page = args["page"], args["per_page"]
    return db.session.scalars(notice_store.mine(signed_in_user())
                              .limit(per_page).offset((page - 1) * per_page)).all()
