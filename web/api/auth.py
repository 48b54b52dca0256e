"""Sign-in: bearer tokens signed with the app's secret, failed sign-ins rate-limited in Redis,
and the integration token of the permit-issuing system."""

from __future__ import annotations

import hmac
from functools import wraps
from typing import Any

from flask import current_app, request
from flask_smorest import abort
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from engine.db import db
from registry.models import User
from web import signin

TOKEN_SECONDS = 12 * 3600
"""How long a sign-in token is valid."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="cqpi-api-token")


def issue(username: str, password: str) -> tuple[User, str]:
    """Check the password (rate-limited) and return the user with a new token."""
    try:
        user = signin.attempt(username, password, request.remote_addr)
    except signin.SignInRefused as exc:
        abort(exc.status, message=str(exc))
    return user, _serializer().dumps({"uid": user.id})


def current_user() -> User | None:
    """The user of the request's bearer token, or None (looked up once per request)."""
    if "cqpi.user" in request.environ:
        return request.environ["cqpi.user"]
    header = request.headers.get("Authorization", "")
    user = None
    if header.startswith("Bearer "):
        try:
            data = _serializer().loads(header[7:], max_age=TOKEN_SECONDS)
            user = db.session.get(User, int(data["uid"]))
        except (BadSignature, SignatureExpired, KeyError, ValueError, TypeError):
            user = None
    found = user if user is not None and user.active else None
    request.environ["cqpi.user"] = found
    return found


def signed_in_user() -> User:
    """The user of a view behind ``signed_in``."""
    user = current_user()
    assert user is not None
    return user


def signed_in(view: Any) -> Any:
    """401 without a valid token."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            abort(401, message="请先登录")
        return view(*args, **kwargs)
    return wrapper


def integration(name: str) -> Any:
    """Require the integration token configured as ``CQPI_<NAME>_TOKEN``."""
    def decorate(view: Any) -> Any:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            expected = current_app.config.get(f"CQPI_{name.upper()}_TOKEN")
            given = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if not expected or not hmac.compare_digest(given, expected):
                abort(401, message="集成凭证无效")
            return view(*args, **kwargs)
        return wrapper
    return decorate
