"""Signed-in sessions, kept on the server: a page session (its id in the signed cookie) or an
API token (its id in the signed token). Sign-out and an admin's revocation end them here, so a
copied cookie or token dies with its row.

A session is live until it is revoked, passes its absolute end (``CQPI_SESSION_HOURS``) or
stays unused for longer than ``CQPI_SESSION_IDLE_MINUTES``. Its id is a random secret that
only the cookie or token carries; the table keeps its SHA-256. Time here is the wall clock,
not the engine's (which tests and demos move forward to fire timers).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, db

from . import audit
from .models import User

PAGE = "page"
API = "api"
EXPIRED = "登录已过期，请重新登录"
"""What a request with an ended sign-in is told."""

TOUCH_EVERY = timedelta(minutes=1)
"""How stale ``last_seen_at`` may get before a request writes it again (no write per request)."""
KEEP_DEAD = timedelta(days=1)
"""How long an ended session's row stays (for the audit of who was signed in) before a
sign-in of its user prunes it."""


class AuthSession(Base):
    """One sign-in of one user, from one address, until it ends."""

    __tablename__ = "auth_session"
    __table_args__ = (sa.CheckConstraint("kind IN ('page', 'api')", name="kind"),)

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # SHA-256 of the secret
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    address: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


def wall_now() -> datetime:
    """The current time in UTC, without tzinfo (never shifted by ``engine.clock.travel``)."""
    return datetime.now(UTC).replace(tzinfo=None)


def lifetime() -> timedelta:
    """The absolute lifetime of a session (``CQPI_SESSION_HOURS``)."""
    return timedelta(hours=float(current_app.config["CQPI_SESSION_HOURS"]))


def idle_limit() -> timedelta:
    """How long a session may go unused (``CQPI_SESSION_IDLE_MINUTES``)."""
    return timedelta(minutes=float(current_app.config["CQPI_SESSION_IDLE_MINUTES"]))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(user: User, kind: str, address: str | None) -> str:
    """A new session of ``user`` (in the caller's transaction): its secret. Prunes the user's
    sessions that ended over ``KEEP_DEAD`` ago."""
    moment = wall_now()
    _prune(user.id, moment)
    secret = secrets.token_urlsafe(32)
    db.session.add(AuthSession(id=_digest(secret), user_id=user.id, kind=kind,
                               address=(address or "")[:64] or None, created_at=moment,
                               last_seen_at=moment, expires_at=moment + lifetime()))
    return secret


def _prune(user_id: int, moment: datetime) -> None:
    cutoff = moment - KEEP_DEAD
    db.session.execute(sa.delete(AuthSession).where(
        AuthSession.user_id == user_id,
        sa.or_(AuthSession.expires_at < cutoff, AuthSession.revoked_at < cutoff,
               AuthSession.last_seen_at < cutoff - idle_limit())))


def user_of(secret: str, kind: str) -> User | None:
    """The active user of the live session ``secret`` (one query, the session joined with its
    user), else None. Notes the use at most every ``TOUCH_EVERY``, on a connection of its own
    so that the request's transaction is left alone."""
    found = db.session.execute(
        sa.select(AuthSession.id, AuthSession.last_seen_at, AuthSession.expires_at,
                  AuthSession.revoked_at, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.id == _digest(secret), AuthSession.kind == kind)).first()
    if found is None:
        return None
    row_id, last_seen, expires, revoked, user = found
    moment = wall_now()
    if revoked is not None or expires <= moment or last_seen <= moment - idle_limit():
        return None
    if not user.active:
        return None
    if last_seen <= moment - TOUCH_EVERY:
        with db.engine.begin() as conn:
            conn.execute(sa.update(AuthSession).where(
                AuthSession.id == row_id, AuthSession.last_seen_at < moment - TOUCH_EVERY)
                .values(last_seen_at=moment))
    return user


def revoke(secret: str) -> None:
    """End one session (sign-out; in the caller's transaction)."""
    db.session.execute(sa.update(AuthSession).where(
        AuthSession.id == _digest(secret), AuthSession.revoked_at.is_(None))
        .values(revoked_at=wall_now()))


def revoke_all(user: User, actor: str) -> int:
    """End every page session and API token of ``user`` that has not ended, audited as done
    by ``actor`` (in the caller's transaction): how many there were."""
    moment = wall_now()
    ended = int(db.session.execute(sa.update(AuthSession).where(  # type: ignore[attr-defined]
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > moment).values(revoked_at=moment)).rowcount)
    audit.record(actor, "sessions_revoked", f"user:{user.id}",
                 {"username": user.username, "ended": ended})
    return ended
