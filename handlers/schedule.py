"""Periodic starts: the monthly sampling (R-SUP-2) on ``CQPI_SAMPLING_DAY`` of each month
(default the 1st; 0 turns the automatic start off), and the one function that starts a
month's sampling, for the scheduler tick, the API and the pages alike."""

from __future__ import annotations

import time
from datetime import UTC, timedelta

import sqlalchemy as sa
from flask import current_app

import engine
from engine.clock import now
from engine.db import db
from engine.models import Instance, ScheduledRun
from engine.schedule import claim, release
from registry.calendar import BEIJING

from .sampling import monthly_key, previous_month

MONTHLY_SAMPLING = "monthly_sampling"
"""The process id of the monthly sampling and the name of its claim (one per period)."""

WAIT_SECONDS = 10.0
"""How long a caller waits for the start another caller has claimed to become visible."""

STALE_CLAIM = timedelta(minutes=5)
"""A claim this old with no instance belongs to a caller that died between claim and start:
it is given up, so that the month can still be started."""


class StartPending(engine.Conflict):
    """Another caller has claimed the month and its instance is not visible yet."""


def start_monthly_sampling(period: str, actor: str, *,
                           wait: float | None = None) -> tuple[Instance, bool]:
    """Start the sampling of ``period`` (``YYYY-MM``) once, cluster-wide: the instance and
    whether this call started it. A later call, or one that loses a race, gets the instance
    the first call started; StartPending if that does not appear within ``wait`` seconds
    (default WAIT_SECONDS)."""
    key = monthly_key(period)
    deadline = time.monotonic() + (WAIT_SECONDS if wait is None else wait)
    while True:
        existing = engine.instance_by_key(key)
        if existing is not None:
            return existing, False
        if claim(MONTHLY_SAMPLING, period):
            return _start(period, key, actor)
        if _claim_gone(period):
            continue
        if time.monotonic() >= deadline:
            raise StartPending(f"{period} 月度抽查正在启动，请稍后刷新查看")
        db.session.rollback()  # end the read transaction: the next look sees the newest rows
        time.sleep(0.05)


def _start(period: str, key: str, actor: str) -> tuple[Instance, bool]:
    """Start the claimed month; the claim is given back if the start fails."""
    try:
        instance = engine.start(MONTHLY_SAMPLING, business_key=key, scope="city",
                                data={"period": period}, actor=actor)
    except engine.Conflict:
        # an active instance with this key exists (the database allows one): it is the one
        existing = engine.instance_by_key(key)
        if existing is None:
            raise
        return existing, False
    except BaseException:
        release(MONTHLY_SAMPLING, period)  # a later call or tick tries again
        raise
    return instance, True


def _claim_gone(period: str) -> bool:
    """True if the month's claim is no longer there to wait for: given back after a failed
    start, or given up here because it is older than STALE_CLAIM (only such a claim is
    deleted: a fresh one taken meanwhile by someone else stays)."""
    claimed_at = db.session.scalar(sa.select(ScheduledRun.created_at).filter_by(
        name=MONTHLY_SAMPLING, period=period))
    if claimed_at is None:
        return True
    if claimed_at >= now() - STALE_CLAIM:
        return False
    dropped = db.session.execute(sa.delete(ScheduledRun).where(
        ScheduledRun.name == MONTHLY_SAMPLING, ScheduledRun.period == period,
        ScheduledRun.created_at < now() - STALE_CLAIM))
    db.session.commit()
    return bool(getattr(dropped, "rowcount", 0))


def monthly_sampling_due() -> bool:
    """Start last month's sampling once, on or after the configured day; True if started."""
    day = int(current_app.config.get("CQPI_SAMPLING_DAY", 1))
    today = now().replace(tzinfo=UTC).astimezone(BEIJING)
    if day == 0 or today.day < day:
        return False
    try:
        _instance, started = start_monthly_sampling(previous_month(), "scheduler", wait=0)
    except StartPending:
        return False  # another worker is starting it
    return started
