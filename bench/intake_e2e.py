"""Intake end to end: many clients submit intake applications over HTTP to gunicorn, a
reviewer passes each, ``cqpi worker`` processes run publicity (CQPI_PUBLICITY=PT1S) and the
push to a national-platform simulator, until every application is approved.

The budget is DESIGN.md's "submit -> pushed": the clients first open their applications and
upload the materials (an enterprise's preparation, timed apart), then all submit at once.
Reports applications per second from the first submit to the last push, the CPU each kind
of process spent per application in that span, where the time goes (phases and
per-element gaps from engine_event and engine_task timestamps), the stored
bytes per finished instance, and the memory of the web and worker processes.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
import redis
import requests
from rq import Queue, Worker

from . import cpu, footprint, intake_timeline
from .clients import Client, Counter, merged_samples, parallel, share, sign_in
from .intake_data import ATTACHMENTS, DEMO_PASSWORD, PDF, REVIEW_OK, REVIEWER, UNIT, application
from .support import (
    BIN,
    Processes,
    Progress,
    children,
    cqpi,
    db_name,
    figure,
    flush_redis,
    free_port,
    gunicorn,
    percentiles,
    pg_create,
    pg_drop,
    pg_dsn,
    rss_mb,
    say,
    server_env,
    wait_healthy,
    worker_rss,
)

SIM_TOKEN = "bench-national-token"
BUDGET_RATE = 50.0
BUDGET_BYTES = 8 * 1024
BUDGET_RSS_MB = 150.0


@dataclass
class Sizes:
    applications: int
    clients: int
    web_workers: int
    web_threads: int
    workers: int  # cqpi worker processes
    timeout_s: float  # for every application to be approved once all are submitted


SIZES = {False: Sizes(400, 16, 2, 4, 2, 600), True: Sizes(20, 4, 2, 2, 2, 120)}


def run(tmp: Path, progress: Progress, quick: bool = False) -> dict[str, Any]:
    sizes = SIZES[quick]
    name = db_name("intake")
    url = pg_create(name)
    dsn = pg_dsn(name)
    procs = Processes(tmp)
    flush_redis()
    try:
        env = _environment(url, tmp)
        say("  intake: cqpi migrate, demo, deploy")
        for args in (["migrate"], ["demo"], ["deploy"]):
            cqpi(args, env)
        base = _serve(procs, env, sizes)
        before = footprint.relation_bytes(dsn)
        grouper = _grouper(procs, sizes)
        cpu_before: dict[str, float] = {}
        calls, ids = _clients(base, sizes, progress,
                              lambda: cpu_before.update(cpu.snapshot(grouper)))
        _wait(dsn, ids, sizes, procs, progress)
        cpu_ms = cpu.per_unit(cpu_before, cpu.snapshot(grouper), len(ids))
        result = {"sizes": asdict(sizes), "calls": calls,
                  "timeline": intake_timeline.measure(dsn, ids),
                  "storage": _storage(dsn, ids, before),
                  "rss": _rss(procs, sizes), "pushes": _pushes(env),
                  "cpu_ms_per_application": cpu_ms}
    finally:
        procs.stop()
        pg_drop(name)
        flush_redis()
    result["figures"] = _figures(result)
    result["notes"] = _notes(result)
    return result


def _notes(r: dict[str, Any]) -> list[str]:
    timeline = r["timeline"]
    phases = ", ".join(f"{name} {p.get('mean_s', '-')}/{p.get('max_s', '-')}"
                       for name, p in timeline["phases"].items())
    return [f"{timeline['pushed']} of {timeline['applications']} pushed in "
            f"{timeline['first_submit_to_last_push_s']} s (simulator holds {r['pushes']}); "
            f"clients' submits and reviews took {r['calls']['wall_s']} s (opening and uploads "
            f"before, not measured: {r['calls']['prepare_wall_s']} s)",
            f"phases, mean/max s: {phases}",
            f"calls: {r['calls']['routes']}",
            f"CPU ms per application by process, submit -> pushed: "
            f"{r['cpu_ms_per_application']}"]


# -- processes ----------------------------------------------------------------------------

def _environment(url: str, tmp: Path) -> dict[str, str]:
    port = free_port()
    return server_env(url, tmp, CQPI_PUBLICITY="PT1S", CQPI_NATIONAL_TOKEN=SIM_TOKEN,
                      CQPI_NATIONAL_URL=f"http://127.0.0.1:{port}")


def _serve(procs: Processes, env: dict[str, str], sizes: Sizes) -> str:
    """Start the simulator, gunicorn and the workers; the web's URL."""
    sim = env["CQPI_NATIONAL_URL"]
    say(f"  intake: national-sim, gunicorn ({sizes.web_workers} workers), "
        f"{sizes.workers} cqpi workers")
    procs.start("national-sim", [str(BIN / "cqpi"), "national-sim", "--port",
                                 sim.rsplit(":", 1)[1], "--token", SIM_TOKEN, "--control"],
               env)
    wait_healthy(sim + "/healthz", procs)
    base = gunicorn(procs, "web:create_app()", env, workers=sizes.web_workers,
                    threads=sizes.web_threads)
    for i in range(sizes.workers):
        procs.start(f"worker-{i}", [str(BIN / "cqpi"), "worker"], env)
    _wait_workers(env, sizes.workers, procs)
    return base


def _wait_workers(env: dict[str, str], n: int, procs: Processes) -> None:
    """Until ``n`` rq workers listen on the bench's queue."""
    conn = redis.Redis.from_url(env["REDIS_URL"])
    queue = Queue(env["CQPI_QUEUE_NAME"], connection=conn)
    deadline = time.monotonic() + 90
    while Worker.count(connection=conn, queue=queue) < n:
        procs.check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{n} cqpi workers did not start in 90 s")
        time.sleep(0.3)


def _grouper(procs: Processes, sizes: Sizes) -> cpu.Grouper:
    master = procs.running["gunicorn"].pid
    return cpu.by_pids({"web": [master, *children(master)],
                        "workers": [procs.running[f"worker-{i}"].pid
                                    for i in range(sizes.workers)],
                        "simulator": [procs.running["national-sim"].pid],
                        "bench clients": [os.getpid()]},
                       postgres="postgres", **{"redis-server": "redis"})


def _rss(procs: Processes, sizes: Sizes) -> dict[str, Any]:
    workers = [rss_mb(procs.running[f"worker-{i}"].pid) for i in range(sizes.workers)]
    sizes_mb = [w for w in workers if w is not None]
    return {"web": worker_rss(procs.running["gunicorn"].pid), "workers_mb": sizes_mb,
            "max_worker_mb": max(sizes_mb) if sizes_mb else None}


def _pushes(env: dict[str, str]) -> int:
    return len(requests.get(env["CQPI_NATIONAL_URL"] + "/_pushes", timeout=30).json())


# -- clients ------------------------------------------------------------------------------

def _review_task(unit: Client, app_id: int, detail: dict[str, Any]) -> str:
    """The id of the application's review task, from its detail (polled until it is there)."""
    deadline = time.monotonic() + 60
    while True:
        for task in detail["open_tasks"]:
            if task["element_id"] == "Task_DistrictReview":
                return str(task["id"])
        if time.monotonic() > deadline:
            raise RuntimeError(f"application {app_id} has no review task: {detail}")
        time.sleep(0.2)
        _, detail = unit.call("GET", f"/api/v1/applications/{app_id}")


def _prepare(unit: Client, i: int, samples: dict[str, list[float]]) -> int:
    """Open an application and upload its four materials (before the measured part). Its id."""
    ms, body = unit.call("POST", "/api/v1/applications", 201, json=application(i))
    samples["open application"].append(ms)
    app_id = int(body["id"])
    for kind in ATTACHMENTS:
        ms, _ = unit.call("POST", f"/api/v1/applications/{app_id}/attachments", 201,
                          data={"kind": kind},
                          files={"file": (f"{kind}.pdf", PDF, "application/pdf")})
        samples["upload"].append(ms)
    return app_id


def _submit(unit: Client, reviewer: Client, app_id: int, samples: dict[str, list[float]]) -> None:
    """Submit; the reviewer passes it as soon as the review task is there."""
    ms, detail = unit.call("POST", f"/api/v1/applications/{app_id}/submit")
    samples["submit"].append(ms)
    task_id = _review_task(unit, app_id, detail)
    ms, _ = reviewer.call("POST", f"/api/v1/tasks/{task_id}/complete", json=REVIEW_OK)
    samples["review complete"].append(ms)


def _clients(base: str, sizes: Sizes, progress: Progress,
             measured: Callable[[], None]) -> tuple[dict[str, Any], list[int]]:
    """Every client prepares its share of applications; then (``measured`` is called first)
    all submit theirs, each passed by a reviewer at once."""
    tokens = sign_in(base, UNIT, DEMO_PASSWORD), sign_in(base, REVIEWER, DEMO_PASSWORD)
    n, threads = sizes.applications, sizes.clients
    samples: list[dict[str, list[float]]] = [defaultdict(list) for _ in range(threads)]
    ids: list[list[int]] = [[] for _ in range(threads)]
    prepared = Counter(f"intake: opened with materials, {threads} clients", n, progress)
    reviewed = Counter(f"intake: submitted and reviewed, {threads} clients", n, progress)

    def prepare(index: int) -> None:
        unit = Client(base, tokens[0])
        try:
            for i in share(n, threads, index):
                ids[index].append(_prepare(unit, i, samples[index]))
                prepared.tick()
        finally:
            unit.close()

    def submit(index: int) -> None:
        unit, reviewer = Client(base, tokens[0]), Client(base, tokens[1])
        try:
            for app_id in ids[index]:
                _submit(unit, reviewer, app_id, samples[index])
                reviewed.tick()
        finally:
            unit.close()
            reviewer.close()

    prepare_wall = parallel(threads, prepare)
    measured()
    wall = parallel(threads, submit)
    merged = merged_samples(samples)
    calls = {"prepare_wall_s": round(prepare_wall, 2), "wall_s": round(wall, 2),
             "routes": "prepared: POST /api/v1/applications, .../attachments (x4); measured: "
             ".../submit, POST /api/v1/tasks/<id>/complete (real API)"}
    calls.update({kind: percentiles(values) for kind, values in merged.items()})
    return calls, sorted(i for chunk in ids for i in chunk)


def _status_counts(conn: psycopg.Connection[Any], ids: list[int]) -> dict[str, int]:
    rows = conn.execute("SELECT status, count(*) FROM application WHERE id = ANY(%s) "
                        "GROUP BY status", (ids,)).fetchall()
    return {status: count for status, count in rows}


def _wait(dsn: str, ids: list[int], sizes: Sizes, procs: Processes,
          progress: Progress) -> None:
    """Until every application is approved; RuntimeError on an incident or the time-out."""
    deadline = time.monotonic() + sizes.timeout_s
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            counts = _status_counts(conn, ids)
            progress("intake: approved (publicity, push)", counts.get("approved", 0), len(ids))
            if counts.get("approved", 0) == len(ids):
                return
            incidents = conn.execute("SELECT element_id, error FROM engine_incident "
                                     "LIMIT 3").fetchall()
            if incidents:
                raise RuntimeError(f"incidents: {incidents}")
            procs.check()
            if time.monotonic() > deadline:
                raise RuntimeError(f"not all approved after {sizes.timeout_s} s: {counts}")
            time.sleep(0.5)


def _storage(dsn: str, ids: list[int], before: int) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn:
        instances = [r[0] for r in conn.execute(
            "SELECT a.instance_id FROM application a JOIN engine_instance i "
            "ON i.id = a.instance_id WHERE a.id = ANY(%s) AND i.status = 'completed'",
            (ids,)).fetchall()]
    rows = footprint.row_bytes(dsn, instances)
    growth = footprint.relation_bytes(dsn) - before
    rows["relation_growth_per_instance"] = round(growth / max(1, len(ids)))
    return rows


def _figures(r: dict[str, Any]) -> list[dict[str, Any]]:
    timeline, storage, rss = r["timeline"], r["storage"], r["rss"]
    slowest = timeline["slowest_phase"]
    return [
        figure("intake_e2e.applications_per_s", "intake applications per second, first "
               "submit -> last push", timeline["applications_per_s"], "/s", BUDGET_RATE,
               better="higher"),
        figure("intake_e2e.cpu_ms_per_application", "machine CPU per application, submit -> "
               "pushed (all processes)", r["cpu_ms_per_application"]["total"], "ms"),
        figure("intake_e2e.slowest_phase_s", f"slowest phase (mean): {slowest['phase']}",
               slowest["mean_s"], "s"),
        figure("intake_e2e.review_complete_p50", "review complete over the real API, p50, "
               "under load", r["calls"]["review complete"]["p50_ms"], "ms"),
        figure("intake_e2e.bytes_per_finished", "stored bytes per finished intake instance "
               "(engine rows)", storage["bytes_per_instance"], "B", BUDGET_BYTES),
        figure("intake_e2e.rows_per_finished", "engine rows per finished intake instance",
               storage["rows_per_instance"], "rows"),
        figure("intake_e2e.relation_growth", "engine tables' growth per instance (with "
               "indexes)", storage["relation_growth_per_instance"], "B"),
        figure("intake_e2e.web_rss", "web process RSS after the run (largest gunicorn worker)",
               rss["web"]["max_worker_mb"], "MB", BUDGET_RSS_MB),
        figure("intake_e2e.worker_rss", "cqpi worker RSS after the run (largest)",
               rss["max_worker_mb"], "MB"),
    ]
