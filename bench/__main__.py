"""``make bench``: measure the budgets of DESIGN.md, print them beside the budget, keep results.

Results go to bench/results/<date>-<commit>.json; the previous file is compared with.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask

from engine.db import db
from web import create_app
from web.database import prepare

from . import engine_step

RESULTS = Path(__file__).with_name("results")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/cqpi_bench"


def progress(phase: str, i: int, n: int) -> None:
    if i == n or i % max(1, n // 10) == 0:
        print(f"\r  {phase}: {i}/{n}", end="\n" if i == n else "", file=sys.stderr, flush=True)


def _app(backend: str, tmp: Path) -> Flask:
    if backend == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS cqpi_bench WITH (FORCE)")
            conn.execute("CREATE DATABASE cqpi_bench")
        url = PG_URL
        options: dict[str, Any] = {"pool_pre_ping": True}
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        options = {"connect_args": {"timeout": 30}}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options,
                      "REDIS_URL": None, "SECRET_KEY": "bench", "CQPI_DATA_DIR": str(tmp)},
                     catalog=engine_step.catalog())
    prepare(app)
    return app


def _close(app: Flask, backend: str) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if backend == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS cqpi_bench WITH (FORCE)")


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False,
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def _previous() -> dict[str, Any] | None:
    files = sorted(RESULTS.glob("*.json"))
    return json.loads(files[-1].read_text()) if files else None


def _report(results: dict[str, Any], before: dict[str, Any] | None) -> None:
    print("\n| scenario | figure | budget | result | previous |")
    print("|---|---|---|---|---|")
    for backend, res in results["engine_step"].items():
        prev = (before or {}).get("engine_step", {}).get(backend)
        figure = (f"step p50 {res['step']['p50_ms']} ms, floor p50 {res['floor']['p50_ms']} ms"
                  f" = {res['ratio_p50']}x")
        was = f"{prev['ratio_p50']}x" if prev else "-"
        verdict = "met" if res["met"] else "MISSED"
        print(f"| engine step ({backend}) | {figure} | <= {res['budget_ratio']}x "
              f"| {verdict} | {was} |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--n", type=int, default=500, help="samples per figure")
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both")
    args = parser.parse_args()
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    before = _previous()
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "commit": _commit(), "engine_step": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            print(f"engine step on {backend}", file=sys.stderr)
            app = _app(backend, Path(tmp))
            try:
                results["engine_step"][backend] = engine_step.run(app, args.n, progress)
            finally:
                _close(app, backend)
    _report(results, before)
    RESULTS.mkdir(exist_ok=True)
    name = f"{results['date'][:10]}-{results['commit']}.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nresults written to bench/results/{name}")


if __name__ == "__main__":
    main()
