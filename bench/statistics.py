"""The statistics dashboard's queries (issue 19, ``registry.statistics``) with about 1M
applications and instances (4M task rows, bench/inbox_seed.py: runs spread 4 minutes apart
from two years ago on, most approved, 16 % still waiting), for the city (every district) and
a district reviewer, over this year and over the whole history, on PostgreSQL and SQLite.
Each table's query is timed alone, in this process (no HTTP), each time in a transaction of
its own as at the end of a request."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from engine.db import db
from registry import statistics as st
from registry.models import User
from web import create_app

from . import inbox
from .support import Progress, app_config, db_name, figure, percentiles, pg_create, pg_drop, say

SIZES = {False: inbox.Sizes(4_000_000, 20_000, 10), True: inbox.Sizes(20_000, 500, 5)}
BUDGET_MS = 2000.0
"""A dashboard that takes more than two seconds to answer is not a dashboard."""


def run(tmp: Path, progress: Progress, quick: bool = False,
        backends: tuple[str, ...] = ("postgresql", "sqlite")) -> dict[str, Any]:
    sizes = SIZES[quick]
    result: dict[str, Any] = {"sizes": asdict(sizes)}
    for backend in backends:
        result[backend] = _on(backend, tmp, sizes, progress)
    result["figures"] = [
        figure(f"statistics.{backend}.{reader}.{period}.total_p50",
               f"statistics, all tables, {reader}, {period}, p50 ({backend})",
               result[backend]["timings"][reader][period]["total_p50_ms"], "ms", BUDGET_MS)
        for backend in backends for reader in ("city", "district")
        for period in ("this_year", "all_years")]
    result["notes"] = [
        f"{backend}: {r['seeded']['applications']} applications and instances, "
        f"{r['seeded']['tasks']} task rows ({r['seeded']['open_tasks']} open), seeded in "
        f"{r['seed_s']} s; no audit trail (durations count from submitted_at)"
        for backend, r in ((b, result[b]) for b in backends)]
    return result


def _on(backend: str, tmp: Path, sizes: inbox.Sizes, progress: Progress) -> dict[str, Any]:
    name = db_name("statistics")
    url = (pg_create(name) if backend == "postgresql"
           else f"sqlite:///{tmp / 'statistics.sqlite3'}")
    app = create_app(app_config(url, tmp))
    try:
        started = time.monotonic()
        say(f"  statistics ({backend}): migrate, deploy, seed {sizes.tasks} tasks in bulk")
        seeded = inbox._seed(app, sizes, progress)
        return {"seeded": seeded, "seed_s": round(time.monotonic() - started, 1),
                "timings": _timings(app, sizes.samples, progress)}
    finally:
        inbox._dispose(app)
        if backend == "postgresql":
            pg_drop(name)


def _timings(app: Flask, n: int, progress: Progress) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with app.app_context():
        db.session.add(User(username="bench-city", display_name="市级", password_hash="-",
                            role="city_reviewer"))
        db.session.commit()
        readers = {"city": "bench-city", "district": inbox.REVIEWER}
        for reader, username in readers.items():
            user = db.session.scalar(sa.select(User).filter_by(username=username))
            assert user is not None
            out[reader] = {}
            for period, args in (("this_year", {}),
                                 ("all_years", {"from": f"{st.today().year - 2}-01-01",
                                                "to": date(st.today().year + 6, 12, 31)
                                                .isoformat()})):
                q, problems = st.parse(args, user)
                assert not problems, problems
                out[reader][period] = _each_table(q, n, f"statistics {reader} {period}",
                                                  progress)
    return out


def _each_table(q: st.Query, n: int, phase: str, progress: Progress) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, make in st.TABLES.items():
        rows = len(make(q).rows)  # warm the cache and the connection
        db.session.rollback()
        samples = []
        for i in range(n):
            started = time.perf_counter()
            make(q)
            db.session.rollback()
            samples.append((time.perf_counter() - started) * 1000)
            progress(f"{phase}: {key}", i + 1, n)
        found[key] = {**percentiles(samples), "rows": rows}
    found["total_p50_ms"] = round(sum(v["p50_ms"] for v in found.values()), 1)
    return found
