"""Which version of a process is current (the one new instances start), and making an earlier
version current again (rollback).

The one rule: the current version of a key is the one activated last (``activated_at``),
the highest version on a tie. Every caller asks here; running instances keep their version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from . import unit
from .clock import now
from .db import db
from .errors import NotFound
from .models import Definition

ORDER = (Definition.activated_at.desc(), Definition.version.desc())
"""The current version comes first in this order (per key)."""


@dataclass(frozen=True)
class Activation:
    key: str
    version: int
    before: int | None  # the version that was current until now
    changed: bool  # False when ``version`` already was the current one


def current(key: str) -> Definition:
    """The current version of process ``key`` (NotFound if it was never deployed)."""
    found = db.session.scalar(sa.select(Definition).filter_by(key=key).order_by(*ORDER).limit(1))
    if found is None:
        raise NotFound(f"流程“{key}”尚未部署")
    return found


def current_ids() -> sa.Subquery:
    """The ids of every key's current version, as a subquery with one column ``id``."""
    ranked = sa.select(Definition.id, sa.func.row_number().over(
        partition_by=Definition.key, order_by=ORDER).label("rank")).subquery()
    return sa.select(ranked.c.id).where(ranked.c.rank == 1).subquery()


def current_versions() -> dict[str, int]:
    """Process key -> its current version number, for every deployed process."""
    ids = current_ids()
    rows = db.session.execute(sa.select(Definition.key, Definition.version).join(
        ids, ids.c.id == Definition.id))
    return {key: version for key, version in rows}


def next_activation(key: str) -> datetime:
    """The time to activate a version of ``key`` with: now, or just after the current one's
    (a clock that was moved forward, or two activations in the same microsecond, must not
    leave the previous version current)."""
    last = db.session.scalar(sa.select(sa.func.max(Definition.activated_at)).filter_by(key=key))
    moment = now()
    return moment if last is None or moment > last else last + timedelta(microseconds=1)


def activate(key: str, version: int) -> Activation:
    """Make ``version`` of ``key`` the current one: instances started from now on use it,
    running ones keep theirs. Activating the current version changes nothing. Commits, unless
    inside a caller's unit of work. Raises NotFound for an unknown key or version."""
    target = db.session.scalar(sa.select(Definition).filter_by(key=key, version=version))
    if target is None:
        raise NotFound(f"流程 {key} 没有版本 {version}")
    before = current(key).version
    if before != version:
        target.activated_at = next_activation(key)
        db.session.flush()
    if not unit.active():
        db.session.commit()
    return Activation(key, version, before, before != version)
