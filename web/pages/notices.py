"""消息中心 (issue 18): the signed-in person's notices, newest first, paged, unread ones
marked; opening one marks it read and goes to its application or task; 全部标为已读; the
header's unread count.

Opening is a POST (with the CSRF token), not a side effect of viewing: a GET must change
nothing (link previews, prefetching and another site's <img> would otherwise mark notices
read unseen), and the POST answers with a redirect to the notice's page, so one click both
reads it and opens it. A notice already read is a plain link."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from lifecycle import notices

from . import bp, session
from .pages_util import int_arg

PER_PAGE = 20
"""Notices per page."""


@bp.app_context_processor
def _header() -> dict[str, Any]:
    return {"unread_notices": _unread_notices}


def _unread_notices() -> int | None:
    """The header's unread count (called by base.html once per page): None for a person
    who has no notices (no lane, no organisation), so that no link shows."""
    user = session.current_user()
    if user is None or not notices.audiences(user):
        return None
    return notices.unread_count(user)


@bp.get("/notifications")
@session.signed_in()
def notifications() -> Any:
    user = session.user()
    page = int_arg(request.args.get("page")) or 1
    found = notices.listed(user, offset=(page - 1) * PER_PAGE, limit=PER_PAGE + 1)
    rows = [(notice, unread, session.local_path(notice.link)) for notice, unread in found]
    return render_template("notifications.html", rows=rows[:PER_PAGE], page=page,
                           more=len(rows) > PER_PAGE, unread=notices.unread_count(user),
                           has_notices=bool(notices.audiences(user)))


@bp.post("/notifications/<int(max=2147483647):notification_id>/open")
@session.signed_in()
def open_notification(notification_id: int) -> Any:
    notice = notices.open_notice(session.user(), notification_id)
    return redirect(session.local_path(notice.link) or url_for("pages.notifications"))


@bp.post("/notifications/read-all")
@session.signed_in()
def read_all_notifications() -> Any:
    count = notices.read_all(session.user())
    flash(f"已将 {count} 条未读消息标为已读" if count else "没有未读消息", "ok")
    return redirect(url_for("pages.notifications"))
