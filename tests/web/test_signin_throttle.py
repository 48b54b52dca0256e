"""Sign-in throttling (issue 16): each attempt takes its slot before the password is checked,
so a burst at once gets the limit's worth of checks; an account's limit holds across
addresses, and an address spraying names is paused too."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from engine.db import db
from registry import users
from tests.lifecycle.test_lifecycle import race
from web import signin

NAME, PASSWORD = "throttled-user", "password-123"


@pytest.fixture
def checks(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The user, and the password checks actually made (each a little slow, as a hash is)."""
    users.create_user(NAME, PASSWORD, "city_reviewer", "市级审核")
    db.session.commit()
    made: list[str] = []
    lock, real = threading.Lock(), signin.authenticate

    def counted(username: str, password: str) -> Any:
        with lock:
            made.append(username)
        time.sleep(0.05)
        return real(username, password)

    monkeypatch.setattr(signin, "authenticate", counted)
    return made


def _sign_in(client: Any, username: str, password: str, address: str = "10.0.0.1") -> int:
    return int(client.post("/api/v1/auth/token", json={"username": username,
                                                       "password": password},
                           environ_base={"REMOTE_ADDR": address}).status_code)


def test_sixty_wrong_passwords_at_once_get_five_checks(app: Flask, checks: list[str]) -> None:
    answers = race(app, [lambda c: _sign_in(c, NAME, "wrong")] * 60)
    assert sorted(answers) == [401] * 5 + [429] * 55
    assert len(checks) == signin.MAX_FAILURES


def test_an_accounts_limit_holds_across_addresses(app: Flask, checks: list[str]) -> None:
    client = app.test_client()
    for n in range(signin.MAX_FAILURES):
        assert _sign_in(client, NAME, "wrong", f"10.0.1.{n}") == 401
    assert _sign_in(client, NAME, PASSWORD, "10.0.2.1") == 429  # even the right password
    assert len(checks) == signin.MAX_FAILURES


def test_an_address_spraying_names_is_paused(app: Flask, checks: list[str]) -> None:
    client = app.test_client()
    for n in range(signin.MAX_ADDRESS_FAILURES):
        assert _sign_in(client, f"nobody-{n}", "guess", "10.0.3.1") == 401
    assert _sign_in(client, NAME, PASSWORD, "10.0.3.1") == 429
    assert _sign_in(client, NAME, PASSWORD, "10.0.3.2") == 200  # elsewhere, unaffected


def test_a_success_clears_the_accounts_count(app: Flask, checks: list[str]) -> None:
    client = app.test_client()
    for _ in range(signin.MAX_FAILURES - 1):
        assert _sign_in(client, NAME, "wrong") == 401
    assert _sign_in(client, NAME, PASSWORD) == 200
    for _ in range(signin.MAX_FAILURES):
        assert _sign_in(client, NAME, "wrong") == 401
    assert _sign_in(client, NAME, PASSWORD) == 429


def test_sixteen_right_passwords_at_once_all_get_in(app: Flask, checks: list[str]) -> None:
    """Checks in flight fill the limit for a moment: the others wait for them, they are not
    refused (the scale-out tests sign sixteen clients in as one user at once)."""
    answers = race(app, [lambda c: _sign_in(c, NAME, PASSWORD)] * 16)
    assert answers == [200] * 16
    assert len(checks) == 16


def test_a_broken_check_is_no_failure(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(username: str, password: str) -> Any:
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(signin, "authenticate", broken)
    for _ in range(signin.MAX_FAILURES + 1):
        with pytest.raises(RuntimeError):
            signin.attempt(NAME, "wrong", "10.0.4.1")
    monkeypatch.undo()
    users.create_user(NAME, PASSWORD, "city_reviewer", "市级审核")
    db.session.commit()
    assert signin.attempt(NAME, PASSWORD, "10.0.4.1").username == NAME


def _forwarded(client: Any, username: str, password: str, forwarded: str) -> int:
    return int(client.post("/api/v1/auth/token", json={"username": username,
                                                       "password": password},
                           headers={"X-Forwarded-For": forwarded}).status_code)


@pytest.fixture
def behind_proxy(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app told to trust this machine as its proxy, for one test."""
    monkeypatch.setitem(app.config, "CQPI_TRUSTED_PROXIES", "127.0.0.1")
    app.extensions.pop("cqpi.trusted_proxies", None)
    yield
    app.extensions.pop("cqpi.trusted_proxies", None)


def test_behind_a_trusted_proxy_each_client_address_has_its_own_count(
        app: Flask, checks: list[str], behind_proxy: None) -> None:
    client = app.test_client()
    for n in range(signin.MAX_ADDRESS_FAILURES):
        assert _forwarded(client, f"nobody-{n}", "guess", "198.51.100.1") == 401
    assert _forwarded(client, NAME, PASSWORD, "198.51.100.1") == 429
    assert _forwarded(client, NAME, PASSWORD, "198.51.100.2") == 200


def test_without_the_setting_a_forwarded_address_changes_nothing(
        app: Flask, checks: list[str]) -> None:
    client = app.test_client()
    for n in range(signin.MAX_ADDRESS_FAILURES):
        assert _forwarded(client, f"nobody-{n}", "guess", f"198.51.100.{n}") == 401
    assert _forwarded(client, NAME, PASSWORD, "203.0.113.1") == 429


def test_a_wrong_proxy_setting_stops_the_start_naming_it(tmp_path: Any) -> None:
    from web.config import from_env
    with pytest.raises(ValueError, match="“lb.internal”"):
        from_env({"CQPI_DATA_DIR": str(tmp_path), "CQPI_TRUSTED_PROXIES": "lb.internal"})
