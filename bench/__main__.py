"""``make bench``: measure the budgets of DESIGN.md, print them beside the budget, keep results.

Scenarios (``--only NAME`` runs one): ``engine_step`` (bench/engine_step.py, PostgreSQL and
SQLite), ``approval_http`` (bench/approval_http.py), ``inbox`` (bench/inbox.py; the query
alone on SQLite too), ``intake_e2e`` (bench/intake_e2e.py, with the storage and memory
figures of bench/footprint.py), ``reliability`` (bench/reliability.py: ``cqpi run``'s embedded
default under load), ``signin`` (bench/signin_storm.py: sign-in storms against it),
``statistics`` (bench/statistics.py: the statistics dashboard's queries over 1M applications).
``--quick`` runs every scenario small, as a smoke test.

Results go to bench/results/<date>-<commit>.json (``-quick`` / ``-<scenario>`` added for
quick and single-scenario runs); the newest earlier file of the same kind is compared with.
Every bench database is dropped and every process started is stopped, also on errors.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask

from engine.db import db
from web import create_app
from web.database import prepare

from . import (
    approval_http,
    engine_step,
    inbox,
    intake_e2e,
    reliability,
    report,
    signin_storm,
    statistics,
)
from .support import app_config, db_name, flush_redis, pg_create, pg_drop, progress, say

Scenario = Callable[[argparse.Namespace, Path], dict[str, Any]]


def _engine_step_on(backend: str, tmp: Path, n: int) -> dict[str, Any]:
    name = db_name("engine_step")
    url = pg_create(name) if backend == "postgresql" else f"sqlite:///{tmp / 'step.sqlite3'}"
    app: Flask | None = None
    try:
        app = create_app(app_config(url, tmp), catalog=engine_step.catalog())
        prepare(app)
        return engine_step.run(app, n, lambda phase, i, total: progress(
            f"engine step ({backend}): {phase}", i, total))
    finally:
        if app is not None:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        if backend == "postgresql":
            pg_drop(name)


def _engine_step(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    n = args.n or (50 if args.quick else 500)
    return {backend: _engine_step_on(backend, tmp, n) for backend in _backends(args)}


def _backends(args: argparse.Namespace) -> tuple[str, ...]:
    return ("postgresql", "sqlite") if args.backend == "both" else (args.backend,)


SCENARIOS: dict[str, Scenario] = {
    "engine_step": _engine_step,
    "approval_http": lambda args, tmp: approval_http.run(tmp, progress, args.quick),
    "inbox": lambda args, tmp: inbox.run(tmp, progress, args.quick, _backends(args)),
    "intake_e2e": lambda args, tmp: intake_e2e.run(tmp, progress, args.quick),
    "reliability": lambda args, tmp: reliability.run(tmp, progress, args.quick, args.seconds),
    "signin": lambda args, tmp: signin_storm.run(tmp, progress, args.quick),
    "statistics": lambda args, tmp: statistics.run(tmp, progress, args.quick, _backends(args)),
}


def _git(*args: str) -> str:
    out = subprocess.run(["git", *args], check=False, capture_output=True, text=True)
    return out.stdout.strip()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: a smoke run of every scenario (1-2 minutes)")
    parser.add_argument("--only", choices=sorted(SCENARIOS), help="run one scenario")
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both",
                        help="databases of the engine step and the inbox query alone")
    parser.add_argument("--n", type=int, default=None,
                        help="engine-step samples per figure (default 500, quick 50)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="length of the reliability scenario's load (default 60, quick 15)")
    return parser.parse_args()


def _run_all(args: argparse.Namespace, results: dict[str, Any], tmp: Path) -> None:
    for name in [args.only] if args.only else list(SCENARIOS):
        say(f"== {name}")
        started = time.monotonic()
        where = tmp / name
        where.mkdir()
        try:
            results[name] = SCENARIOS[name](args, where)
        except Exception as exc:  # report it and go on with the other scenarios
            traceback.print_exc()
            results["errors"][name] = f"{type(exc).__name__}: {exc}"
        results["durations_s"][name] = round(time.monotonic() - started, 1)
        say(f"   {name}: {results['durations_s'][name]} s")


def _stop_on_sigterm() -> None:
    """SIGTERM ends the run like Ctrl-C, so that every finally stops its processes and drops
    its database."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def main() -> None:
    args = _arguments()
    _stop_on_sigterm()
    before = report.previous(args.quick)
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD") or "unknown",
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "quick": args.quick, "only": args.only,
        "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()},
        "durations_s": {}, "errors": {}}
    flush_redis()
    try:
        with tempfile.TemporaryDirectory(prefix="cqpi-bench-") as tmp:
            _run_all(args, results, Path(tmp))
    finally:
        flush_redis()
    results["machine"]["load_after"] = os.getloadavg()
    results["durations_s"]["total"] = round(time.monotonic() - started, 1)
    figures = report.engine_step_figures(results.get("engine_step", {}))
    for name in report.SCENARIOS_WITH_FIGURES:
        figures += results.get(name, {}).get("figures", [])
    results["figures"] = figures
    report.print_table(results, before)
    path = report.write(results)
    load = results["machine"]
    print(f"\nresults written to bench/results/{path.name} ({results['durations_s']['total']} s; "
          f"load average {load['load_before'][0]:.1f} before, {load['load_after'][0]:.1f} after, "
          f"{load['cpus']} cpus)")
    sys.exit(1 if results["errors"] else 0)


if __name__ == "__main__":
    main()
