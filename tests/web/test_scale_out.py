"""Scale-out (issue 9): two gunicorn web processes and two `cqpi worker` processes on one
PostgreSQL database and one Redis, the national-platform simulator in its own process.

A few hundred intakes go through the JSON API at once, each request to the next web process
in turn; each review is completed by two reviewers racing each other, one on each web
process. Every application must end approved and pushed exactly once, every review must be
completed exactly once, and nothing may be left failed, open or pending."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import requests
from rq import Queue, Worker

from tests.conftest import REDIS_URL, _unavailable, create_pg_database, drop_pg_database
from tests.processes.helpers import REVIEW_OK
from tests.registry.test_applications import PDF, header, hm_stages
from tests.web.test_cli import _free_port, wait_healthy

APPLICATIONS = 240
"""Intakes driven at once."""

CLIENTS = 16
"""Concurrent enterprise clients (threads); each review is raced by two reviewer threads."""

WEB_PROCESSES = 2
WORKERS = 2
GUNICORN_OPTIONS = ("--workers", "2", "--threads", "4", "--timeout", "120",
                    "--graceful-timeout", "10")

FINISH_SECONDS = 150
"""How long the workers may take, after the last review, to publicise and push everything."""

JOBS_PER_INTAKE = 4
"""publicity.open, publicity.close, national_push.application, registry.apply_entry."""

PASSWORD = "cqpi-demo-2026"
ENTERPRISE, REVIEWER = "qiye", "yuzhong"
ATTACHMENTS = ("report", "commitment", "application_form", "evidence")
NAME = "扩容测试项目"
"""The projects' names: this, then the intake's number."""
SIM_TOKEN = "scale-out-national-token"
SECRET_KEY = "scale-out-secret-key-shared-by-every-process"
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
ROUTINE = re.compile(r" INFO (rq\.worker|werkzeug): ")
"""Log lines left out of the tails shown on a failure (rq logs three lines per job)."""


# --- the processes ------------------------------------------------------------------------


@dataclass
class Cluster:
    """The processes of the test, their environment and their logs."""

    env: dict[str, str]
    logs: Path
    database: str
    queue: str
    national: str = ""
    web: list[str] = field(default_factory=list)
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("wb") as out:
            proc = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def run(self, *args: str) -> None:
        """A `cqpi` command run to its end (setup), its output in setup.log."""
        with (self.logs / "setup.log").open("ab") as out:
            done = subprocess.run([str(BIN / "cqpi"), *args], env=self.env, cwd=ROOT,
                                  stdout=out, stderr=subprocess.STDOUT, timeout=120,
                                  check=False)
        assert done.returncode == 0, f"cqpi {' '.join(args)} failed\n{self.tails()}"

    def tails(self, lines: int = 30) -> str:
        """The end of every log, without the routine lines (a line per job or request)."""
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            tail = [line for line in path.read_text(errors="replace").splitlines()
                    if not ROUTINE.search(line)][-lines:]
            parts.append(f"--- {path} (last {lines} lines but routine ones) ---\n"
                         + "\n".join(tail))
        return "\n".join(parts)

    def stop(self) -> None:
        """Terminate every process; kill its process group when it does not end in time."""
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for _, proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: it and its children
                proc.wait(timeout=10)


def _redis() -> redis.Redis:
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.RedisError as exc:
        connection.close()
        _unavailable("Redis", exc)
    return connection


def _clean_redis(connection: redis.Redis, name: str) -> None:
    """Delete this run's keys: its queue and registries, their jobs, the sign-in counters."""
    queue = Queue(name, connection=connection)
    ids = set(queue.get_job_ids())
    for registry in (queue.started_job_registry, queue.finished_job_registry,
                     queue.failed_job_registry, queue.scheduled_job_registry,
                     queue.deferred_job_registry, queue.canceled_job_registry):
        ids.update(registry.get_job_ids(cleanup=False))
    for key in connection.scan_iter(count=1000):
        parts = key.decode(errors="replace").split(":")
        if name in parts or ids.intersection(parts):
            connection.delete(key)
        elif parts[:2] == ["rq", "worker"] and connection.hget(key, "queues") == name.encode():
            connection.delete(key)  # a stopped worker's record (rq keeps it for a minute)
    connection.srem("rq:queues", queue.key)


def _environment(database: str, data: Path, queue: str, national: str) -> dict[str, str]:
    """What every process gets: the same database, Redis, queue, files, secret, platform."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CQPI_") and k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY",
                                                     "PORT")}
    env.update(DATABASE_URL=database, REDIS_URL=REDIS_URL, CQPI_QUEUE_NAME=queue,
               CQPI_DATA_DIR=str(data), SECRET_KEY=SECRET_KEY, CQPI_PUBLICITY="PT2S",
               CQPI_NATIONAL_URL=national, CQPI_NATIONAL_TOKEN=SIM_TOKEN,
               CQPI_SAMPLING_DAY="0", CQPI_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    return env


def _start(cluster: Cluster) -> None:
    """Migrate, load the demo data and deploy once; then the simulator, webs and workers."""
    for command in (("migrate",), ("demo",), ("deploy",)):
        cluster.run(*command)
    port = int(cluster.national.rsplit(":", 1)[1])
    servers = [("national-sim", cluster.national,
                cluster.start("national-sim", str(BIN / "cqpi"), "national-sim", "--port",
                              str(port), "--token", SIM_TOKEN, "--control"))]
    for n in range(WORKERS):
        cluster.start(f"worker-{n + 1}", str(BIN / "cqpi"), "worker")
    for n in range(WEB_PROCESSES):
        url = f"http://127.0.0.1:{_free_port()}"
        servers.append((f"web-{n + 1}", url, cluster.start(
            f"web-{n + 1}", str(BIN / "gunicorn"), *GUNICORN_OPTIONS, "--bind",
            url.removeprefix("http://"), "web:create_app()")))
        cluster.web.append(url)
    for name, url, proc in servers:
        wait_healthy(url, proc, lambda name=name: f"{name}\n{cluster.tails()}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    name = f"cqpi_scale_{os.getpid()}"
    connection = _redis()
    try:
        database = create_pg_database(name)
    except BaseException:  # skipped (or failed) without PostgreSQL
        connection.close()
        raise
    tmp = tmp_path_factory.mktemp("scale_out")
    (tmp / "logs").mkdir()
    queue = f"cqpi-scale-{os.getpid()}"
    national = f"http://127.0.0.1:{_free_port()}"
    running = Cluster(_environment(database, tmp / "data", queue, national), tmp / "logs",
                      database, queue, national)
    try:
        _start(running)
        yield running
    finally:
        try:
            running.stop()
        finally:
            drop_pg_database(name)
            _clean_redis(connection, queue)
            connection.close()


# --- the clients --------------------------------------------------------------------------


class Api:
    """HTTP against the web processes in turn; one session and one token per thread and user."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.served: Counter[str] = Counter()
        self._turn = itertools.count()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: list[requests.Session] = []

    def next_url(self) -> str:
        with self._lock:
            return self.urls[next(self._turn) % len(self.urls)]

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session, self._local.tokens = requests.Session(), {}
            with self._lock:
                self._sessions.append(self._local.session)
        return self._local.session

    def headers(self, user: str) -> dict[str, str]:
        """The thread's token of ``user`` (signed in on first use, then reused)."""
        self._session()
        if user not in self._local.tokens:
            token = self.expect(200, "POST", "/api/v1/auth/token", None,
                                json={"username": user, "password": PASSWORD})["token"]
            self._local.tokens[user] = {"Authorization": f"Bearer {token}"}
        return self._local.tokens[user]

    def send(self, method: str, path: str, user: str | None, base: str | None = None,
             **kwargs: Any) -> requests.Response:
        # A new connection per request: a kept-alive one may be closed by gunicorn (after its
        # keep-alive of 2 s) just as the next request is sent, which resets the request.
        headers = {**(self.headers(user) if user else {}), "Connection": "close"}
        base = base or self.next_url()
        try:
            answer = self._session().request(method, base + path, headers=headers,
                                             timeout=60, **kwargs)
        except requests.RequestException as exc:
            raise AssertionError(f"{method} {base}{path}: {type(exc).__name__}: {exc}") from exc
        with self._lock:
            self.served[base] += 1
        return answer

    def expect(self, status: int, method: str, path: str, user: str | None, **kwargs: Any) -> Any:
        answer = self.send(method, path, user, **kwargs)
        assert answer.status_code == status, (
            f"{method} {answer.url}: {answer.status_code}, expected {status}: {answer.text[:500]}")
        return answer.json()

    def close(self) -> None:
        for session in self._sessions:
            session.close()


def _intake(api: Api, racers: ThreadPoolExecutor, n: int) -> tuple[int, list[int]]:
    """One enterprise's intake, its review raced by two reviewers; the id and their answers."""
    body = {"kind": "intake", "project": header(name=f"{NAME}{n:04d}"),
            "stages": hm_stages()}
    app_id = int(api.expect(201, "POST", "/api/v1/applications", ENTERPRISE, json=body)["id"])
    for kind in ATTACHMENTS:
        api.expect(201, "POST", f"/api/v1/applications/{app_id}/attachments", ENTERPRISE,
                   data={"kind": kind}, files={"file": (f"{kind}.pdf", PDF, "application/pdf")})
    api.expect(200, "POST", f"/api/v1/applications/{app_id}/submit", ENTERPRISE)
    detail = api.expect(200, "GET", f"/api/v1/applications/{app_id}", REVIEWER)
    [task] = detail["open_tasks"]
    assert task["element_id"] == "Task_DistrictReview", task
    barrier = threading.Barrier(len(api.urls), timeout=60)

    def complete(base: str) -> int:
        api.headers(REVIEWER)  # signed in before the race starts
        barrier.wait()
        answer = api.send("POST", f"/api/v1/tasks/{task['id']}/complete", REVIEWER, base=base,
                          json=REVIEW_OK)
        if answer.status_code not in (200, 404, 409):  # say why, for the assertion below
            REFUSALS.append(f"{app_id}: {answer.status_code} {answer.text[:500]}")
        return answer.status_code

    return app_id, [f.result() for f in [racers.submit(complete, url) for url in api.urls]]


REFUSALS: list[str] = []
"""The unexpected answers of racing review completions, with their bodies."""


def _drive(api: Api) -> dict[int, list[int]]:
    """Every intake at once; the answers of each review's racing completions by id."""
    with ThreadPoolExecutor(CLIENTS * len(api.urls), thread_name_prefix="reviewer") as racers, \
            ThreadPoolExecutor(CLIENTS, thread_name_prefix="enterprise") as clients:
        futures = [clients.submit(_intake, api, racers, n) for n in range(APPLICATIONS)]
        try:
            return dict(f.result() for f in futures)
        except BaseException:
            clients.shutdown(cancel_futures=True)  # the first failure is enough
            raise


def _statuses(api: Api) -> dict[int, str]:
    """The status of every application of the enterprise, by id (the list, page by page)."""
    found: dict[int, str] = {}
    for page in itertools.count(1):
        rows = api.expect(200, "GET", f"/api/v1/applications?per_page=100&page={page}",
                          ENTERPRISE)
        found.update((row["id"], row["status"]) for row in rows)
        if len(rows) < 100:
            return found
    raise AssertionError("unreachable")


def _wait_approved(api: Api, ids: set[int], deadline: float) -> None:
    while True:
        statuses = _statuses(api)
        waiting = Counter(statuses.get(i, "missing") for i in ids
                          if statuses.get(i) != "approved")
        if not waiting:
            return
        assert time.monotonic() < deadline, f"not approved in time: {dict(waiting)}"
        time.sleep(1)


def _check_details(api: Api, ids: set[int]) -> None:
    """Every application read one by one: approved, nothing open, its history complete."""
    def read(app_id: int) -> dict[str, Any]:
        return api.expect(200, "GET", f"/api/v1/applications/{app_id}", ENTERPRISE)

    with ThreadPoolExecutor(CLIENTS) as pool:
        details = list(pool.map(read, sorted(ids)))
    for detail in details:
        assert detail["status"] == "approved" and detail["open_tasks"] == [], detail
        kinds = Counter(event["kind"] for event in detail["history"])
        assert kinds["task_completed"] == 1 and kinds["instance_completed"] == 1, kinds


# --- the checks on the database, the simulator and the workers -----------------------------


def _rows(database: str, sql: str,
          params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(database, connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchall()


SETTLED = """SELECT (SELECT count(*) FROM engine_instance WHERE status <> 'completed'),
                    (SELECT count(*) FROM engine_job WHERE status = 'pending'),
                    (SELECT count(*) FROM engine_timer WHERE status = 'open')"""


def _wait_settled(database: str, deadline: float) -> None:
    """Approved comes one step before the end: wait for the last job's result to land."""
    while True:
        [(instances, jobs, timers)] = _rows(database, SETTLED)
        if instances == jobs == timers == 0:
            return
        assert time.monotonic() < deadline, (
            f"not settled: {instances} instances not completed, {jobs} jobs pending, "
            f"{timers} timers open")
        time.sleep(0.5)


def _counts(database: str, sql: str) -> dict[Any, int]:
    return {row[0]: int(row[1]) for row in _rows(database, sql)}


def _check_engine(database: str, ids: set[int]) -> dict[str, Any]:
    """Instances completed, no incident, every job done once, every review completed once."""
    instances = _counts(database, "SELECT status, count(*) FROM engine_instance GROUP BY 1")
    assert instances == {"completed": len(ids)}, instances
    keys = {row[0] for row in _rows(database, "SELECT business_key FROM engine_instance")}
    assert keys == {f"application-{i}" for i in ids}
    incidents = _rows(database, "SELECT instance_id, element_id, error FROM engine_incident")
    assert incidents == [], incidents
    jobs = _counts(database, "SELECT status, count(*) FROM engine_job GROUP BY 1")
    assert jobs == {"done": JOBS_PER_INTAKE * len(ids)}, jobs
    events = _counts(database, "SELECT kind, count(*) FROM engine_event GROUP BY 1")
    assert "job_failed" not in events and "incident_opened" not in events, events
    twice = _rows(database, """SELECT instance_id, kind, element_id, count(*) FROM engine_event
                               WHERE kind IN ('task_completed', 'job_succeeded', 'timer_fired')
                               GROUP BY 1, 2, 3 HAVING count(*) <> 1""")
    assert twice == [], f"done more than once: {twice}"
    assert events["task_completed"] == events["timer_fired"] == len(ids), events
    assert events["job_succeeded"] == JOBS_PER_INTAKE * len(ids), events
    tasks = _rows(database, """SELECT status, element_id, completed_by, count(*),
                                      count(DISTINCT instance_id) FROM engine_task
                               GROUP BY 1, 2, 3""")
    assert tasks == [("done", "Task_DistrictReview", REVIEWER, len(ids), len(ids))], tasks
    return {"jobs": jobs, "events": events}


PUSHED = """SELECT 'cqpi-job-' || j.id, a.id FROM engine_job j
              JOIN application a ON a.instance_id = j.instance_id
              WHERE j.operation = 'national_push.application'"""


def _check_pushes(database: str, national: str, ids: set[int], prefix: str = NAME) -> int:
    """One push per application at the platform (its key is its push job's), each sent once
    from the outbox; its project (named ``prefix``…) marked as on the platform."""
    pushes = requests.get(f"{national}/_pushes", timeout=30).json()
    application_of = dict(_rows(database, PUSHED))
    pushed = Counter(application_of.get(p["idempotency_key"]) for p in pushes)
    assert len(pushes) == len(ids) and set(pushed) == ids and set(pushed.values()) == {1}, (
        f"{len(pushes)} pushes for {len(ids)} applications; more than once: "
        f"{[i for i, n in pushed.items() if n > 1]}; never: {sorted(ids - set(pushed))}")
    names = {p["body"]["project"]["name"] for p in pushes}
    assert len(names) == len(ids), "a project pushed twice under different keys"
    outbox = _rows(database, "SELECT idempotency_key, status, attempts FROM push_outbox")
    assert sorted(p["idempotency_key"] for p in pushes) == sorted(row[0] for row in outbox)
    assert {(row[1], row[2]) for row in outbox} == {("sent", 1)}, Counter(
        (row[1], row[2]) for row in outbox)
    [(on_platform,)] = _rows(database, """SELECT count(*) FROM project
                                         WHERE name LIKE %s AND on_national_platform
                                         AND national_id IS NOT NULL""", (f"{prefix}%",))
    assert on_platform == len(ids), f"{on_platform} projects marked as on the national platform"
    return len(pushes)


def _worker_jobs(cluster: Cluster) -> dict[str, int]:
    """Jobs each live `cqpi worker` ran, from rq's worker records in Redis."""
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        workers = Worker.all(queue=Queue(cluster.queue, connection=connection))
        return {w.name: w.successful_job_count for w in workers}
    finally:
        connection.close()


@contextmanager
def _logs_on_failure(cluster: Cluster) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        raise AssertionError(f"{type(exc).__name__}: {exc}\n\n{cluster.tails()}") from exc


def _review_outcomes(answers: dict[int, list[int]]) -> Counter[int]:
    """Exactly one of the racing completions of each review succeeds; the other is refused
    as done already (409 Conflict, or 404 when the task was closed before it was read)."""
    for app_id, codes in answers.items():
        assert sorted(codes)[0] == 200 and codes.count(200) == 1, (app_id, codes)
        assert set(codes) <= {200, 404, 409}, (app_id, codes, REFUSALS)
    return Counter(code for codes in answers.values() for code in codes)


def test_web_and_workers_scale_out_on_one_database_and_one_redis(cluster: Cluster) -> None:
    started = time.monotonic()
    api = Api(cluster.web)
    try:
        with _logs_on_failure(cluster):
            answers = _drive(api)
            driven = time.monotonic() - started
            outcomes = _review_outcomes(answers)
            ids = set(answers)
            assert len(ids) == APPLICATIONS
            deadline = time.monotonic() + FINISH_SECONDS
            _wait_approved(api, ids, deadline)
            _wait_settled(cluster.database, deadline)
            settled = time.monotonic() - started
            _check_details(api, ids)
            engine = _check_engine(cluster.database, ids)
            pushes = _check_pushes(cluster.database, cluster.national, ids)
            workers = _worker_jobs(cluster)
            assert len(workers) == WORKERS and all(workers.values()), workers
            assert all(api.served[url] > 0 for url in cluster.web), api.served
    finally:
        api.close()
    print(f"\nscale-out: {len(ids)} applications driven in {driven:.1f} s, all approved and "
          f"settled after {settled:.1f} s, checked after {time.monotonic() - started:.1f} s; "
          f"{pushes} pushes; racing "
          f"completions {dict(outcomes)}; requests per web process {dict(api.served)}; "
          f"rq jobs per worker {workers}; engine jobs {engine['jobs']}; "
          f"events {engine['events']}")
