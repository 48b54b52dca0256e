"""The client of the national platform's HTTP interface (JSON, bearer token, timeouts)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import current_app

_local = threading.local()


def _session() -> requests.Session:
    """This thread's HTTP session: its connections to the platform are kept between pushes."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


class NationalError(Exception):
    """The platform refused, failed or did not answer in time; the push will be retried."""


@dataclass
class NationalClient:
    base_url: str
    token: str | None = None
    timeout: float = 10.0
    session: requests.Session = field(default_factory=_session)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def push(self, idempotency_key: str, kind: str, project: dict[str, Any],
             payload: dict[str, Any]) -> dict[str, Any]:
        """Send one push; a repeated key returns the first answer (the platform dedups)."""
        body = {"idempotency_key": idempotency_key, "kind": kind, "project": project,
                "payload": payload}
        return self._call("POST", "/api/v1/pushes", json=body)

    def lookup(self, project_number: str) -> dict[str, Any] | None:
        """What the platform holds of a project, or None if it holds nothing."""
        try:
            return self._call("GET", f"/api/v1/projects/{project_number}")
        except NationalError as exc:
            if "404" in str(exc):
                return None
            raise

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = self.base_url.rstrip("/") + path
        try:
            response = self.session.request(method, url, headers=self._headers(),
                                            timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise NationalError(f"全国平台无法访问: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise NationalError(f"全国平台返回 {response.status_code}: {response.text[:300]}")
        return response.json()


def client() -> NationalClient:
    """The client configured for the current app (``CQPI_NATIONAL_URL`` and friends)."""
    cfg = current_app.config
    url = cfg.get("CQPI_NATIONAL_URL")
    if not url:
        raise NationalError("未配置全国平台地址 CQPI_NATIONAL_URL")
    return NationalClient(url, cfg.get("CQPI_NATIONAL_TOKEN"),
                          float(cfg.get("CQPI_NATIONAL_TIMEOUT", 10)))
