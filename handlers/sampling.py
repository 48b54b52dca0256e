"""``sampling.in_process``: the city's ≥10% draw among the items each district reports
(R-SUP-6, A-5).

Each district and month has one recorded draw: its secret seed, the items in the order they
came (population) and those drawn. An item is drawn when a keyed hash of it falls in the
lucky tenth, or when fewer than ceil(10%) of the items so far have been drawn; so the share
never falls below 10%, which items are drawn cannot be foreseen without the seed, and every
decision can be derived again from what is recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine.clock import now
from engine.db import db
from engine.models import (
    Event,
    Instance,
    InstanceStatus,
    Job,
    JobStatus,
    UserTask,
    WaitStatus,
)
from forms.sampling_api import last_month
from registry import jurisdictions
from registry.calendar import BEIJING
from registry.models import Application, AppStatus, Project, SamplingDraw

from . import params as params_

RATE = 0.1
"""At least this share of each district's items per period is drawn (R-SUP-6)."""


def lucky(seed: str, item: int) -> bool:
    digest = hmac.new(seed.encode(), str(item).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % 10 == 0


def replay(seed: str, population: list[int]) -> list[int]:
    """The items drawn from ``population`` (in arrival order) with ``seed``."""
    drawn: list[int] = []
    for count, item in enumerate(population, start=1):
        if lucky(seed, item) or len(drawn) < math.ceil(count * RATE):
            drawn.append(item)
    return drawn


def _period() -> str:
    return now().replace(tzinfo=UTC).astimezone(BEIJING).strftime("%Y-%m")


def _draw(kind: str, period: str, scope: str) -> SamplingDraw:
    query = sa.select(SamplingDraw).filter_by(kind=kind, period=period, scope=scope)
    draw = db.session.scalar(query.with_for_update())
    if draw is not None:
        return draw
    draw = SamplingDraw(kind=kind, period=period, scope=scope, population=[],
                        seed=secrets.token_hex(16), quota=0, drawn=[])
    db.session.add(draw)
    db.session.flush()  # a worker creating the same draw at once fails here; its job retries
    return draw


def in_process(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Decide (once) whether this application is drawn for the city's check."""
    application = params_.application(params)
    scope = application.project.managing_code or "city"
    draw = _draw("in_process", _period(), scope)
    if application.id not in draw.population:
        population = [*draw.population, application.id]
        draw.population = population
        draw.drawn = replay(draw.seed, population)
        draw.quota = math.ceil(len(population) * RATE)
    sampled = application.id in draw.drawn
    db.session.commit()
    return {"sampled": sampled, "sampling_draw_id": draw.id}


MONTHLY_KINDS = ("intake", "backfill")
"""R-SUP-2: the monthly draw is among the district-managed intake and backfill entries."""


def monthly_key(period: str) -> str:
    """The business key of the monthly sampling of ``period`` (one instance per month)."""
    return f"monthly-sampling-{period}"


def previous_month() -> str:
    """Last month (Beijing time), the one the scheduler samples."""
    return last_month()


def _month_bounds(period: str) -> tuple[datetime, datetime]:
    start = datetime.strptime(period + "-01", "%Y-%m-%d").replace(tzinfo=BEIJING)
    end = (start + timedelta(days=32)).replace(day=1)
    return (start.astimezone(UTC).replace(tzinfo=None), end.astimezone(UTC).replace(tzinfo=None))


def monthly_draw(period: str, rng_seed: str, population: list[int]) -> list[int]:
    """The monthly draw: ceil(10%) of ``population``, chosen by ``rng_seed`` (re-derivable)."""
    quota = math.ceil(len(population) * RATE)
    return sorted(random.Random(f"{period}:{rng_seed}").sample(sorted(population), quota))


def monthly(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """R-SUP-2 / A-5: for each district with entries in ``period``, draw at least ceil(10%)
    of its entries (once per district and month; the draw is recorded)."""
    period = str(params.get("period") or previous_month())
    start, end = _month_bounds(period)
    rows = db.session.execute(
        sa.select(Application.id, Application.project_id, Project.managing_code)
        .join(Project, Project.id == Application.project_id)
        .where(Application.kind.in_(MONTHLY_KINDS), Application.status == AppStatus.APPROVED,
               Application.decided_at >= start, Application.decided_at < end,
               Project.city_managed.is_(False))).all()
    by_scope: dict[str, dict[int, int]] = {}
    for app_id, project_id, scope in rows:
        by_scope.setdefault(str(scope), {})[app_id] = project_id
    items = []
    for scope, entries in sorted(by_scope.items()):
        draw = db.session.scalar(sa.select(SamplingDraw).filter_by(
            kind="monthly", period=period, scope=scope))
        if draw is None:
            population = sorted(entries)
            seed = secrets.token_hex(16)
            draw = SamplingDraw(kind="monthly", period=period, scope=scope,
                                population=population, seed=seed,
                                quota=math.ceil(len(population) * RATE),
                                drawn=monthly_draw(period, seed, population))
            db.session.add(draw)
            db.session.flush()
        items += [{"application_id": a, "project_id": entries.get(a), "scope": scope,
                   "draw_id": draw.id} for a in draw.drawn]
    db.session.commit()
    return {"sampling_period": period, "drawn_items": items}


MONTHLY_OPERATION = "sampling.monthly"

DRAW_STATUS = {"drawing": "抽取中", "drawn": "已抽取", "error": "抽取失败，等待运维处理",
               "suspended": "已挂起", "terminated": "已终止"}
"""Where a month's draw stands (``draw_status``), as people read it."""


def draw_status(instance: Instance, job_status: str | None) -> str:
    """``drawn`` once the draw job has advanced the instance; before that, the instance's
    own trouble (error, suspended, terminated) or ``drawing``."""
    if job_status == JobStatus.DONE:
        return "drawn"
    if instance.status in (InstanceStatus.ERROR, InstanceStatus.SUSPENDED,
                           InstanceStatus.TERMINATED):
        return str(instance.status)
    return "drawing"


def _draw_jobs(instance_ids: list[int]) -> dict[int, str]:
    rows = db.session.execute(sa.select(Job.instance_id, Job.status).where(
        Job.instance_id.in_(instance_ids), Job.operation == MONTHLY_OPERATION)
        .order_by(Job.id)).all()
    return {instance_id: status for instance_id, status in rows}  # the newest job wins


def _draws(periods: list[str]) -> dict[str, list[SamplingDraw]]:
    out: dict[str, list[SamplingDraw]] = {}
    for draw in db.session.scalars(sa.select(SamplingDraw).where(
            SamplingDraw.kind == "monthly", SamplingDraw.period.in_(periods))
            .order_by(SamplingDraw.scope)):
        out.setdefault(draw.period, []).append(draw)
    return out


def monthly_report(period: str) -> dict[str, Any] | None:
    """The sampling of ``period`` as started: its instance, where the draw stands and, once
    drawn, per district the population, the sample size ceil(10%), the seed and the drawn
    entries with their projects; None if that month was never started."""
    instance = db.session.scalar(sa.select(Instance).filter_by(business_key=monthly_key(period))
                                 .order_by(Instance.id.desc()).limit(1))
    if instance is None:
        return None
    status = draw_status(instance, _draw_jobs([instance.id]).get(instance.id))
    draws = _draws([period]).get(period, []) if status == "drawn" else []
    drawn_ids = [a for draw in draws for a in draw.drawn]
    entries = {row.id: row for row in db.session.execute(
        sa.select(Application.id, Application.kind, Application.project_id,
                  Project.project_number, Project.name.label("project_name"))
        .join(Project, Project.id == Application.project_id)
        .where(Application.id.in_(drawn_ids)))} if drawn_ids else {}
    districts = [{
        "scope": draw.scope, "name": jurisdictions.name_of(draw.scope),
        "population_size": len(draw.population), "sample_size": draw.quota,
        "seed": draw.seed, "population": draw.population, "drawn_at": draw.created_at,
        "drawn": [{"application_id": a, "kind": getattr(entries.get(a), "kind", None),
                   "project_id": getattr(entries.get(a), "project_id", None),
                   "project_number": getattr(entries.get(a), "project_number", None),
                   "project_name": getattr(entries.get(a), "project_name", None)}
                  for a in draw.drawn]} for draw in draws]
    started_by = db.session.scalar(sa.select(Event.actor).filter_by(
        instance_id=instance.id, kind="instance_started").limit(1))
    open_checks = db.session.scalar(sa.select(sa.func.count(UserTask.id)).filter_by(
        instance_id=instance.id, status=WaitStatus.OPEN)) or 0
    return {"period": period, "status": status, "status_label": DRAW_STATUS[status],
            "instance": {"id": instance.id, "status": instance.status,
                         "started_at": instance.started_at, "ended_at": instance.ended_at,
                         "started_by": started_by},
            "population_size": sum(d["population_size"] for d in districts),
            "sample_size": sum(d["sample_size"] for d in districts),
            "open_checks": open_checks, "districts": districts}


def monthly_periods(limit: int = 240) -> list[dict[str, Any]]:
    """The months whose sampling was started, newest month first, each with where its draw
    stands and its totals."""
    instances = db.session.scalars(sa.select(Instance).where(
        Instance.business_key.like(monthly_key("%"))).order_by(
        Instance.business_key.desc(), Instance.id.desc()).limit(limit)).all()
    newest: dict[str, Instance] = {}
    for instance in instances:
        newest.setdefault(str(instance.business_key).removeprefix(monthly_key("")), instance)
    jobs = _draw_jobs([i.id for i in newest.values()])
    draws = _draws(list(newest))
    out = []
    for period, instance in newest.items():
        status = draw_status(instance, jobs.get(instance.id))
        shown = draws.get(period, []) if status == "drawn" else []
        out.append({"period": period, "status": status, "status_label": DRAW_STATUS[status],
                    "instance": {"id": instance.id, "status": instance.status,
                                 "started_at": instance.started_at,
                                 "ended_at": instance.ended_at, "started_by": None},
                    "districts": len(shown),
                    "population_size": sum(len(d.population) for d in shown),
                    "sample_size": sum(d.quota for d in shown)})
    return out
