"""A simulator of the national platform for development, demos and tests (``cqpi national-sim``).

It stores what it receives (a repeated idempotency key gets the first answer back and is
not stored twice) and answers project look-ups; like the real platform, its API answers only
a caller with its token. With its controls enabled (``control=True``: tests, demos; off by
default, so that no one can break a running demo's pushes) it can be told to fail or to be
slow, ``POST /_control {"fail_next": 3}`` or ``{"delay_seconds": 5}``, and shows what it
received, ``GET /_pushes``.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, request

MAX_FAIL_NEXT = 10_000
MAX_DELAY_SECONDS = 120.0


@dataclass
class State:
    token: str
    control: bool = False
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
def _authorize() -> Any:
    state = _state()
    if request.path.startswith("/_") and not state.control:
        abort(404)  # controls off: as if they did not exist
    if request.path.startswith("/api/"):
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), state.token.encode()):
            return jsonify(error="凭证无效：请提供全国平台颁发的令牌"), 401
    return None


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
    body = request.get_json(silent=True)
    state = _state()
    if not isinstance(body, dict):
        return jsonify(error="请求体应为 JSON 对象"), 400
    try:
        fail_next = _bounded(body, "fail_next", state.fail_next, MAX_FAIL_NEXT, whole=True)
        delay = _bounded(body, "delay_seconds", state.delay_seconds, MAX_DELAY_SECONDS)
    except ValueError as exc:
        return jsonify(error=str(exc)), 422
    with state.lock:
        state.fail_next, state.delay_seconds = int(fail_next), delay
    return jsonify(fail_next=state.fail_next, delay_seconds=state.delay_seconds)


def _bounded(body: dict[str, Any], name: str, current: float, most: float,
             whole: bool = False) -> float:
    """``body[name]`` if it is a number from 0 to ``most`` (a whole one if ``whole``), else
    ValueError naming the field; ``current`` when absent."""
    value = body.get(name, current)
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not 0 <= value <= most:
        kind = "整数" if whole else "数"
        raise ValueError(f"「{name}」应为 0 到 {most:g} 之间的{kind}")
    return float(value)


@bp.get("/_pushes")
def received():
    return jsonify([{"idempotency_key": k, **v} for k, v in _state().pushes.items()])


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def create_simulator(token: str, control: bool = False) -> Flask:
    """A new simulator app with an empty store, answering callers with ``token``; its
    controls (``/_control``, ``/_pushes``) answer only when ``control`` is set."""
    if not token:
        raise ValueError("the simulator needs a token")
    app = Flask("national_sim")
    app.extensions["national_sim"] = State(token=token, control=control)
    app.register_blueprint(bp)
    return app
