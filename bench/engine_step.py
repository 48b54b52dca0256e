"""Engine step: a persisted user-task completion, against a bare one-row-update transaction."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

import engine
from engine.db import db
from engine.models import UserTask

APPROVAL = Path(__file__).with_name("approval.bpmn")
BUDGET_RATIO = 3.0
"""DESIGN.md: an engine step costs at most 3x a bare one-row-update transaction."""


def catalog() -> engine.Catalog:
    cat = engine.Catalog()
    cat.add_form_keys(["bench_form"])
    return cat


def _timed(fns: tuple[Callable[[], Any], ...], n: int,
           progress: Callable[[int], None]) -> list[list[float]]:
    """Milliseconds of each of ``fns``, called in turn ``n`` times: the floor and the step
    interleaved see the same machine (a busy neighbour slows both, not one)."""
    samples: list[list[float]] = [[] for _ in fns]
    for i in range(n):
        for fn, out in zip(fns, samples, strict=True):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
        progress(i + 1)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


def run(app: Flask, n: int, progress: Callable[[str, int, int], None]) -> dict[str, Any]:
    """Measure ``n`` engine steps and ``n`` floor transactions on the app's database."""
    with app.app_context():
        engine.deploy([(APPROVAL.name, APPROVAL.read_bytes())], engine.catalog())
        db.session.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_floor "
                                   "(id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        db.session.execute(sa.text("DELETE FROM bench_floor"))
        db.session.execute(sa.text("INSERT INTO bench_floor (id, n) VALUES (1, 0)"))
        db.session.commit()
        task_ids: list[str] = []
        for i in range(n):
            inst = engine.start("approval", business_key=f"bench-{i}")
            task_ids.append(db.session.scalars(
                sa.select(UserTask.id).filter_by(instance_id=inst.id, status="open")).one())
            progress("seed", i + 1, n)

        def floor() -> None:
            db.session.execute(sa.text("UPDATE bench_floor SET n = n + 1 WHERE id = 1"))
            db.session.commit()

        steps = iter(task_ids)

        def step() -> None:
            engine.complete_task(next(steps), {"decision": "approve"}, actor="bench")

        floor_ms, step_ms = _timed((floor, step), n,
                                   lambda i: progress("floor and step, in turn", i, n))
    floor_s, step_s = summary(floor_ms), summary(step_ms)
    ratio = round(step_s["p50_ms"] / floor_s["p50_ms"], 2)
    return {"floor": floor_s, "step": step_s, "ratio_p50": ratio, "budget_ratio": BUDGET_RATIO,
            "met": ratio <= BUDGET_RATIO}
