"""What the scenarios share: progress lines, figures with their budget, bench databases,
the processes they start (always stopped), and reading a process's memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg
import redis
import requests

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
"""The bench's own Redis database (the tests use 15); flushed before and after a run."""

Progress = Callable[[str, int, int], None]


_shown: dict[str, int] = {}


def progress(phase: str, i: int, n: int) -> None:
    """One line per phase on stderr, rewritten in place at every tenth of the way."""
    tenth = i * 10 // max(n, 1)
    if i < n and tenth <= _shown.get(phase, -1):
        return
    _shown[phase] = tenth
    end = "\n" if i >= n else ""
    if i >= n:
        _shown.pop(phase, None)
    print(f"\r  {phase}: {i}/{n}", end=end, file=sys.stderr, flush=True)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def figure(key: str, label: str, value: float | None, unit: str, budget: float | None = None,
           *, better: str = "lower") -> dict[str, Any]:
    """One reported figure; ``met`` is None when it has no budget (shown for information)."""
    met = None
    if budget is not None and value is not None:
        met = value <= budget if better == "lower" else value >= budget
    return {"key": key, "label": label, "value": value, "unit": unit, "budget": budget,
            "better": better, "met": met}


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max of millisecond samples (nearest rank), and how many."""
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))], 2)

    return {"n": len(ordered), "p50_ms": rank(0.50), "p95_ms": rank(0.95),
            "p99_ms": rank(0.99), "mean_ms": round(sum(ordered) / len(ordered), 2),
            "max_ms": round(ordered[-1], 2)}


# -- databases ----------------------------------------------------------------------------

def pg_create(name: str) -> str:
    """A fresh PostgreSQL database ``name`` (dropped first); its SQLAlchemy URL."""
    pg_drop(name)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return "postgresql+psycopg" + pg_dsn(name).removeprefix("postgresql")


def pg_drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_dsn(name: str) -> str:
    """The libpq address of bench database ``name`` (for psycopg)."""
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def db_name(scenario: str) -> str:
    return f"cqpi_bench_{scenario}_{os.getpid()}"


def flush_redis() -> None:
    redis.Redis.from_url(REDIS_URL).flushdb()


def app_config(url: str, tmp: Path) -> dict[str, Any]:
    """The in-process app's settings for a bench database (no queue: Redis is for servers)."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        options = {"connect_args": {"timeout": 30}}
    return {"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options,
            "REDIS_URL": None, "SECRET_KEY": "bench", "CQPI_DATA_DIR": str(tmp)}


# -- processes ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(url: str, tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of the web and worker processes a scenario starts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CQPI_")}
    env.update(DATABASE_URL=url, REDIS_URL=REDIS_URL, SECRET_KEY="bench",
               CQPI_DATA_DIR=str(tmp), CQPI_QUEUE_NAME=f"bench-{os.getpid()}",
               CQPI_LOG_LEVEL="WARNING", PYTHONPATH=str(REPO), **extra)
    return env


class Processes:
    """Subprocesses of one scenario; ``stop`` ends every one of them (use try/finally)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("wb") as out:
            proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=out,
                                    stderr=subprocess.STDOUT)
        self.running[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def check(self) -> None:
        """Raise if a process has died (with the end of its log)."""
        for name, proc in self.running.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)}")

    def stop(self) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for proc in self.running.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.running.clear()


def gunicorn(procs: Processes, app: str, env: dict[str, str], *, workers: int,
             threads: int) -> str:
    """Serve ``app`` with gunicorn (gthread workers, keep-alive); its base URL once healthy."""
    port = free_port()
    argv = [str(BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}", "--workers",
            str(workers), "--threads", str(threads), "--worker-class", "gthread",
            "--keep-alive", "30", "--graceful-timeout", "5", "--log-level", "warning"]
    procs.start("gunicorn", argv, env)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url + "/healthz", procs)
    return url


def wait_healthy(url: str, procs: Processes, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=3).status_code == 200:
                return
        except requests.RequestException:
            pass
        procs.check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer in {timeout} s")
        time.sleep(0.3)


def cqpi(args: list[str], env: dict[str, str]) -> None:
    """Run a ``cqpi`` command to its end (migrate, demo, deploy)."""
    out = subprocess.run([str(BIN / "cqpi"), *args], env=env, cwd=REPO, capture_output=True,
                         text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"cqpi {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")


# -- memory -------------------------------------------------------------------------------

def rss_mb(pid: int) -> float | None:
    """VmRSS of a process in MB (None when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (e.g. gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def worker_rss(master: int) -> dict[str, Any]:
    """RSS of gunicorn's master and of each worker, in MB."""
    workers = {pid: rss_mb(pid) for pid in children(master)}
    sizes = [v for v in workers.values() if v is not None]
    return {"master_mb": rss_mb(master), "workers_mb": sizes,
            "max_worker_mb": max(sizes) if sizes else None}
