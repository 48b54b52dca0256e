"""The pages people use in a browser, in Chinese, on top of the same services as the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask import Blueprint, Flask

from engine import queries
from engine.clock import now
from lifecycle import tasks
from registry import jurisdictions

from ..downloads import shown_name
from . import labels, session

bp = Blueprint("pages", __name__, template_folder="../templates", static_folder="../static",
               static_url_path="/static")
bp.before_request(session.check_csrf)

BEIJING = timezone(timedelta(hours=8))


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"me": session.current_user(), "csrf_token": session.csrf_token,
            "labels": labels, "waiting": _waiting(), "now": now(),
            "jurisdiction_name": jurisdictions.name_of}


def _waiting() -> int | None:
    """The header's count of tasks waiting for the signed-in user's group and scope."""
    user = session.current_user()
    if user is None:
        return None
    group, scope = tasks.group_of(user), tasks.user_scope(user)
    return queries.inbox_count(group, scope) if group and scope else None


def moment(value: datetime | None) -> str:
    """A stored time (UTC) as Beijing time to the minute."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def readable_json(value: Any) -> str:
    """Data shown to people as indented JSON, Chinese as written (the page escapes it)."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def init_app(app: Flask) -> None:
    from . import (  # noqa: F401  (their routes)
        board,
        errors,
        inbox,
        lists,
        lookup,
        model_forms,
        models,
        notices,
        ops,
        portal,
        sampling,
        signin,
        starts,
        statistics,
        vendor,
        wizard,
    )

    session.init_app(app)
    app.register_blueprint(bp)
    app.jinja_env.filters["moment"] = moment
    app.jinja_env.filters["shown_name"] = shown_name
    app.jinja_env.filters["readable_json"] = readable_json
    errors.init_app(app)
