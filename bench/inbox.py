"""A district reviewer's inbox with 1M user-task rows: the first page of ``GET /api/v1/tasks``
over HTTP (gunicorn, PostgreSQL), with and without the API's filters, and the query alone
(``engine.queries.inbox``) on PostgreSQL and SQLite. Data: bench/inbox_seed.py."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from flask import Flask

import engine
from engine import queries
from engine.clock import now
from engine.db import db
from registry import users
from registry.models import Organisation
from web import create_app
from web.database import prepare

from . import inbox_seed
from .clients import Client, sign_in
from .support import (
    REPO,
    Processes,
    Progress,
    app_config,
    db_name,
    figure,
    gunicorn,
    percentiles,
    pg_create,
    pg_drop,
    say,
    server_env,
)

REVIEWER, PASSWORD, SCOPE = "bench-reviewer", "bench-password-2026", "500103"
GROUP = inbox_seed.DISTRICT
VARIANTS = {"first page": "", "jurisdiction filter": "?jurisdiction=500103",
            "process filter": "?process=intake", "overdue filter": "?overdue=true",
            "mine filter": "?mine=true"}
"""The API's first pages measured over HTTP: query string by name."""
BUDGET_P95 = 50.0
MIN_SAMPLES, SECONDS_PER_FIGURE = 100, 20.0


@dataclass
class Sizes:
    tasks: int
    projects: int
    samples: int  # per figure


SIZES = {False: Sizes(1_000_000, 20_000, 300), True: Sizes(20_000, 500, 30)}


def run(tmp: Path, progress: Progress, quick: bool = False,
        backends: tuple[str, ...] = ("postgresql", "sqlite")) -> dict[str, Any]:
    sizes = SIZES[quick]
    result: dict[str, Any] = {"sizes": asdict(sizes), "reviewer": f"{REVIEWER} "
                              f"(district_reviewer, {SCOPE}), group {GROUP}"}
    for backend in backends:
        result[backend] = _on(backend, tmp, sizes, progress)
    result["figures"] = _figures(result)
    result["notes"] = _notes(result)
    return result


def _notes(r: dict[str, Any]) -> list[str]:
    found = []
    for backend in ("postgresql", "sqlite"):
        if backend in r:
            seeded = r[backend]["seeded"]
            found.append(f"{backend}: {seeded['tasks']} task rows ({seeded['open_tasks']} open, "
                         f"{seeded['reviewer_open']} in the reviewer's inbox), "
                         f"{seeded['instances']} instances, seeded in {r[backend]['seed_s']} s")
    found.append(f"HTTP: GET /api/v1/tasks[?filter] (real API) as {r['reviewer']}")
    return found


def _on(backend: str, tmp: Path, sizes: Sizes, progress: Progress) -> dict[str, Any]:
    name = db_name("inbox")
    url = pg_create(name) if backend == "postgresql" else f"sqlite:///{tmp / 'inbox.sqlite3'}"
    procs = Processes(tmp)
    app = create_app(app_config(url, tmp))
    try:
        started = time.monotonic()
        say(f"  inbox ({backend}): migrate, deploy, seed {sizes.tasks} tasks in bulk")
        seeded = _seed(app, sizes, progress)
        out: dict[str, Any] = {"seeded": seeded,
                               "seed_s": round(time.monotonic() - started, 1),
                               "query": _query_alone(app, sizes.samples, progress)}
        if backend == "postgresql":
            _dispose(app)
            say("  inbox: gunicorn, 2 workers")
            base = gunicorn(procs, "web:create_app()", server_env(url, tmp), workers=2,
                            threads=2)
            out["http"] = _http(base, sizes.samples, progress)
        return out
    finally:
        procs.stop()
        _dispose(app)
        if backend == "postgresql":
            pg_drop(name)


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _seed(app: Flask, sizes: Sizes, progress: Progress) -> dict[str, int]:
    prepare(app)
    with app.app_context():
        files = sorted((REPO / "processes").glob("*.bpmn"))
        engine.deploy([(f.name, f.read_bytes()) for f in files], engine.catalog())
        org = Organisation(credit_code="91500000BENCHORG0", name="基准申报单位")
        db.session.add(org)
        db.session.flush()
        unit = users.create_user("bench-unit", PASSWORD, "enterprise", "基准申报员",
                                 organisation_id=org.id)
        users.create_user(REVIEWER, PASSWORD, "district_reviewer", "基准审核员",
                          jurisdiction_code=SCOPE)
        db.session.commit()
        people = inbox_seed.People(unit.id, REVIEWER, SCOPE)
        counts = inbox_seed.write(inbox_seed.Plan(people, sizes.projects), sizes.tasks,
                                  progress)
        counts["reviewer_open"] = queries.inbox_count(GROUP, SCOPE)
        return counts


def _timed(fn: Callable[[], Any], n: int, phase: str, progress: Progress) -> list[float]:
    """``n`` timings of ``fn``, or fewer (at least MIN_SAMPLES) once SECONDS_PER_FIGURE have
    gone by: the slow filters would otherwise take minutes."""
    samples: list[float] = []
    ends = time.monotonic() + SECONDS_PER_FIGURE
    while len(samples) < n and (len(samples) < MIN_SAMPLES or time.monotonic() < ends):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        progress(phase, len(samples), n)
    if len(samples) < n:
        progress(phase, len(samples), len(samples))  # ends the progress line
    return samples


def _query_alone(app: Flask, n: int, progress: Progress) -> dict[str, Any]:
    """``engine.queries.inbox`` as the API calls it, in this process (no HTTP)."""
    variants: dict[str, Callable[[], Any]] = {
        "first page": lambda: queries.inbox(GROUP, SCOPE),
        "jurisdiction filter": lambda: queries.inbox(GROUP, SCOPE, area=SCOPE),
        "process filter": lambda: queries.inbox(GROUP, SCOPE, process="intake"),
        "overdue filter": lambda: queries.inbox(GROUP, SCOPE, due_before=now()),
        "count (header badge)": lambda: queries.inbox_count(GROUP, SCOPE),
    }
    out = {}
    with app.app_context():
        for label, fn in variants.items():
            fn()  # warm the cache and the connection
            samples = _timed(_ending_transaction(fn), n, f"inbox query, {label}", progress)
            out[label] = percentiles(samples)
    return out


def _ending_transaction(fn: Callable[[], Any]) -> Callable[[], None]:
    """``fn``, then the end of its transaction (as at the end of a request)."""
    def call() -> None:
        fn()
        db.session.rollback()
    return call


def _http(base: str, n: int, progress: Progress) -> dict[str, Any]:
    client = Client(base, sign_in(base, REVIEWER, PASSWORD))
    out: dict[str, Any] = {"server": "gunicorn web:create_app(), 2 gthread workers x 2 "
                           "threads, keep-alive; one client",
                           "route": "GET /api/v1/tasks (real API, bearer token)"}
    try:
        for label, query in VARIANTS.items():
            for _ in range(5):
                _, page = client.call("GET", "/api/v1/tasks" + query)
            path = "/api/v1/tasks" + query
            samples = _timed(functools.partial(client.call, "GET", path), n,
                             f"inbox HTTP, {label}", progress)
            out[label] = {**percentiles(samples), "rows": len(page)}
    finally:
        client.close()
    return out


def _figures(r: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    http = r.get("postgresql", {}).get("http", {})
    for label in VARIANTS:
        if label in http:
            found.append(figure(f"inbox.http.{label.replace(' ', '_')}_p95",
                                f"inbox {label} over HTTP, p95 (PostgreSQL)",
                                http[label]["p95_ms"], "ms", BUDGET_P95))
    for backend in ("postgresql", "sqlite"):
        for label, stats in r.get(backend, {}).get("query", {}).items():
            found.append(figure(f"inbox.query.{backend}.{label.split(' (')[0].replace(' ', '_')}"
                                "_p95", f"inbox query alone, {label}, p95 ({backend})",
                                stats["p95_ms"], "ms"))
    return found
