"""A simulator of the national platform for development, demos and tests (``cqpi national-sim``).

It stores what it receives (a repeated idempotency key gets the first answer back and is
not stored twice), answers project look-ups, and can be told to fail, to be slow, or to
time out: ``POST /_control {"fail_next": 3}`` or ``{"delay_seconds": 5}``.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, request


@dataclass
class State:
    token: str | None = None
    pushes: dict[str, dict[str, Any]] = field(default_factory=dict)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next: int = 0
    delay_seconds: float = 0.0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


bp = Blueprint("national_sim", __name__)


def _state() -> State:
    return current_app.extensions["national_sim"]


@bp.before_request
def _authorize() -> None:
    state = _state()
    if request.path.startswith("/api/") and state.token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given, state.token):
            abort(401)


def _misbehave(state: State) -> Any:
    with state.lock:
        state.requests += 1
        failing = state.fail_next > 0
        if failing:
            state.fail_next -= 1
        delay = state.delay_seconds
    if delay:
        time.sleep(delay)
    if failing:
        return jsonify(error="模拟故障: 全国平台暂时不可用"), 503
    return None


@bp.post("/api/v1/pushes")
def push():
    state = _state()
    failure = _misbehave(state)
    if failure is not None:
        return failure
    body = request.get_json(silent=True) or {}
    key = body.get("idempotency_key")
    if not key or not isinstance(body.get("project"), dict):
        return jsonify(error="缺少 idempotency_key 或 project"), 400
    with state.lock:
        if key in state.pushes:
            return jsonify({**state.pushes[key]["answer"], "replayed": True}), 200
        national_id = f"NP{len(state.pushes) + 1:010d}"
        answer = {"national_id": national_id,
                  "received_at": datetime.now(UTC).isoformat(timespec="seconds")}
        state.pushes[key] = {"body": body, "answer": answer}
        number = body["project"].get("project_number")
        if number:
            held = state.projects.setdefault(number, {"project_number": number, "stages": {},
                                                      "used_for_qualification": []})
            for stage, grade in (body.get("payload", {}).get("grades") or {}).items():
                held["stages"][stage] = grade
    return jsonify(answer), 201


@bp.get("/api/v1/projects/<number>")
def project(number: str):
    failure = _misbehave(_state())
    if failure is not None:
        return failure
    held = _state().projects.get(number)
    if held is None:
        return jsonify(error="全国平台无此项目"), 404
    return jsonify(held)


@bp.put("/api/v1/projects/<number>")
def seed(number: str):
    """Set what the platform holds of a project (tests and demos)."""
    body = request.get_json(silent=True) or {}
    with _state().lock:
        _state().projects[number] = {"project_number": number,
                                     "stages": body.get("stages", {}),
                                     "used_for_qualification": body.get("used_for_qualification",
                                                                        [])}
    return jsonify(_state().projects[number])


@bp.post("/_control")
def control():
    body = request.get_json(silent=True) or {}
    state = _state()
    with state.lock:
        state.fail_next = int(body.get("fail_next", state.fail_next))
        state.delay_seconds = float(body.get("delay_seconds", state.delay_seconds))
    return jsonify(fail_next=state.fail_next, delay_seconds=state.delay_seconds)


@bp.get("/_pushes")
def received():
    return jsonify([{"idempotency_key": k, **v} for k, v in _state().pushes.items()])


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def create_simulator(token: str | None = None) -> Flask:
    """A new simulator app with an empty store."""
    app = Flask("national_sim")
    app.extensions["national_sim"] = State(token=token)
    app.register_blueprint(bp)
    return app
