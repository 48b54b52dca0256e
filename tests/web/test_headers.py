"""Security headers on every kind of answer (issue 16); a view's own policy is kept."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.web.test_downloads import deployed, sign_in
from tests.web.test_pages import _application, _page, demo_app

__all__ = ["deployed", "demo_app"]  # fixtures

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
          "font-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
          "form-action 'self'")


def _secured(answer: Any, policy: str = POLICY) -> None:
    answer.close()  # a file's answer: the headers are all we read
    assert answer.headers["Content-Security-Policy"] == policy
    assert answer.headers["X-Frame-Options"] == ("SAMEORIGIN" if "frame-ancestors 'self'"
                                                 in policy else "DENY")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(("path", "status"), [
    ("/publicity", 200),  # a page
    ("/portal", 302),  # to /login
    ("/api/v1/openapi.json", 200),
    ("/api/v1/applications", 401),  # an API error, in JSON
    ("/no-such-page", 404),
    ("/static/cqpi.css", 200),
    ("/vendor/bpmn-js/no-such-file.js", 404),
    ("/healthz", 200),
])
def test_every_kind_of_answer_carries_the_headers(app: Flask, path: str, status: int) -> None:
    answer = app.test_client().get(path)
    assert answer.status_code == status
    _secured(answer)
    assert "Strict-Transport-Security" not in answer.headers  # served over plain HTTP


def test_hsts_when_the_session_cookie_is_https_only(app: Flask,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    answer = app.test_client().get("/publicity")
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    _secured(answer)


def test_a_diagram_download_keeps_its_sandbox(app: Flask, deployed: int) -> None:
    client = app.test_client()
    sign_in(client, "ops-1", "password-123")
    _secured(client.get(f"/ops/definitions/{deployed}.bpmn"), "default-src 'none'; sandbox")


def test_an_attachment_shows_in_our_own_pages_only(demo_app: Flask) -> None:
    application = _application()
    page = _page(demo_app, "qiye", f"/applications/{application.id}")
    attachment = re.findall(r'/attachments/(\d+)', page)[0]
    client = demo_app.test_client()
    sign_in(client, "qiye")
    _secured(client.get(f"/attachments/{attachment}"), "default-src 'none'; img-src 'self'; "
             "object-src 'self'; frame-ancestors 'self'")
