"""Sign-in under attack (issue 16), against ``cqpi run``'s embedded default as a user starts it.

Each phase comes from an address of its own (X-Forwarded-For, from a proxy the server is told
to trust: CQPI_TRUSTED_PROXIES=127.0.0.1).

1. ``GET /healthz`` alone: its latency at rest.
2. 300 sign-ins with unknown names, 40 at once, from one address, while one client keeps
   calling ``GET /healthz``: how many passwords were checked (401) and refused unchecked
   (429), and what the storm did to everyone else's latency.
3. 60 wrong passwords for one account at once: how many were checked (the limit is 5).
4. 16 right passwords for one account at once: all must get in.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from .intake_data import DEMO_PASSWORD, REVIEWER
from .reliability import serve
from .support import Processes, Progress, figure, percentiles

STORM, STORM_AT_ONCE = 300, 40
WRONG_AT_ONCE, RIGHT_AT_ONCE = 60, 16
BUDGET_HEALTHZ_DURING_STORM_MS = 100.0
"""p50 of /healthz while the storm runs (it was 2.7 s before the throttle counted addresses)."""


def _sign_in(base: str, username: str, password: str, address: str) -> int:
    answer = requests.post(f"{base}/api/v1/auth/token", timeout=60,
                           json={"username": username, "password": password},
                           headers={"X-Forwarded-For": address})
    return answer.status_code


def _burst(base: str, names_passwords: list[tuple[str, str]], at_once: int,
           address: str) -> Counter[int]:
    """Sign-ins from ``address`` (the server trusts this machine as its proxy, so that each
    phase comes from an address of its own)."""
    with ThreadPoolExecutor(at_once) as pool:
        return Counter(pool.map(lambda np: _sign_in(base, np[0], np[1], address),
                                names_passwords))


def _healthz(base: str, stop: threading.Event, samples: list[float]) -> None:
    with requests.Session() as session:
        while not stop.is_set():
            began = time.perf_counter()
            session.get(f"{base}/healthz", timeout=60)
            samples.append((time.perf_counter() - began) * 1000)
            time.sleep(0.01)


def _storm(base: str) -> dict[str, Any]:
    samples: list[float] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_healthz, args=(base, stop, samples))
    watcher.start()
    began = time.perf_counter()
    try:
        answers = _burst(base, [(f"nobody-{n}", "guess-123") for n in range(STORM)],
                         STORM_AT_ONCE, "198.51.100.1")
    finally:
        stop.set()
        watcher.join(60)
    return {"answers": dict(answers), "seconds": round(time.perf_counter() - began, 2),
            "healthz_ms": percentiles(samples)}


def run(tmp: Path, progress: Progress, quick: bool = False) -> dict[str, Any]:
    procs = Processes(tmp)
    try:
        base = serve(procs, tmp, CQPI_TRUSTED_PROXIES="127.0.0.1")
        rest: list[float] = []
        with requests.Session() as session:
            for n in range(50 if quick else 200):
                began = time.perf_counter()
                session.get(f"{base}/healthz", timeout=30)
                rest.append((time.perf_counter() - began) * 1000)
                progress("sign-in storm: healthz at rest", n + 1, 50 if quick else 200)
        storm = _storm(base)
        wrong = _burst(base, [(REVIEWER, "wrong-password")] * WRONG_AT_ONCE, WRONG_AT_ONCE,
                       "198.51.100.2")
        right = _burst(base, [("shiji", DEMO_PASSWORD)] * RIGHT_AT_ONCE, RIGHT_AT_ONCE,
                       "198.51.100.3")
    finally:
        procs.stop()
    result = {"healthz_at_rest_ms": percentiles(rest), "storm": storm,
              "wrong_at_once": dict(wrong), "right_at_once": dict(right)}
    result["figures"] = _figures(result)
    result["notes"] = [
        f"{STORM} unknown names, {STORM_AT_ONCE} at once, one address: {storm['answers']} in "
        f"{storm['seconds']} s; /healthz meanwhile {storm['healthz_ms']}, at rest "
        f"{result['healthz_at_rest_ms']}",
        f"{WRONG_AT_ONCE} wrong passwords for one account at once: {dict(wrong)}; "
        f"{RIGHT_AT_ONCE} right ones at once: {dict(right)}"]
    return result


def _figures(r: dict[str, Any]) -> list[dict[str, Any]]:
    storm = r["storm"]
    return [
        figure("signin.healthz_during_storm_p50", "sign-in storm: GET /healthz p50 meanwhile",
               storm["healthz_ms"].get("p50_ms"), "ms", BUDGET_HEALTHZ_DURING_STORM_MS),
        figure("signin.healthz_at_rest_p50", "sign-in storm: GET /healthz p50 at rest",
               r["healthz_at_rest_ms"].get("p50_ms"), "ms"),
        figure("signin.storm_checked", "sign-in storm: unknown names checked (the address "
               "limit is 30)", storm["answers"].get(401, 0), "checks", 30),
        figure("signin.wrong_at_once_checked", "60 wrong passwords at once: checked (limit 5)",
               r["wrong_at_once"].get(401, 0), "checks", 5),
        figure("signin.right_at_once_in", "16 right passwords at once: signed in",
               r["right_at_once"].get(200, 0), "users", RIGHT_AT_ONCE, better="higher"),
    ]
