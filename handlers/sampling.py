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


def previous_month() -> str:
    local = now().replace(tzinfo=UTC).astimezone(BEIJING)
    first = local.replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


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
