"""Security headers on every answer: a Content-Security-Policy that runs only the app's own
script files, no framing by other sites, no sniffing, no referrer to other sites, and HSTS
when the session cookie is HTTPS-only. A header a view set itself is kept (a download's
sandbox, an attachment's preview policy)."""

from __future__ import annotations

from flask import Flask, Response, current_app

POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
))
"""The pages' Content-Security-Policy: no inline script or style, nothing from elsewhere
(bpmn-js's font comes as a data: URL, the pages show PDFs in same-origin iframes)."""

HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""What every answer carries unless its view said otherwise."""

HSTS = "max-age=31536000"
"""A year of HTTPS only, for this host alone (other hosts of the domain are not ours)."""

PREVIEW = "default-src 'none'; img-src 'self'; object-src 'self'; frame-ancestors 'self'"
"""The policy of an uploaded file shown in our own pages: nothing loads but the file itself
(Chromium's PDF viewer counts as an object of the file), framed only by our pages."""


def secure(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def previewable(response: Response) -> Response:
    """Let our own pages frame ``response`` (an uploaded file) under ``PREVIEW``."""
    response.headers["Content-Security-Policy"] = PREVIEW
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def init_app(app: Flask) -> None:
    app.after_request(secure)
