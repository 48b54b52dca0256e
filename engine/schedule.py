"""Periodic work that must happen once per period across every worker (e.g. the monthly
sampling): the first worker to insert the (name, period) row does it, the others skip."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from .db import db
from .models import ScheduledRun

log = logging.getLogger(__name__)

Periodic = Callable[[], object]
"""A function the scheduler tick calls every time; it decides itself whether work is due."""


def claim(name: str, period: str) -> bool:
    """True for the one caller that gets to run ``name`` for ``period``."""
    db.session.add(ScheduledRun(name=name, period=period))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def release(name: str, period: str) -> None:
    """Give a claimed run back (its work failed), so that a later tick tries again."""
    db.session.rollback()
    run = db.session.get(ScheduledRun, (name, period))
    if run is not None:
        db.session.delete(run)
        db.session.commit()


def run_all(periodic: list[Periodic]) -> None:
    """Call each periodic function; one that fails is logged and does not stop the others."""
    for fn in periodic:
        try:
            fn()
        except Exception:
            db.session.rollback()
            log.exception("periodic %s failed", getattr(fn, "__name__", fn))
