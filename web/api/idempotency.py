"""Safe retries: the ``Idempotency-Key`` header on the API's POSTs (the convention of payment
APIs).

A POST that carries the header claims the key for its caller in a row of its own, committed
at once. A retry with the same key gets the first answer back (``Idempotent-Replayed:
true``) for at least ``KEEP`` instead of doing the work again; while the first request is in
flight, a retry gets 409 with ``Retry-After``; the same key with another method, path or body
is refused with 422.

The claim is marked committed inside the transaction that commits the request's work (a
``before_commit`` hook on the session every view uses), so the mark and the work are one.
If the answer is lost after that (the database went away before it could be stored), a retry
learns that the work was done (409 ``idempotency_outcome_unknown``) and it is never done
twice. If the work did not commit, the claim is released and a retry runs afresh; a claim
left by a process that died is taken over after ``ABANDONED_AFTER``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from apispec import BasePlugin
from flask import Flask, Response, g, has_request_context, jsonify, request
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.clock import now
from engine.db import Base, db
from web.addresses import client_address

from .auth import current_user

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEEP = timedelta(hours=24)
"""How long a key's first answer is replayed (rows older are purged by the scheduler tick)."""
ANSWER_GRACE = timedelta(seconds=5)
"""How long after its work committed a request is still taken to be writing its answer."""
ABANDONED_AFTER = timedelta(seconds=30)
"""A claim whose request neither committed nor answered in this time is taken over by a retry
(its process died, or the database went away before the claim could be released)."""
EXCLUDED = frozenset({"/api/v1/auth/token", "/api/v1/lookup"})
"""POSTs that ignore the header: signing in and looking a filing up are safe to repeat, and
their answers (a token, a filing's progress) are never stored."""
MAX_ANSWER = 1024 * 1024
"""Answers larger than this are not stored (a retry then learns only that the work was done)."""

_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class IdempotencyKey(Base):
    """One caller's key: what it was used for, whether its work committed, its answer."""

    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("caller", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    caller: Mapped[str] = mapped_column(sa.String(80))
    key: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)
    committed_at: Mapped[datetime | None]
    status: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(sa.String(100))
    location: Mapped[str | None] = mapped_column(sa.String(500))
    body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)


@dataclass
class Claim:
    id: int
    committed: bool = False


def init_app(app: Flask) -> None:
    app.before_request(claim_key)
    periodic = app.extensions["cqpi.catalog"].periodic
    if purge not in periodic:
        periodic.append(purge)
    app.after_request(settle)
    if not event.contains(db.session, "before_commit", _mark_committed):
        event.listen(db.session, "before_commit", _mark_committed)
        event.listen(db.session, "after_commit", _note_committed)


def applies() -> bool:
    """Whether this request takes part: a POST under /api/v1 with the header."""
    return (request.method == "POST" and request.path.startswith("/api/v1/")
            and request.path not in EXCLUDED and HEADER in request.headers)


def claim_key() -> Response | None:
    """Before the view: claim the key, or answer for it (replay, in flight, misused)."""
    if not applies():
        return None
    key = request.headers[HEADER]
    if not _KEY.fullmatch(key):
        return _refusal(400, "idempotency_key_invalid",
                        f"请求头 {HEADER} 应为 1 至 255 个可见 ASCII 字符")
    if _unreleased:
        _release_earlier()
    caller, fingerprint = _caller(), _fingerprint()
    for _attempt in range(3):
        row_id = _insert(caller, key, fingerprint)
        if row_id is not None:
            g.cqpi_idempotency = Claim(row_id)
            return None
        row = _existing(caller, key)
        outcome = None if row is None else _answer_for(row, fingerprint)
        if isinstance(outcome, Claim):
            g.cqpi_idempotency = outcome
            return None
        if outcome is not None:
            return outcome
        # else the row went (released, purged, expired) meanwhile: claim again
    return _in_flight()


def _caller() -> str:
    """Whose key it is: the signed-in user, else the bearer credential, else the address."""
    user = current_user()
    if user is not None:
        return f"user:{user.id}"
    credential = request.headers.get("Authorization", "")
    if credential:
        return "token:" + hashlib.sha256(credential.encode()).hexdigest()[:40]
    return f"addr:{client_address()}"


def _fingerprint() -> str:
    """What the request asks for: method, path and query, and its content (form fields and
    files' digests for multipart, whose boundary changes from one try to the next; parsed
    JSON in a canonical form; else the raw body)."""
    digest = hashlib.sha256(f"{request.method} {request.full_path}\n".encode())
    if request.mimetype == "multipart/form-data":
        for name, value in sorted((str(n), str(v)) for n, v in request.form.items(multi=True)):
            digest.update(json.dumps(["field", name, value]).encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda i: str(i[0])):
            content = upload.stream.read()
            upload.stream.seek(0)
            digest.update(json.dumps(["file", str(name), str(upload.filename),
                                      hashlib.sha256(content).hexdigest()]).encode())
    else:
        body = request.get_data(cache=True)
        parsed = request.get_json(silent=True) if request.is_json else None
        digest.update(body if parsed is None else
                      json.dumps(parsed, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def _insert(caller: str, key: str, fingerprint: str) -> int | None:
    """The new claim's id, committed at once on a connection of its own; None if taken."""
    try:
        with db.engine.begin() as conn:
            return conn.execute(sa.insert(IdempotencyKey).values(
                caller=caller, key=key, fingerprint=fingerprint, created_at=now())
                .returning(IdempotencyKey.id)).scalar_one()
    except IntegrityError:
        return None


def _existing(caller: str, key: str) -> Any:
    with db.engine.connect() as conn:
        return conn.execute(sa.select(IdempotencyKey.__table__).where(
            IdempotencyKey.caller == caller, IdempotencyKey.key == key)).first()


def _answer_for(row: Any, fingerprint: str) -> Response | Claim | None:
    """The answer to a retry of ``row``'s request, or the claim of an abandoned one taken
    over; None once the row expired (the caller claims again)."""
    moment = now()
    if row.created_at < moment - KEEP:
        _delete(row.id, row.created_at)
        return None
    if row.fingerprint != fingerprint:
        return _refusal(422, "idempotency_key_reused",
                        f"{HEADER} 已用于另一个请求（方法、地址或内容不同），请换一个新的键")
    if row.status is not None:
        return _replay(row)
    return _unanswered(row, moment)


def _unanswered(row: Any, moment: datetime) -> Response | Claim:
    """A retry of a request that has no stored answer: its work committed (the answer is
    being written, or was lost), it is in flight, or it was abandoned and is taken over."""
    if row.committed_at is not None:
        if row.committed_at > moment - ANSWER_GRACE:
            return _in_flight()
        return _refusal(409, "idempotency_outcome_unknown",
                        "该请求已执行（工作已提交），但当时的应答未能保存；请勿重复提交，"
                        "请查询对象的当前状态")
    if row.created_at < moment - ABANDONED_AFTER and _take_over(row):
        return Claim(row.id)
    return _in_flight()


def _take_over(row: Any) -> bool:
    with db.engine.begin() as conn:
        taken = conn.execute(sa.update(IdempotencyKey).where(
            IdempotencyKey.id == row.id, IdempotencyKey.created_at == row.created_at,
            IdempotencyKey.committed_at.is_(None), IdempotencyKey.status.is_(None))
            .values(created_at=now()))
    return bool(taken.rowcount)


def _delete(row_id: int, created_at: datetime) -> None:
    """Drop an expired key (unless a retry just renewed it)."""
    with db.engine.begin() as conn:
        conn.execute(sa.delete(IdempotencyKey).where(
            IdempotencyKey.id == row_id, IdempotencyKey.created_at == created_at))


def _replay(row: Any) -> Response:
    response = Response(row.body, status=row.status, content_type=row.content_type)
    if row.location:
        response.headers["Location"] = row.location
    response.headers[REPLAYED] = "true"
    return response


def _refusal(status: int, code: str, message: str) -> Response:
    response = jsonify({"message": message, "code": code})
    response.status_code = status
    return response


def _in_flight() -> Response:
    response = _refusal(409, "idempotency_in_flight",
                        f"使用相同 {HEADER} 的请求正在处理，请稍后重试")
    response.headers["Retry-After"] = "1"
    return response


def _mark_committed(session: Session) -> None:
    """In the transaction that commits the request's work: note that the work is done."""
    claim = _current_claim()
    if claim is not None and not claim.committed:
        session.execute(sa.update(IdempotencyKey).where(IdempotencyKey.id == claim.id)
                        .values(committed_at=now()))


def _note_committed(_session: Session) -> None:
    claim = _current_claim()
    if claim is not None:
        claim.committed = True


def _current_claim() -> Claim | None:
    return g.get("cqpi_idempotency") if has_request_context() else None


def settle(response: Response) -> Response:
    """After the view: store the answer of work that committed (or succeeded), release the
    claim of work that did not. A database that fails here leaves the answer as it was."""
    claim = _current_claim()
    if claim is None:
        return response
    g.pop("cqpi_idempotency")
    keep = claim.committed or 200 <= response.status_code < 300
    try:
        db.session.rollback()  # what the view left uncommitted would hold SQLite's write lock
        if keep and response.status_code < 500:
            _store(claim.id, response)
        elif not keep:
            _release([claim.id])
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises for a lost database
        log.warning("could not settle idempotency key %d: %s", claim.id,
                    str(exc).splitlines()[0][:300])
        if not keep and len(_unreleased) < MAX_UNRELEASED:
            _unreleased.add(claim.id)  # released by a later request once the database is back
    return response


_unreleased: set[int] = set()
"""Claims of this process whose work did not commit and that the database could not release
when they ended (it was going away): a later request releases them, so that a retry after
the outage runs at once instead of waiting ``ABANDONED_AFTER``."""
MAX_UNRELEASED = 10_000
_unreleased_lock = threading.Lock()


def _release(row_ids: list[int]) -> None:
    """Free claims whose work did not commit. A claim whose commit did land after all (the
    connection died before it was acknowledged) carries ``committed_at`` and is kept."""
    with db.engine.begin() as conn:
        conn.execute(sa.delete(IdempotencyKey).where(
            IdempotencyKey.id.in_(row_ids), IdempotencyKey.committed_at.is_(None),
            IdempotencyKey.status.is_(None)))


def _release_earlier() -> None:
    with _unreleased_lock:
        ids = sorted(_unreleased)
        try:
            _release(ids)
        except Exception:  # noqa: BLE001 - still away: the next request tries again
            return
        _unreleased.difference_update(ids)


def replay_instead(answer: dict[str, Any]) -> None:
    """What a retry gets instead of this answer, which holds a secret given once (a filing's
    check code): the secret is never stored, and the retry learns that it was given."""
    if _current_claim() is not None:
        g.cqpi_idempotency_replay = json.dumps(answer, ensure_ascii=False).encode()


def _store(row_id: int, response: Response) -> None:
    body = g.pop("cqpi_idempotency_replay", None) or response.get_data()
    if len(body) > MAX_ANSWER:
        return
    with db.engine.begin() as conn:
        conn.execute(sa.update(IdempotencyKey).where(IdempotencyKey.id == row_id).values(
            status=response.status_code, body=body, content_type=response.content_type,
            location=response.headers.get("Location")))


_last_purge = {"at": 0.0}
PURGE_EVERY = 600.0
"""Seconds between purges in one process (each purge is one indexed DELETE)."""


def purge() -> None:
    """Periodic (scheduler tick): drop keys older than ``KEEP``, at most every ten minutes."""
    if time.monotonic() - _last_purge["at"] < PURGE_EVERY:
        return
    _last_purge["at"] = time.monotonic()
    db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < now() - KEEP))
    db.session.commit()


class OpenAPIPlugin(BasePlugin):
    """Documents the header on every POST it applies to, in /api/v1/openapi.json."""

    def init_spec(self, spec: Any) -> None:
        super().init_spec(spec)
        spec.components.parameter("IdempotencyKey", "header", {
            "name": HEADER, "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": (
                "可选。客户端为每个操作生成的唯一键（如 UUID）；"
                "重试时带上同一个键，服务只执行一次。"
                f"{KEEP.total_seconds() / 3600:g} 小时内同一用户以同一键重试，返回第一次的应答"
                f"（带 {REPLAYED}: true）；第一次仍在处理时返回 409 idempotency_in_flight 与 "
                "Retry-After；工作已提交而应答丢失时返回 409 idempotency_outcome_unknown；"
                "同一键用于不同的请求返回 422 idempotency_key_reused。")})

    def operation_helper(self, path: str | None = None,
                         operations: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if operations and "post" in operations and path not in EXCLUDED:
            operations["post"].setdefault("parameters", []).append("IdempotencyKey")
