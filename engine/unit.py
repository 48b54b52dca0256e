"""A caller-owned unit of work: engine operations (start, complete, correlate) run inside it
write their rows without committing, so that the caller's own writes and the procedure's
step are one commit, or nothing.

What must wait for the commit (enqueueing the step's jobs, keeping its workflow warm) is
deferred to it; outside a unit of work each operation commits by itself as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .db import db

_KEY = "cqpi.unit_of_work"


def active() -> bool:
    """Whether a unit of work is open on this session."""
    return _KEY in db.session.info


@contextmanager
def transaction() -> Iterator[None]:
    """Commit everything written inside at the end, then run what waited for the commit;
    roll everything back on any exception. A nested call joins the outer unit."""
    if active():
        yield
        return
    pending: list[Callable[[], object]] = []
    db.session.info[_KEY] = pending
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        db.session.info.pop(_KEY, None)
    for action in pending:
        action()


def after_commit(action: Callable[[], object]) -> None:
    """Run ``action`` once the unit of work commits, or now when none is open (the caller
    has just committed)."""
    if active():
        db.session.info[_KEY].append(action)
    else:
        action()
