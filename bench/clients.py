"""HTTP clients of the scenarios: a signed-in persistent session that times each call, and
several of them in threads."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from .support import Progress


class CallFailed(RuntimeError):
    pass


class Client:
    """One user's persistent HTTP session (keep-alive) against ``base``."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> tuple[float, Any]:
        """Send one request; (milliseconds, JSON answer). CallFailed on another status."""
        started = time.perf_counter()
        answer = self.session.request(method, self.base + path, timeout=60, **kwargs)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != expect:
            raise CallFailed(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        return elapsed, answer.json() if answer.content else None

    def close(self) -> None:
        self.session.close()


def sign_in(base: str, username: str, password: str) -> str:
    """A bearer token from ``POST /api/v1/auth/token``."""
    client = Client(base)
    try:
        _, body = client.call("POST", "/api/v1/auth/token",
                              json={"username": username, "password": password})
    finally:
        client.close()
    return str(body["token"])


class Counter:
    """A thread-safe count of finished items that reports progress."""

    def __init__(self, phase: str, total: int, progress: Progress) -> None:
        self.phase, self.total, self.progress = phase, total, progress
        self.done = 0
        self.lock = threading.Lock()

    def tick(self) -> None:
        with self.lock:
            self.done += 1
            self.progress(self.phase, self.done, self.total)


def parallel(threads: int, worker: Callable[[int], None]) -> float:
    """Run ``worker(0)`` .. ``worker(threads - 1)`` at once; wall seconds. Re-raises the first
    failure once all have stopped."""
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(worker, i) for i in range(threads)]
        errors = [f.exception() for f in futures]
    failed = [e for e in errors if e is not None]
    if failed:
        raise failed[0]
    return time.perf_counter() - started


def merged_samples(per_thread: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    """The samples of every client thread, by kind of call."""
    out: dict[str, list[float]] = defaultdict(list)
    for samples in per_thread:
        for kind, values in samples.items():
            out[kind] += values
    return out


def share(total: int, threads: int, index: int) -> range:
    """The items of thread ``index`` when ``total`` items are dealt out to ``threads``."""
    return range(index, total, threads)
