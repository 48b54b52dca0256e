"""The embedded default's background capacity (issue 15): ``cqpi run`` without REDIS_URL
starts its own queue server and worker processes, brings back one that dies, and leaves
nothing behind when it stops or is killed. (tests/web/test_server.py drives applications
through such a server to the national platform.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from tests.web.test_cli import _free_port, wait_healthy
from web import embedded
from web.embedded import Admission


@dataclass
class Run:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(CQPI_DATA_DIR=str(tmp_path), PORT=str(port), CQPI_LOG_LEVEL="WARNING")
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "cqpi"), "run", "--no-demo"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log.read_text)
        yield Run(url, proc, log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=15)


def children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``, by pid: their command lines."""
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(pid)], check=False,
                         capture_output=True, text=True).stdout
    return {int(line.split(None, 1)[0]): line.split(None, 1)[1]
            for line in out.splitlines() if line.strip()}


def workers(pid: int) -> set[int]:
    return {p for p, args in children(pid).items() if args.endswith("web.cli worker")}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], check=False,
                          capture_output=True, text=True).stdout.strip()[:1] not in ("Z", "")


def eventually(check: Callable[[], bool], seconds: float, explain: Callable[[], str]) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, explain()
        time.sleep(0.2)


def health(url: str) -> dict[str, object]:
    return dict(requests.get(f"{url}/healthz", timeout=5).json())


def test_a_worker_that_dies_is_started_again(run: Run) -> None:
    first = workers(run.proc.pid)
    assert len(first) == 2, children(run.proc.pid)
    assert any("queue-server" in args for args in children(run.proc.pid).values())
    eventually(lambda: health(run.url)["workers"] == 2, 30, run.log.read_text)
    killed = min(first)
    os.kill(killed, signal.SIGKILL)
    eventually(lambda: len(workers(run.proc.pid) - {killed}) == 2, 15, run.log.read_text)
    assert "starting it again" in run.log.read_text()
    eventually(lambda: health(run.url)["workers"] == 2, 60, lambda: str(health(run.url)))


def test_stopping_cqpi_run_stops_its_children(run: Run) -> None:
    mine = set(children(run.proc.pid))
    assert len(mine) == 3
    run.proc.terminate()
    assert run.proc.wait(timeout=30) is not None
    eventually(lambda: not any(alive(p) for p in mine), 15, run.log.read_text)


def test_a_killed_cqpi_run_leaves_no_process_behind(run: Run) -> None:
    mine = set(children(run.proc.pid))
    run.proc.kill()
    run.proc.wait(timeout=15)
    eventually(lambda: not any(alive(p) for p in mine), 15, run.log.read_text)
    assert "is gone; stopping" in run.log.read_text()


def _most_at_once(admission: Admission, app_state: dict[str, int], requests_: int) -> int:
    threads = [threading.Thread(target=admission, args=({"PATH_INFO": "/api/v1/x"}, None))
               for _ in range(requests_)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return app_state["most"]


def _slow_app() -> tuple[Callable[..., list[bytes]], dict[str, int]]:
    state = {"now": 0, "most": 0}
    lock = threading.Lock()

    def app(_environ: dict[str, Any], _start: Any) -> list[bytes]:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return [b"ok"]

    return app, state


def test_requests_take_turns_and_yield_to_a_backlog() -> None:
    app, state = _slow_app()
    backlog = {"jobs": 0}
    admission = Admission(app, 3, exempt=("/healthz",), backlog=lambda: backlog["jobs"])
    assert _most_at_once(admission, state, 12) == 3
    backlog["jobs"] = embedded.BACKLOG
    time.sleep(embedded.WATCH_SECONDS * 3)
    state["most"] = 0
    assert _most_at_once(admission, state, 8) == 1
    assert admission({"PATH_INFO": "/healthz"}, None) == [b"ok"]  # never held back


def test_the_queue_takes_no_command_without_its_password(run: Run) -> None:
    [port] = [int(args.split("--port")[1].split()[0]) for args in
              children(run.proc.pid).values() if "queue-server" in args]
    stranger = redis.Redis(port=port, socket_timeout=5)
    with pytest.raises(redis.ConnectionError):
        stranger.rpush("rq:queue:cqpi", "os.system")
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=port, password="guessed", socket_timeout=5).ping()
    assert health(run.url)["queue"] == "ok"  # the processes that have it still get in


def test_the_built_in_simulator_is_closed_to_strangers(run: Run) -> None:
    sim = f"{run.url}/national-sim"
    assert requests.post(f"{sim}/_control", json={"fail_next": 1000000},
                         timeout=5).status_code == 404
    assert requests.get(f"{sim}/_pushes", timeout=5).status_code == 404
    assert requests.get(f"{sim}/api/v1/projects/5001", timeout=5).status_code == 401
