"""Reliability of the embedded default under load (issue 15).

``cqpi run --port <free>`` is started as a user starts it: no DATABASE_URL, no REDIS_URL, so
SQLite in a temporary CQPI_DATA_DIR, the queue and worker processes that ``cqpi run``
starts itself, and the national-platform simulator at /national-sim; only CQPI_PUBLICITY=PT5S
(so that publicity ends during the run) and CQPI_SAMPLING_DAY=0 (no monthly sampling on the
1st) are set. For N seconds, 16 enterprise clients (demo user ``qiye``) open an intake,
upload its four materials and submit it, in a loop, over the real API; reviewer clients
(two ``yuzhong`` for the district-managed projects, one ``shiji`` for the city-managed one in
four) complete the review tasks of their inbox as they appear. Then the background work
(pending jobs, open timers, running instances) is given up to 120 s to settle.

Measured from the SQLite file once the server has stopped:

- review -> publicity: the review task's ``completed_at`` (engine_task) to the audit event of
  the application's move to ``in_publicity`` (the commit of the ``publicity.open`` job that
  also puts the notice on the board; the notice's ``opened_at`` is kept beside it);
- timer lateness: the ``timer_fired`` engine_event of each engine_timer row (nothing on the
  row records when it fired) minus the row's ``due_at``.

A review whose application is not in publicity when the measurement stops, or a timer due and
not fired, counts with the time it has waited so far (a lower bound), so that what never
happened cannot make a percentile look better; their numbers are reported too.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from .clients import Client, parallel, sign_in
from .intake_data import ATTACHMENTS, DEMO_PASSWORD, PDF, REVIEW_OK, REVIEWER, UNIT, application
from .support import (
    BIN,
    REPO,
    Processes,
    Progress,
    figure,
    free_port,
    percentiles,
    say,
    wait_healthy,
)

PUBLICITY = "PT5S"
BUDGET_REVIEW_TO_PUBLICITY_S = 5.0
BUDGET_TIMER_LATENESS_S = 2.0
CITY, CITY_EVERY = "shiji", 4
"""The city reviewer, and every how many applications one is city-managed (R-SUP-1)."""
REVIEWS = ("Task_DistrictReview", "Task_CityReview")
SERVER = "cqpi-run"


@dataclass
class Sizes:
    seconds: float  # of load
    enterprises: int  # clients that open, upload and submit
    district_reviewers: int  # yuzhong clients, each working its share of the inbox
    city_reviewers: int  # shiji clients
    settle_s: float  # the most the background work is waited for after the load


SIZES = {False: Sizes(60, 16, 2, 1, 120), True: Sizes(15, 16, 2, 1, 120)}


def run(tmp: Path, progress: Progress, quick: bool = False,
        seconds: float | None = None) -> dict[str, Any]:
    sizes = replace(SIZES[quick], seconds=seconds) if seconds else SIZES[quick]
    procs = Processes(tmp)
    database = tmp / "data" / "cqpi.sqlite3"
    try:
        base = serve(procs, tmp)
        tally = Tally()
        load = _load(base, sizes, tally, progress)
        settle = _settle(database, procs, sizes.settle_s)
        health = _health(base)
    finally:
        procs.stop()
    result = {"sizes": asdict(sizes), "publicity": PUBLICITY, "load": load,
              "calls": tally.summary(load["seconds"]), "settle": settle, "healthz": health,
              "log": _log_findings(tmp / f"{SERVER}.log"),
              **measure(database, load, settle["ended_at"])}
    result["figures"] = _figures(result)
    result["notes"] = _notes(result)
    return result


# -- the server ---------------------------------------------------------------------------

def _environment(tmp: Path) -> dict[str, str]:
    """A user's environment: none of the settings that leave the embedded default."""
    dropped = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PORT")
    env = {k: v for k, v in os.environ.items()  # the embedded mode's own settings pass
           if (not k.startswith("CQPI_") or k.startswith("CQPI_EMBEDDED_")) and k not in dropped}
    env.update(CQPI_DATA_DIR=str(tmp / "data"), CQPI_PUBLICITY=PUBLICITY,
               CQPI_SAMPLING_DAY="0", PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))
    return env


def serve(procs: Processes, tmp: Path, **settings: str) -> str:
    """Start ``cqpi run`` (migrate, demo data, deploy, serve) with ``settings`` added to a
    user's environment; its URL once healthy."""
    port = free_port()
    say(f"  reliability: cqpi run --port {port} (SQLite, in-process jobs, CQPI_PUBLICITY="
        f"{PUBLICITY})")
    procs.start(SERVER, [str(BIN / "cqpi"), "run", "--port", str(port)],
                {**_environment(tmp), **settings})
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url + "/healthz", procs, timeout=180)
    return url


def _health(base: str) -> dict[str, Any]:
    try:
        answer = requests.get(base + "/healthz", timeout=30)
    except requests.RequestException as exc:
        return {"status": None, "error": f"{type(exc).__name__}: {exc}"}
    return {"status": answer.status_code, "body": answer.text[:500]}


def _log_findings(path: Path) -> dict[str, Any]:
    """What the server's log says went wrong: counts of telling lines, the first few."""
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    marks = {"database is locked": "database is locked", "Traceback": "Traceback",
             " ERROR ": "ERROR", " WARNING ": "WARNING"}
    counts = {name: sum(1 for line in lines if mark in line) for mark, name in marks.items()}
    first = [line[:300] for line in lines if " ERROR " in line or "locked" in line][:5]
    return {"lines": len(lines), "counts": counts, "first": first}


# -- the clients --------------------------------------------------------------------------

class Tally:
    """Every request of every client: its milliseconds by kind of call, the failures (another
    status than expected, or no answer) by kind and status, the first few failures' text."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.first_errors: list[str] = []
        self.intakes: Counter[str] = Counter()

    def answered(self, kind: str, ms: float) -> None:
        with self.lock:
            self.samples[kind].append(ms)

    def failed(self, kind: str, status: str, text: str) -> None:
        with self.lock:
            self.errors[f"{kind} {status}"] += 1
            if len(self.first_errors) < 10:
                self.first_errors.append(f"{kind} {status}: {text[:300]}")

    def count(self, what: str) -> None:
        with self.lock:
            self.intakes[what] += 1

    def summary(self, seconds: float) -> dict[str, Any]:
        served = sum(len(v) for v in self.samples.values())
        return {"served": served, "per_s": round(served / seconds, 1) if seconds else None,
                "errors": sum(self.errors.values()), "errors_by_call": dict(self.errors),
                "first_errors": self.first_errors, "intakes": dict(self.intakes),
                "by_call": {kind: percentiles(v) for kind, v in sorted(self.samples.items())}}


class User:
    """One client's keep-alive session, signed in; every call is tallied, none raises."""

    def __init__(self, base: str, token: str, tally: Tally) -> None:
        self.client = Client(base, token)
        self.tally = tally

    def call(self, kind: str, method: str, path: str, expect: int = 200,
             **kwargs: Any) -> Any | None:
        """The JSON answer, or None when the call failed (tallied)."""
        started = time.perf_counter()
        try:
            answer = self.client.session.request(method, self.client.base + path, timeout=60,
                                                 **kwargs)
        except requests.RequestException as exc:
            self.tally.failed(kind, type(exc).__name__, str(exc))
            return None
        self.tally.answered(kind, (time.perf_counter() - started) * 1000)
        if answer.status_code != expect:
            self.tally.failed(kind, str(answer.status_code), answer.text)
            return None
        return answer.json() if answer.content else {}

    def close(self) -> None:
        self.client.close()


def _application(n: int) -> dict[str, Any]:
    """The ``n``-th intake: a new HM project of 渝中区, city-managed one time in CITY_EVERY."""
    body = application(n)
    body["project"]["name"] = f"可靠性入库项目 {n}"
    if n % CITY_EVERY == CITY_EVERY - 1:
        body["project"].update(city_managed=True, managing_code=None)
    return body


def _intake(user: User, n: int) -> None:
    """Open, upload the four materials, submit; stop at the first failure (tallied)."""
    body = user.call("open application", "POST", "/api/v1/applications", 201,
                     json=_application(n))
    if body is None:
        return
    path = f"/api/v1/applications/{body['id']}"
    for kind in ATTACHMENTS:
        if user.call("upload", "POST", f"{path}/attachments", 201, data={"kind": kind},
                     files={"file": (f"{kind}.pdf", PDF, "application/pdf")}) is None:
            return
    if user.call("submit", "POST", f"{path}/submit") is not None:
        user.tally.count("submitted")


def _enterprise(user: User, numbers: Iterator[int], until: float,
                tick: Callable[[], None]) -> None:
    while time.monotonic() < until:
        _intake(user, next(numbers))
        tick()


def _reviewer(user: User, share: tuple[int, int], until: float) -> None:
    """Complete the review tasks of the inbox whose instance falls to this client's share
    (``instance_id % n == i``), oldest first, as they appear, until the load ends."""
    index, of = share
    while time.monotonic() < until:
        tasks = user.call("inbox", "GET", "/api/v1/tasks?process=intake&per_page=100") or []
        mine = [t for t in tasks
                if t["element_id"] in REVIEWS and t["instance_id"] % of == index]
        for task in mine:
            if time.monotonic() >= until:
                return
            if user.call("review complete", "POST", f"/api/v1/tasks/{task['id']}/complete",
                         json=REVIEW_OK) is not None:
                user.tally.count("reviewed")
        if not mine:
            time.sleep(0.5)


def _roles(sizes: Sizes) -> list[tuple[str, tuple[int, int]]]:
    """Who each client thread is: (user name, share of the inbox); enterprises first."""
    return ([(UNIT, (0, 1))] * sizes.enterprises
            + [(REVIEWER, (i, sizes.district_reviewers))
               for i in range(sizes.district_reviewers)]
            + [(CITY, (i, sizes.city_reviewers)) for i in range(sizes.city_reviewers)])


def _now() -> datetime:
    """The engine's clock (naive UTC): the server runs on this machine."""
    return datetime.now(UTC).replace(tzinfo=None)


def _load(base: str, sizes: Sizes, tally: Tally, progress: Progress) -> dict[str, Any]:
    """Every client at once for ``sizes.seconds``; when the load started and ended."""
    tokens = {name: sign_in(base, name, DEMO_PASSWORD) for name in (UNIT, REVIEWER, CITY)}
    roles = _roles(sizes)
    numbers = itertools.count()
    started, started_at = time.monotonic(), _now()
    until = started + sizes.seconds
    say(f"  reliability: {sizes.enterprises} enterprise clients, "
        f"{len(roles) - sizes.enterprises} reviewers, {sizes.seconds:g} s")

    def tick() -> None:  # the last line is written once, after the load
        elapsed = int(time.monotonic() - started)
        if elapsed < sizes.seconds:
            progress("reliability: load, seconds", elapsed, int(sizes.seconds))

    def client(index: int) -> None:
        name, share = roles[index]
        user = User(base, tokens[name], tally)
        try:
            if index < sizes.enterprises:
                _enterprise(user, numbers, until, tick)
            else:
                _reviewer(user, share, until)
        finally:
            user.close()

    parallel(len(roles), client)
    progress("reliability: load, seconds", int(sizes.seconds), int(sizes.seconds))
    return {"started_at": started_at.isoformat(), "ended_at": _now().isoformat(),
            "seconds": round(time.monotonic() - started, 2)}


# -- settling -----------------------------------------------------------------------------

def _rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(database, timeout=30)) as conn:
        return conn.execute(sql).fetchall()


BACKGROUND = """SELECT (SELECT count(*) FROM engine_job WHERE status = 'pending'),
                       (SELECT count(*) FROM engine_timer WHERE status = 'open'),
                       (SELECT count(*) FROM engine_instance WHERE status = 'running')"""


def _background(database: Path) -> dict[str, int]:
    [(jobs, timers, running)] = _rows(database, BACKGROUND)
    return {"pending_jobs": jobs, "open_timers": timers, "running_instances": running}


def _settle(database: Path, procs: Processes, limit: float) -> dict[str, Any]:
    """Until no job is pending, no timer open and no instance running (instances that wait
    for a review nobody did are not background work), ``limit`` seconds at most."""
    started = time.monotonic()
    say(f"  reliability: waiting up to {limit:g} s for the background work to settle")
    at_start = _background(database)
    while True:
        left = _background(database)
        done = not any(left.values())
        if done or time.monotonic() - started > limit:
            took = round(time.monotonic() - started, 1)
            say(f"  reliability: {'settled' if done else 'NOT settled'} after {took} s: {left}")
            return {"settled": done, "settle_s": took if done else None, "waited_s": took,
                    "at_load_end": at_start, "left": left, "ended_at": _now().isoformat()}
        procs.check()
        time.sleep(0.5)


# -- the measurement ----------------------------------------------------------------------

def _at(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _seconds(samples_s: list[float]) -> dict[str, Any]:
    """n, p50/p95/max in seconds (nearest rank, as ``percentiles``)."""
    found = percentiles([s * 1000 for s in samples_s])
    if not found["n"]:
        return {"n": 0}
    return {"n": found["n"], "p50_s": round(found["p50_ms"] / 1000, 3),
            "p95_s": round(found["p95_ms"] / 1000, 3), "max_s": round(found["max_ms"] / 1000, 3)}


REVIEWED = f"""SELECT t.element_id, t.completed_at,
       (SELECT min(e.created_at) FROM audit_event e WHERE e.object = 'application:' || a.id
        AND e.action = 'application_in_publicity'),
       (SELECT min(n.opened_at) FROM publicity_notice n WHERE n.application_id = a.id)
  FROM engine_task t JOIN application a ON a.instance_id = t.instance_id
 WHERE t.element_id IN {REVIEWS} AND t.status = 'done'"""


def review_to_publicity(database: Path, cutoff: datetime) -> dict[str, Any]:
    """Completed review -> the application in publicity (and -> the notice's opened_at)."""
    moved, opened, waiting = [], [], []
    by_task: Counter[str] = Counter()
    for element, completed, in_publicity, notice in _rows(database, REVIEWED):
        by_task[element] += 1
        done = _at(completed)
        if in_publicity is None:
            waiting.append((cutoff - done).total_seconds())
            continue
        moved.append((_at(in_publicity) - done).total_seconds())
        if notice is not None:
            opened.append((_at(notice) - done).total_seconds())
    return {"reviews": dict(by_task), "in_publicity": len(moved),
            "not_in_publicity_at_end": len(waiting),
            "seconds": _seconds(moved + waiting), "moved_only": _seconds(moved),
            "to_notice_opened": _seconds(opened),
            "waiting_at_end": _seconds(waiting)}


def timer_lateness(database: Path, cutoff: datetime) -> dict[str, Any]:
    """Each timer's ``timer_fired`` event minus its due time; timers due and not fired count
    with their lateness so far."""
    fired: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for iid, element, at in _rows(database, "SELECT instance_id, element_id, created_at FROM "
                                            "engine_event WHERE kind = 'timer_fired' ORDER BY id"):
        fired[(iid, element)].append(_at(at))
    late, overdue, unfired = [], [], 0
    for iid, element, due, status in _rows(database, "SELECT instance_id, element_id, due_at, "
                                                     "status FROM engine_timer ORDER BY due_at"):
        events = fired[(iid, element)]
        if events:
            late.append((events.pop(0) - _at(due)).total_seconds())
        elif status == "open" and _at(due) <= cutoff:
            overdue.append((cutoff - _at(due)).total_seconds())
        elif status != "open":
            unfired += 1
    return {"fired": len(late), "due_not_fired_at_end": len(overdue),
            "closed_without_firing": unfired, "seconds": _seconds(late + overdue),
            "fired_only": _seconds(late)}


def _pushes(database: Path, load_end: datetime) -> dict[str, int]:
    rows = _rows(database, "SELECT created_at FROM engine_event WHERE kind = 'job_succeeded' "
                           "AND element_id = 'Task_Push'")
    during = sum(1 for (at,) in rows if _at(at) <= load_end)
    return {"during_load": during, "after_load": len(rows) - during}


def _jobs_done(database: Path, load: dict[str, Any], cutoff: datetime) -> dict[str, Any]:
    """Service jobs finished per second during the load and after it (the in-process worker's
    pace with the web busy, and with it idle)."""
    start, end = _at(load["started_at"]), _at(load["ended_at"])
    rows = _rows(database, "SELECT finished_at FROM engine_job WHERE status = 'done'")
    during = sum(1 for (at,) in rows if start <= _at(at) <= end)
    after = sum(1 for (at,) in rows if _at(at) > end)
    last = max((_at(at) for (at,) in rows), default=end)
    after_s = max((min(last, cutoff) - end).total_seconds(), 0.0)
    return {"during_load": during, "after_load": after,
            "per_s_during_load": round(during / max((end - start).total_seconds(), 1e-9), 2),
            "per_s_after_load": round(after / after_s, 2) if after_s else None}


def _job_waits(database: Path) -> dict[str, Any]:
    """Per operation: a service job's creation to its end (the queue's wait and the run)."""
    waits: dict[str, list[float]] = defaultdict(list)
    for operation, created, finished in _rows(
            database, "SELECT operation, created_at, finished_at FROM engine_job "
                      "WHERE finished_at IS NOT NULL"):
        waits[operation].append((_at(finished) - _at(created)).total_seconds())
    return {operation: _seconds(values) for operation, values in sorted(waits.items())}


def _counts(database: Path, sql: str) -> dict[str, int]:
    return {str(key): int(n) for key, n in _rows(database, sql)}


def _state(database: Path) -> dict[str, Any]:
    """What the database holds at the end: statuses, failures, incidents."""
    return {
        "applications": _counts(database, "SELECT status, count(*) FROM application "
                                          "WHERE kind = 'intake' GROUP BY status"),
        "instances": _counts(database, "SELECT status, count(*) FROM engine_instance "
                                       "GROUP BY status"),
        "jobs": _counts(database, "SELECT status, count(*) FROM engine_job GROUP BY status"),
        "job_attempts_failed": _counts(database, "SELECT element_id, count(*) FROM "
                                                 "engine_event WHERE kind = 'job_failed' "
                                                 "GROUP BY element_id"),
        "incidents": _counts(database, "SELECT element_id, count(*) FROM engine_incident "
                                       "GROUP BY element_id"),
    }


def measure(database: Path, load: dict[str, Any], ended_at: str) -> dict[str, Any]:
    """Every figure read from the SQLite file; ``ended_at`` is when the waiting stopped."""
    cutoff = _at(ended_at)
    return {"review_to_publicity": review_to_publicity(database, cutoff),
            "timer_lateness": timer_lateness(database, cutoff),
            "pushes": _pushes(database, _at(load["ended_at"])),
            "jobs_done": _jobs_done(database, load, cutoff),
            "job_wait_s": _job_waits(database), "state": _state(database)}


# -- the report ---------------------------------------------------------------------------

def _figures(r: dict[str, Any]) -> list[dict[str, Any]]:
    review, timer = r["review_to_publicity"]["seconds"], r["timer_lateness"]["seconds"]
    calls, pushes = r["calls"], r["pushes"]
    return [
        figure("reliability.review_to_publicity_p95", "embedded under load: review complete "
               "-> application in publicity, p95", review.get("p95_s"), "s",
               BUDGET_REVIEW_TO_PUBLICITY_S),
        figure("reliability.review_to_publicity_p50", "embedded under load: review complete "
               "-> application in publicity, p50", review.get("p50_s"), "s"),
        figure("reliability.review_to_publicity_max", "embedded under load: review complete "
               "-> application in publicity, max", review.get("max_s"), "s"),
        figure("reliability.timer_lateness_p95", "embedded under load: publicity timer fired "
               "- due, p95", timer.get("p95_s"), "s", BUDGET_TIMER_LATENESS_S),
        figure("reliability.timer_lateness_p50", "embedded under load: publicity timer fired "
               "- due, p50", timer.get("p50_s"), "s"),
        figure("reliability.timer_lateness_max", "embedded under load: publicity timer fired "
               "- due, max", timer.get("max_s"), "s"),
        figure("reliability.requests_per_s", "embedded under load: requests served per second",
               calls["per_s"], "/s"),
        figure("reliability.errors", "embedded under load: failed requests", calls["errors"],
               "requests"),
        figure("reliability.pushed_during_load", "embedded under load: applications pushed "
               "during the load", pushes["during_load"], "applications", better="higher"),
        figure("reliability.jobs_per_s_during_load", "embedded under load: service jobs "
               "done per second during the load", r["jobs_done"]["per_s_during_load"], "/s",
               better="higher"),
        figure("reliability.settle_s", "embedded: background work settled after the load",
               r["settle"]["settle_s"], "s"),
    ]


def _stats(s: dict[str, Any]) -> str:
    if not s.get("n"):
        return "none"
    return f"p50 {s['p50_s']} / p95 {s['p95_s']} / max {s['max_s']} s of {s['n']}"


def _notes(r: dict[str, Any]) -> list[str]:
    review, timer, calls = r["review_to_publicity"], r["timer_lateness"], r["calls"]
    settle, load, state = r["settle"], r["load"], r["state"]
    settled = (f"settled in {settle['settle_s']} s" if settle["settled"]
               else f"NOT settled after {settle['waited_s']} s: {settle['left']}")
    return [
        f"load {load['seconds']} s: {calls['served']} requests ({calls['per_s']}/s), "
        f"{calls['errors']} failed {calls['errors_by_call'] or ''}; intakes "
        f"{calls['intakes']}; at the load's end {settle['at_load_end']}; {settled}",
        f"review -> in publicity: {_stats(review['seconds'])} (reviews {review['reviews']}; "
        f"{review['in_publicity']} in "
        f"publicity, {review['not_in_publicity_at_end']} not by the end, counted as waited so "
        f"far); to the notice's opened_at: {_stats(review['to_notice_opened'])}",
        f"timer lateness: {_stats(timer['seconds'])} ({timer['fired']} fired, "
        f"{timer['due_not_fired_at_end']} due and not fired by the end)",
        f"pushed: {r['pushes']['during_load']} during the load, {r['pushes']['after_load']} "
        f"after; applications {state['applications']}; jobs {state['jobs']}; failed attempts "
        f"{state['job_attempts_failed']}; incidents {state['incidents']}",
        f"jobs done: {r['jobs_done']['during_load']} during the load "
        f"({r['jobs_done']['per_s_during_load']}/s), {r['jobs_done']['after_load']} after "
        f"({r['jobs_done']['per_s_after_load']}/s, up to the last)",
        f"server log: {r['log']['counts']}; /healthz after: {r['healthz'].get('status')}",
        "job creation -> end, by operation: " + "; ".join(
            f"{op} {_stats(s)}" for op, s in r["job_wait_s"].items()),
    ]
