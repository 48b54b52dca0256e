"""Who is signed in to the pages (a server-side session whose id the signed cookie carries),
the roles a page admits, and the CSRF token every form carries."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, redirect, request, session, url_for

from engine.db import db
from registry import sessions
from registry.models import User
from web.addresses import client_address

CSRF_FIELD = "csrf_token"


def init_app(app: Flask) -> None:
    """The cookie: SameSite=Lax, HttpOnly, Secure with ``CQPI_SECURE_COOKIES`` (HTTPS), and
    no longer lived than the session it carries."""
    secure = str(app.config.get("CQPI_SECURE_COOKIES", "")).lower() in ("1", "true", "yes")
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SECURE=secure, PERMANENT_SESSION_LIFETIME=timedelta(
                          hours=float(app.config["CQPI_SESSION_HOURS"])))


def sign_in(user: User) -> None:
    """Start a page session of ``user`` (ending the one this cookie carried) and commit it."""
    earlier = session.get("sid")
    if isinstance(earlier, str):
        sessions.revoke(earlier)
    secret = sessions.start(user, sessions.PAGE, client_address())
    db.session.commit()
    session.clear()
    session["sid"] = secret
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True


def sign_out() -> None:
    """End this page session on the server (a copy of the cookie dies with it)."""
    secret = session.get("sid")
    if isinstance(secret, str):
        sessions.revoke(secret)
        db.session.commit()
    session.clear()


def current_user() -> User | None:
    """The active user of this request's live session (looked up once)."""
    if "cqpi.page_user" not in request.environ:
        secret = session.get("sid")
        request.environ["cqpi.page_user"] = (
            sessions.user_of(secret, sessions.PAGE) if isinstance(secret, str) else None)
    return request.environ["cqpi.page_user"]


def expired() -> bool:
    """Whether the cookie carries a session that has ended (timed out or revoked)."""
    return "sid" in session and current_user() is None


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
