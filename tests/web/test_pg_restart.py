"""PostgreSQL restarted under load (issue 15), with real processes: two gunicorn web
processes and two `cqpi worker` processes (as in test_scale_out) on a private PostgreSQL
cluster of this test's own, the machine's Redis, the national simulator.

Enterprise clients drive intakes through the JSON API (open, four uploads, submit, the
review completed) while the database is stopped for a moment and started again. Every POST
carries an ``Idempotency-Key`` that its retries repeat; a 503 or a lost connection is retried.
No answer may be a 500 or a raw error page; every 5xx must be a JSON 503 in Chinese with
``Retry-After``; /healthz never answers 500. In the end every application the clients opened
is approved and pushed once, none was opened, submitted or reviewed twice."""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.processes.helpers import REVIEW_OK
from tests.registry.test_applications import PDF, header, hm_stages
from tests.web.private_pg import PrivatePostgres
from tests.web.test_cli import _free_port
from tests.web.test_scale_out import (
    ATTACHMENTS,
    ENTERPRISE,
    REVIEWER,
    Api,
    Cluster,
    _check_pushes,
    _clean_redis,
    _environment,
    _logs_on_failure,
    _redis,
    _rows,
    _start,
    _wait_approved,
    _wait_settled,
)

CLIENTS = 12
"""Concurrent clients, each opening an intake as the enterprise and reviewing it."""

LOAD_SECONDS = 24
"""Clients start new intakes for this long (the ones under way are finished)."""

RESTART_AFTER = 8
"""Seconds into the load when the database is stopped."""

DOWN_SECONDS = 1.5
"""How long the database stays stopped (on top of the time it takes to stop and start)."""

RECOVERY_SECONDS = 10
"""After the database is back, a request sent later than this must not meet a 503."""

CALL_SECONDS = 60
"""How long one call may keep retrying (a claim left in flight is taken over after 30 s)."""

FINISH_SECONDS = 30
"""How long the workers may take, after the load, to publicise and push everything."""

NAME = "重启测试项目"
IDEMPOTENCY, REPLAYED = "Idempotency-Key", "Idempotent-Replayed"
UNKNOWN, IN_FLIGHT = "idempotency_outcome_unknown", "idempotency_in_flight"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


# --- the processes ------------------------------------------------------------------------


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Cluster, PrivatePostgres]]:
    """The production setup of test_scale_out on a private PostgreSQL cluster."""
    logs = tmp_path / "logs"
    logs.mkdir()
    queue = f"cqpi-pg-restart-{os.getpid()}"
    with ExitStack() as stack:
        connection = _redis()
        stack.callback(connection.close)
        stack.callback(_clean_redis, connection, queue)
        server = PrivatePostgres(logs / "postgres.log")
        stack.callback(server.close)
        database = server.create_database("cqpi_pg_restart")
        national = f"http://127.0.0.1:{_free_port()}"
        running = Cluster(_environment(database, tmp_path / "data", queue, national), logs,
                          database, queue, national)
        stack.callback(running.stop)
        _start(running)
        yield running, server


# --- what the clients saw -----------------------------------------------------------------


@dataclass
class Exchange:
    """One request and its answer (``status`` 0: no answer, the connection failed)."""

    sent: float
    received: float
    method: str
    path: str
    status: int
    attempt: int = 1
    content_type: str = ""
    body: str = ""
    retry_after: str | None = None
    replayed: bool = False
    key: str | None = None

    def describe(self) -> str:
        try:  # JSON escapes Chinese: say it as it reads
            body = json.dumps(json.loads(self.body), ensure_ascii=False)
        except ValueError:
            body = self.body
        return (f"{self.method} {self.path} (key {self.key}, attempt {self.attempt}) -> "
                f"{self.status or 'no answer'} {self.content_type} "
                f"Retry-After={self.retry_after}: {body[:300]}")


def _code(answer: requests.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


@dataclass
class Journal:
    """Every exchange of every client, and the outcomes a retry learnt only as unknown."""

    exchanges: list[Exchange] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, exchange: Exchange) -> None:
        with self.lock:
            self.exchanges.append(exchange)


class RetryingApi(Api):
    """test_scale_out's client, retrying as a careful client does: a 503, an idempotent
    request in flight and a lost connection are tried again after Retry-After; every POST
    carries an Idempotency-Key, the same on every try (and the same bytes)."""

    def __init__(self, urls: list[str], journal: Journal) -> None:
        super().__init__(urls)
        self.journal = journal

    def send(self, method: str, path: str, user: str | None, base: str | None = None,
             **kwargs: Any) -> requests.Response:
        """A GET or a sign-in (no key), retried until it has an answer that is not 503."""
        return self._until_answered(self._prepare(method, path, user, {}, kwargs))

    def post(self, path: str, user: str, expected: int, **kwargs: Any) -> Any:
        """A POST with a new Idempotency-Key: its JSON body, or None when the retry learnt
        only that the work was done (its answer was lost)."""
        key = uuid.uuid4().hex
        answer = self._until_answered(self._prepare("POST", path, user,
                                                    {IDEMPOTENCY: key}, kwargs))
        if answer.status_code == 409 and _code(answer) == UNKNOWN:
            with self.journal.lock:
                self.journal.unknown.append(f"POST {path} (key {key})")
            return None
        assert answer.status_code == expected, (
            f"POST {path} (key {key}): {answer.status_code}, expected {expected}: "
            f"{answer.text[:500]}")
        return answer.json()

    def _prepare(self, method: str, path: str, user: str | None, extra: dict[str, str],
                 kwargs: dict[str, Any]) -> requests.PreparedRequest:
        headers = {**(self.headers(user) if user else {}), **extra, "Connection": "close"}
        return requests.Request(method, self.urls[0] + path, headers=headers,
                                **kwargs).prepare()

    def _until_answered(self, prepared: requests.PreparedRequest) -> requests.Response:
        deadline = time.monotonic() + CALL_SECONDS
        for attempt in itertools.count(1):
            answer, wait = self._once(prepared, attempt)
            if answer is not None and wait is None:
                return answer
            assert time.monotonic() < deadline, (
                f"{prepared.method} {prepared.path_url}: still refused after {CALL_SECONDS} s")
            time.sleep(wait or 0.5)
        raise AssertionError("unreachable")

    def _once(self, prepared: requests.PreparedRequest,
              attempt: int) -> tuple[requests.Response | None, float | None]:
        """One try on the next web process: the answer, and how long to wait before the next
        try if it is to be retried."""
        request, path = prepared.copy(), prepared.path_url
        request.url = self.next_url() + path
        sent = time.monotonic()
        key = str(prepared.headers.get(IDEMPOTENCY) or "") or None
        try:
            answer = self._session().send(request, timeout=60)
        except requests.RequestException as exc:
            self.journal.add(Exchange(sent, time.monotonic(), str(prepared.method), path, 0,
                                      attempt, body=f"{type(exc).__name__}: {exc}", key=key))
            return None, 0.5
        self.journal.add(Exchange(
            sent, time.monotonic(), str(prepared.method), path, answer.status_code, attempt,
            answer.headers.get("Content-Type", ""), answer.text[:1000],
            answer.headers.get("Retry-After"), answer.headers.get(REPLAYED) == "true", key))
        retry = answer.status_code == 503 or (
            answer.status_code == 409 and _code(answer) == IN_FLIGHT)
        return answer, (min(float(answer.headers.get("Retry-After") or 1), 5) if retry
                        else None)


# --- the load -----------------------------------------------------------------------------


def _find(api: RetryingApi, name: str) -> int:
    """The id of the enterprise's application for project ``name`` (its opening's answer was
    lost): there must be exactly one."""
    found = []
    for page in itertools.count(1):
        rows = api.expect(200, "GET", f"/api/v1/applications?per_page=100&page={page}",
                          ENTERPRISE)
        found += [row["id"] for row in rows if row["project_name"] == name]
        if len(rows) < 100:
            break
    assert len(found) == 1, f"{len(found)} applications for {name}: {found}"
    return int(found[0])


def _detail(api: RetryingApi, app_id: int, user: str = ENTERPRISE) -> Any:
    return api.expect(200, "GET", f"/api/v1/applications/{app_id}", user)


def _intake(api: RetryingApi, n: int) -> int:
    """One intake opened, its files uploaded, submitted, and its review completed; its id.
    Where a retry learns only that the work was done, the application's state says so."""
    name = f"{NAME}{n:04d}"
    body = {"kind": "intake", "project": header(name=name), "stages": hm_stages()}
    opened = api.post("/api/v1/applications", ENTERPRISE, 201, json=body)
    app_id = int(opened["id"]) if opened else _find(api, name)
    for kind in ATTACHMENTS:
        if api.post(f"/api/v1/applications/{app_id}/attachments", ENTERPRISE, 201,
                    data={"kind": kind},
                    files={"file": (f"{kind}.pdf", PDF, "application/pdf")}) is None:
            kinds = [a["kind"] for a in _detail(api, app_id)["attachments"]]
            assert kinds.count(kind) == 1, (app_id, kinds)
    api.post(f"/api/v1/applications/{app_id}/submit", ENTERPRISE, 200)
    detail = _detail(api, app_id, REVIEWER)
    assert detail["status"] == "submitted", (app_id, detail["status"])
    [task] = detail["open_tasks"]
    assert task["element_id"] == "Task_DistrictReview", task
    api.post(f"/api/v1/tasks/{task['id']}/complete", REVIEWER, 200, json=REVIEW_OK)
    return app_id


def _client(api: RetryingApi, numbers: Iterator[int], until: float) -> list[int]:
    """Intakes one after another until ``until``: their ids."""
    ids = []
    while time.monotonic() < until:
        ids.append(_intake(api, next(numbers)))
    return ids


@dataclass
class Restart:
    """When the server (the database, or Redis) went down and came back (monotonic clock),
    and how long it was down."""

    stopped: float = 0.0
    back: float = 0.0

    @property
    def down(self) -> float:
        return self.back - self.stopped


def _restart_at(restart_server: Callable[[], object], moment: float) -> Restart:
    """``restart_server()`` (it stops a server and starts it again) run at ``moment``."""
    time.sleep(max(0.0, moment - time.monotonic()))
    restart = Restart(stopped=time.monotonic())
    restart_server()
    restart.back = time.monotonic()
    return restart


def _watch_health(urls: list[str], journal: Journal, stop: threading.Event) -> None:
    """/healthz of each web process in turn, four times a second, until ``stop``."""
    for turn in itertools.count():
        if stop.wait(0.25):
            return
        path, sent = "/healthz", time.monotonic()
        try:
            answer = requests.get(urls[turn % len(urls)] + path, timeout=10,
                                  headers={"Connection": "close"})
        except requests.RequestException as exc:
            journal.add(Exchange(sent, time.monotonic(), "GET", path, 0, body=str(exc)))
            continue
        journal.add(Exchange(sent, time.monotonic(), "GET", path, answer.status_code,
                             content_type=answer.headers.get("Content-Type", ""),
                             body=answer.text[:1000],
                             retry_after=answer.headers.get("Retry-After")))


def _drive(cluster: Cluster, restart_server: Callable[[], object], api: RetryingApi,
           health: Journal) -> tuple[set[int], Restart, list[BaseException]]:
    """The clients for LOAD_SECONDS, ``restart_server()`` run RESTART_AFTER seconds in; the
    ids of the applications they opened, and why clients stopped early."""
    started, numbers, stop = time.monotonic(), itertools.count(), threading.Event()
    watcher = threading.Thread(target=_watch_health, args=(cluster.web, health, stop))
    watcher.start()
    try:
        with ThreadPoolExecutor(CLIENTS, thread_name_prefix="client") as clients:
            futures = [clients.submit(_client, api, numbers, started + LOAD_SECONDS)
                       for _ in range(CLIENTS)]
            restart = _restart_at(restart_server, started + RESTART_AFTER)
            failed = [error for f in futures if (error := f.exception()) is not None]
            ids = [app_id for f in futures if f.exception() is None for app_id in f.result()]
    finally:
        stop.set()
        watcher.join()
    assert len(ids) == len(set(ids)), "an application id handed to two intakes"
    return set(ids), restart, failed


# --- the checks ---------------------------------------------------------------------------


def _an_outage_answer(exchange: Exchange) -> bool:
    """A 503 as the contract says: JSON, a Chinese message, Retry-After."""
    try:
        message = json.loads(exchange.body).get("message", "")
    except (ValueError, AttributeError):
        return False
    return (exchange.status == 503 and exchange.content_type.startswith("application/json")
            and bool(CHINESE.search(str(message))) and bool(exchange.retry_after))


def _check_answers(exchanges: list[Exchange], restart: Restart,
                   what: str = "the database") -> None:
    """No 500 or raw error page; every 5xx a JSON 503; none long after the restart."""
    raw = [e for e in exchanges if e.status >= 500 and not _an_outage_answer(e)]
    assert not raw, "5xx answers that are not a JSON 503 in Chinese with Retry-After:\n" + (
        "\n".join(e.describe() for e in raw[:20]))
    raw_text = [e for e in exchanges if "Internal Server Error" in e.body]
    assert not raw_text, "\n".join(e.describe() for e in raw_text[:20])
    late = [e for e in exchanges
            if e.status == 503 and e.sent > restart.back + RECOVERY_SECONDS]
    assert not late, f"503 {RECOVERY_SECONDS} s after {what} was back:\n" + (
        "\n".join(e.describe() for e in late[:20]))


def _check_health(exchanges: list[Exchange], down: str = "database") -> Counter[int]:
    """/healthz answered 200, or 503 JSON saying ``down`` (the database, the queue) is down,
    at every moment."""
    for e in exchanges:
        assert e.status in (200, 503), e.describe()
        body = json.loads(e.body)
        assert e.status == 200 or (body[down] == "down" and e.retry_after), e.describe()
    return Counter(e.status for e in exchanges)


def _counts(database: str, sql: str, params: tuple[Any, ...] | None = None) -> dict[Any, int]:
    return {row[0]: int(row[1]) for row in _rows(database, sql, params)}


ONCE = {
    "opened": """SELECT p.name, count(*) FROM application a JOIN project p
                 ON p.id = a.project_id WHERE p.name LIKE %s GROUP BY 1""",
    "uploaded": """SELECT application_id || ':' || kind, count(*) FROM attachment
                   GROUP BY 1""",
    "submitted": """SELECT object, count(*) FROM audit_event
                    WHERE action = 'application_submitted' GROUP BY 1""",
    "started": "SELECT business_key, count(*) FROM engine_instance GROUP BY 1",
    "reviewed": """SELECT instance_id, count(*) FROM engine_task WHERE status = 'done'
                   GROUP BY 1""",
}
"""Things each application must have exactly once, counted by what identifies them."""


def _check_once(database: str, ids: set[int]) -> dict[str, int]:
    """Each application opened once, each file uploaded once, each submitted once, its
    procedure started once and its review completed once; nothing done twice by the
    engine, no incident."""
    found = {}
    for what, sql in ONCE.items():
        counts = _counts(database, sql, (f"{NAME}%",) if "%s" in sql else None)
        twice = {k: n for k, n in counts.items() if n != 1}
        assert not twice, f"{what} more than once: {twice}"
        found[what] = len(counts)
    expected = {"opened": len(ids), "uploaded": len(ATTACHMENTS) * len(ids),
                "submitted": len(ids), "started": len(ids), "reviewed": len(ids)}
    assert found == expected, found
    again = _rows(database, """SELECT instance_id, kind, element_id, count(*) FROM engine_event
                               WHERE kind IN ('task_completed', 'job_succeeded', 'timer_fired')
                               GROUP BY 1, 2, 3 HAVING count(*) <> 1""")
    assert again == [], f"done more than once: {again}"
    incidents = _rows(database, "SELECT instance_id, element_id, error FROM engine_incident")
    assert incidents == [], incidents
    return _counts(database, "SELECT kind, count(*) FROM engine_event GROUP BY 1")


STUCK = """SELECT 'job', id::text, instance_id, operation, attempts, enqueued_at, last_error
             FROM engine_job WHERE status = 'pending'
           UNION ALL
           SELECT 'timer', id::text, instance_id, element_id, 0, enqueued_at, ''
             FROM engine_timer WHERE status = 'open'"""
"""What background work still waits: jobs pending and timers open, and when each was put on
the queue."""


def _wait_finished(api: RetryingApi, database: str, ids: set[int]) -> None:
    """Every application approved, every instance completed; else what still waits."""
    deadline = time.monotonic() + FINISH_SECONDS
    try:
        _wait_approved(api, ids, deadline)
        _wait_settled(database, deadline)
    except AssertionError as exc:
        waiting = "\n".join(map(str, _rows(database, STUCK)))
        raise AssertionError(f"{exc}\nwaiting (kind, id, instance, what, attempts, "
                             f"enqueued at, last error):\n{waiting}") from exc


def _alive(cluster: Cluster) -> None:
    dead = [(name, proc.returncode) for name, proc in cluster.procs if proc.poll() is not None]
    assert not dead, f"processes that did not survive the restart: {dead}"


def _summary(journal: Journal, health: Counter[int], restart: Restart,
             what: str = "the database") -> str:
    exchanges = journal.exchanges
    statuses = Counter(e.status for e in exchanges)
    during = sum(1 for e in exchanges if e.status == 503
                 and restart.stopped <= e.received <= restart.back + 1)
    in_flight = sum(1 for e in exchanges if e.status == 409 and IN_FLIGHT in e.body)
    return (f"{len(exchanges)} requests {dict(statuses)}; 503: {statuses[503]} "
            f"({during} while {what} was down or within 1 s of its return); "
            f"no answer: {statuses[0]}; retries: {sum(e.attempt > 1 for e in exchanges)}; "
            f"409 in flight: {in_flight}; replayed: {sum(e.replayed for e in exchanges)}; "
            f"outcome unknown: {len(journal.unknown)}; longest call "
            f"{_longest_call(exchanges):.1f} s; {what.removeprefix('the ')} down "
            f"{restart.down:.1f} s; "
            f"healthz {dict(health)}")


def _longest_call(exchanges: list[Exchange]) -> float:
    """The longest a POST took from its first try to its last answer (its retries)."""
    spans: dict[str, list[float]] = {}
    for e in exchanges:
        if e.key:
            span = spans.setdefault(e.key, [e.sent, e.received])
            span[0], span[1] = min(span[0], e.sent), max(span[1], e.received)
    return max((last - first for first, last in spans.values()), default=0.0)


def test_postgresql_restarted_under_load(cluster: tuple[Cluster, PrivatePostgres]) -> None:
    running, server = cluster
    journal, health = Journal(), Journal()
    api = RetryingApi(running.web, journal)
    started = time.monotonic()
    try:
        with _logs_on_failure(running):
            ids, restart, failed = _drive(running, functools.partial(server.restart,
                                                                     DOWN_SECONDS),
                                          api, health)
            driven = time.monotonic() - started
            print(f"\npg-restart load: {len(ids)} intakes by {CLIENTS} clients in {driven:.1f} s; "
                  f"{_summary(journal, Counter(e.status for e in health.exchanges), restart)}")
            # every bad 5xx listed first, then the first client's unexpected answer
            _check_answers(journal.exchanges, restart)
            if failed:
                raise failed[0]
            healthz = _check_health(health.exchanges)
            _wait_finished(api, running.database, ids)
            events = _check_once(running.database, ids)
            pushes = _check_pushes(running.database, running.national, ids, NAME)
            _alive(running)
    finally:
        api.close()
    print(f"pg-restart: settled and checked after {time.monotonic() - started:.1f} s; "
          f"{pushes} pushes; healthz {dict(healthz)}; engine events {events}")
