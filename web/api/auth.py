"""Sign-in: bearer tokens signed with the app's secret that carry the id of a server-side
session (sign-out and an admin revoke it), failed sign-ins rate-limited in Redis, and the
integration token of the permit-issuing system."""

from __future__ import annotations

import hmac
from functools import wraps
from typing import Any

from flask import current_app, request
from flask_smorest import abort
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from engine.db import db
from registry import sessions
from registry.models import User
from web import signin
from web.addresses import client_address


def token_seconds() -> int:
    """How long a sign-in token is valid at most (``CQPI_SESSION_HOURS``)."""
    return int(sessions.lifetime().total_seconds())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="cqpi-api-token")


def issue(username: str, password: str) -> tuple[User, str]:
    """Check the password (rate-limited) and return the user with a new token."""
    try:
        user = signin.attempt(username, password, client_address())
    except signin.SignInRefused as exc:
        abort(exc.status, message=str(exc))
    secret = sessions.start(user, sessions.API, client_address())
    db.session.commit()
    return user, _serializer().dumps({"sid": secret})


def _secret() -> str | None:
    """The session id in the request's well-signed bearer token, if any."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    try:
        data = _serializer().loads(header[7:], max_age=token_seconds())
    except (BadSignature, SignatureExpired):
        return None
    secret = data.get("sid") if isinstance(data, dict) else None
    return secret if isinstance(secret, str) else None


def current_user() -> User | None:
    """The user of the request's bearer token if its session is live, or None (looked up
    once per request)."""
    if "cqpi.user" not in request.environ:
        secret = _secret()
        request.environ["cqpi.user"] = (
            None if secret is None else sessions.user_of(secret, sessions.API))
    return request.environ["cqpi.user"]


def sign_out() -> None:
    """End the session of the request's token (it is refused from now on) and commit."""
    secret = _secret()
    if secret is not None:
        sessions.revoke(secret)
        db.session.commit()


def refusal() -> str:
    """Why a request without a live sign-in is refused: expired, or never signed in."""
    return sessions.EXPIRED if request.headers.get("Authorization") else "请先登录"


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
            abort(401, message=refusal())
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
