"""Who is signed in to the pages (a signed session cookie), the roles a page admits, and the
CSRF token every form carries."""

from __future__ import annotations

import hmac
import secrets
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, redirect, request, session, url_for

from engine.db import db
from registry.models import User

CSRF_FIELD = "csrf_token"


def sign_in(user: User) -> None:
    session.clear()
    session["uid"] = user.id
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True


def sign_out() -> None:
    session.clear()


def current_user() -> User | None:
    """The signed-in, active user of this request (looked up once)."""
    if "cqpi.page_user" not in request.environ:
        uid = session.get("uid")
        user = db.session.get(User, uid) if isinstance(uid, int) else None
        request.environ["cqpi.page_user"] = user if user is not None and user.active else None
    return request.environ["cqpi.page_user"]


def user() -> User:
    """The user of a view behind ``signed_in``."""
    found = current_user()
    assert found is not None
    return found


def signed_in(*roles: str) -> Any:
    """Send strangers to /login (and back afterwards); 403 for a role not in ``roles``."""
    def decorate(view: Any) -> Any:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            found = current_user()
            if found is None:
                return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
            if roles and found.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf() -> None:
    """Refuse a page POST whose form does not carry this session's token."""
    if request.method != "POST":
        return
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试")


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (never another host), else None."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc or "\\" in target else target
