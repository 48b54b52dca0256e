"""Sign-ins kept on the server: cookie flags, sign-out that ends a copied cookie, the idle and
absolute limits, API logout, and an admin's (or the CLI's) revocation of a user's sign-ins."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask

from engine.db import db
from registry import sessions, users
from registry.models import AuditEvent, User
from registry.sessions import AuthSession
from web import config, create_app
from web.cli import main
from web.database import prepare
from web.pages import session as page_session

from .test_pages import csrf

PASSWORD = "password-123"
OPS_PAGE = "/ops/instances"
OPS_API = "/api/v1/instances"
EXPIRED = "登录已过期，请重新登录"


@pytest.fixture
def people(app: Flask) -> dict[str, User]:
    found = {name: users.create_user(name, PASSWORD, role, name)
             for name, role in (("ops1", "ops"), ("admin1", "admin"), ("analyst1", "analyst"))}
    db.session.commit()
    return found


def sign_in_page(client: Any, username: str) -> Any:
    answer = client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": csrf(client)})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer


def token(client: Any, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"username": username,
                                                     "password": PASSWORD})
    assert answer.status_code == 200, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def page_works(client: Any) -> bool:
    answer = client.get(OPS_PAGE)
    assert answer.status_code in (200, 302)
    return answer.status_code == 200


def with_cookie(app: Flask, value: str) -> Any:
    """A new browser that carries ``value`` as its session cookie."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return other


def rows(user: User) -> list[AuthSession]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuthSession).filter_by(user_id=user.id)))


def age(user: User, **moved: timedelta) -> None:
    """Move the user's sessions' times back by ``moved`` (e.g. last_seen_at=31 minutes)."""
    for row in rows(user):
        for column, delta in moved.items():
            setattr(row, column, getattr(row, column) - delta)
    db.session.commit()


def test_the_cookie_is_samesite_lax_httponly_and_lives_as_long_as_the_session(
        app: Flask, people: dict[str, User]) -> None:
    cookie = sign_in_page(app.test_client(), "ops1").headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Secure" not in cookie
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)  # was 31 days


def test_the_cookie_is_secure_when_the_setting_says_so(
        app: Flask, people: dict[str, User], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    assert "Secure" in sign_in_page(app.test_client(), "ops1").headers["Set-Cookie"]
    secure = Flask("secure")
    secure.config.update(config.from_env({"CQPI_SECURE_COOKIES": "1",
                                          "CQPI_DATA_DIR": app.config["CQPI_DATA_DIR"]}))
    secure.config["CQPI_SESSION_HOURS"] = "8"
    page_session.init_app(secure)
    assert secure.config["SESSION_COOKIE_SECURE"] is True
    assert secure.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)


def test_a_cookie_copied_before_logout_no_longer_signs_in(
        app: Flask, people: dict[str, User]) -> None:
    client = app.test_client()
    sign_in_page(client, "ops1")
    saved = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert page_works(with_cookie(app, saved))
    assert client.post("/logout", data={"csrf_token": csrf(client, OPS_PAGE)}).status_code == 302
    reused = with_cookie(app, saved).get(OPS_PAGE)
    assert reused.status_code == 302 and reused.headers["Location"].startswith("/login")
    assert [r.revoked_at is not None for r in rows(people["ops1"])] == [True]


def test_a_sign_in_unused_past_the_idle_limit_ends(app: Flask, people: dict[str, User]) -> None:
    client = app.test_client()
    sign_in_page(client, "ops1")
    bearer = token(client, "ops1")
    for _ in range(2):  # each use is noted: 29 minutes after it, still signed in
        age(people["ops1"], last_seen_at=timedelta(minutes=29))
        assert page_works(client) and client.get(OPS_API, headers=bearer).status_code == 200
    age(people["ops1"], last_seen_at=timedelta(minutes=31))
    assert not page_works(client)
    assert EXPIRED in client.get("/login").get_data(as_text=True)
    refused = client.get(OPS_API, headers=bearer)
    assert refused.status_code == 401 and refused.get_json()["message"] == EXPIRED


def test_use_is_noted_at_most_once_a_minute(app: Flask, people: dict[str, User]) -> None:
    client = app.test_client()
    bearer = token(client, "ops1")
    age(people["ops1"], last_seen_at=timedelta(seconds=30))
    [before] = [r.last_seen_at for r in rows(people["ops1"])]
    assert client.get(OPS_API, headers=bearer).status_code == 200
    assert rows(people["ops1"])[0].last_seen_at == before
    age(people["ops1"], last_seen_at=timedelta(seconds=50))  # now 80 s ago
    assert client.get(OPS_API, headers=bearer).status_code == 200
    assert rows(people["ops1"])[0].last_seen_at > before


def test_a_sign_in_ends_at_its_absolute_limit(app: Flask, people: dict[str, User]) -> None:
    client = app.test_client()
    sign_in_page(client, "ops1")
    bearer = token(client, "ops1")
    age(people["ops1"], expires_at=timedelta(hours=12, seconds=1))
    assert not page_works(client)
    assert client.get(OPS_API, headers=bearer).status_code == 401


def test_api_logout_revokes_its_token_only(app: Flask, people: dict[str, User]) -> None:
    client = app.test_client()
    first, second = token(client, "ops1"), token(client, "ops1")
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
    refused = client.get(OPS_API, headers=first)
    assert refused.status_code == 401 and refused.get_json()["message"] == EXPIRED
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 401
    assert client.get(OPS_API, headers=second).status_code == 200
    assert client.post("/api/v1/auth/logout").get_json()["message"] == "请先登录"


def test_an_admin_revokes_every_sign_in_of_a_user(app: Flask, people: dict[str, User]) -> None:
    browser, client = app.test_client(), app.test_client()
    sign_in_page(browser, "ops1")
    bearer, admin = token(client, "ops1"), token(client, "admin1")
    ops_id = people["ops1"].id
    answer = client.post(f"/api/v1/users/{ops_id}/sessions/revoke", headers=admin)
    assert answer.status_code == 200 and answer.get_json() == {"user_id": ops_id, "ended": 2}
    assert not page_works(browser)
    assert client.get(OPS_API, headers=bearer).status_code == 401
    assert client.get(OPS_API, headers=admin).status_code == 200  # the admin's own is kept
    [event] = db.session.scalars(sa.select(AuditEvent).filter_by(action="sessions_revoked"))
    assert (event.actor, event.object) == ("admin1", f"user:{ops_id}")
    assert event.data == {"username": "ops1", "ended": 2}
    sign_in_page(browser, "ops1")  # revoked, not locked out
    assert page_works(browser)


@pytest.mark.parametrize(("who", "status"), [("ops1", 403), ("analyst1", 403), (None, 401)])
def test_only_admins_revoke(app: Flask, people: dict[str, User], who: str | None,
                            status: int) -> None:
    sign_in_page(app.test_client(), "admin1")
    client = app.test_client()
    bearer = token(client, who) if who else {}
    target = people["admin1"].id
    answer = client.post(f"/api/v1/users/{target}/sessions/revoke", headers=bearer)
    assert answer.status_code == status
    assert [r.revoked_at for r in rows(people["admin1"])] == [None]


def test_revoking_an_unknown_user_is_404(app: Flask, people: dict[str, User]) -> None:
    client = app.test_client()
    answer = client.post("/api/v1/users/999999/sessions/revoke", headers=token(client, "admin1"))
    assert answer.status_code == 404 and "不存在" in answer.get_json()["message"]


def test_a_sign_in_prunes_its_users_sessions_ended_over_a_day_ago(
        app: Flask, people: dict[str, User]) -> None:
    client = app.test_client()
    token(client, "ops1")
    token(client, "ops1")
    age(people["ops1"], expires_at=timedelta(days=2), created_at=timedelta(days=2))
    token(client, "ops1")
    assert len(rows(people["ops1"])) == 1


def test_cqpi_users_revoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    env = {"CQPI_DATA_DIR": str(tmp_path), "CQPI_LOG_LEVEL": "WARNING"}
    own = create_app(config.from_env(env))
    prepare(own)
    with own.app_context():
        user = users.create_user("ops9", PASSWORD, "ops", "ops9")
        db.session.flush()
        secret = sessions.start(user, sessions.API, "127.0.0.1")
        db.session.commit()
    result = CliRunner().invoke(main, ["users", "revoke", "ops9"], env=env)
    assert result.exit_code == 0 and "1 个登录会话" in result.output, result.output
    with own.app_context():
        assert sessions.user_of(secret, sessions.API) is None
        assert db.session.scalar(sa.select(AuditEvent.actor)) == "cli"
        db.session.remove()
        db.engine.dispose()
    missing = CliRunner().invoke(main, ["users", "revoke", "nobody"], env=env)
    assert missing.exit_code == 1 and "不存在" in missing.output
