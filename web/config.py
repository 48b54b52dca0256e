"""Settings read from the environment: DATABASE_URL, REDIS_URL, PORT, CQPI_DATA_DIR, SECRET_KEY."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .addresses import trusted_proxies

PASSED_THROUGH = ("CQPI_BACKFILL_DEADLINE", "CQPI_MAX_UPLOAD_BYTES", "CQPI_JOB_MAX_ATTEMPTS",
                  "CQPI_JOB_BACKOFF_SECONDS", "CQPI_QUEUE_NAME", "CQPI_PUBLICITY",
                  "CQPI_NATIONAL_URL", "CQPI_NATIONAL_TOKEN", "CQPI_NATIONAL_TIMEOUT",
                  "CQPI_SAMPLING_DAY", "CQPI_PERMIT_TOKEN", "CQPI_METRICS_TOKEN",
                  "CQPI_WORKFLOW_CACHE", "CQPI_TICK_SECONDS", "CQPI_SESSION_HOURS",
                  "CQPI_SESSION_IDLE_MINUTES", "CQPI_SECURE_COOKIES", "CQPI_STEP_MAX_ELEMENTS",
                  "CQPI_STEP_MAX_SECONDS", "CQPI_TRUSTED_PROXIES")
"""Settings taken from the environment as they are (the modules that use them parse them)."""


def data_dir(environ: Mapping[str, str]) -> Path:
    """Where uploads and the embedded SQLite file live (created on first use)."""
    path = Path(environ.get("CQPI_DATA_DIR") or Path.cwd() / "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(environ: Mapping[str, str], data: Path) -> str:
    url = environ.get("DATABASE_URL") or f"sqlite:///{data / 'cqpi.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _secret_key(environ: Mapping[str, str], data: Path) -> str:
    if environ.get("SECRET_KEY"):
        return environ["SECRET_KEY"]
    keyfile = data / "secret_key"
    if not keyfile.exists():
        keyfile.write_text(secrets.token_hex(32))
        keyfile.chmod(0o600)
    return keyfile.read_text().strip()


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    data = data_dir(env)
    url = database_url(env, data)
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        options = {"connect_args": {"timeout": 30, "check_same_thread": False}}
    passed = {k: env[k] for k in PASSED_THROUGH if env.get(k)}
    trusted_proxies(env.get("CQPI_TRUSTED_PROXIES"))  # a wrong entry stops the start, named
    return {
        **passed,
        "CQPI_DATA_DIR": str(data),
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": options,
        "REDIS_URL": env.get("REDIS_URL") or None,
        "SECRET_KEY": _secret_key(env, data),
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    }
