"""Approval over HTTP: start an instance of bench/approval.bpmn and complete its two tasks
through gunicorn, with 100k instances stored (half finished, half waiting).

Seeding is in bulk: one real instance is run through the engine to each state (finished;
waiting at task A; waiting at task B), then its rows are copied with COPY: the instance row
(its state with fresh SpiffWorkflow task ids, its own id and business key), its engine_task
rows (ids = the copy's task ids) and its engine_event rows. Approval instances have no job,
timer, message or incident rows. Some seeded waiting tasks are completed during the run too,
which shows that the engine works the copies.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

import engine
from engine import queries
from engine.db import db
from registry import users
from web.database import prepare

from . import footprint, seed, wsgi
from .clients import Client, Counter, merged_samples, parallel, share, sign_in
from .engine_step import APPROVAL
from .support import (
    Processes,
    Progress,
    app_config,
    db_name,
    figure,
    gunicorn,
    percentiles,
    pg_create,
    pg_drop,
    pg_dsn,
    say,
    server_env,
    worker_rss,
)

USER, PASSWORD = "bench-client", "bench-password-2026"
ROUTES = {
    "start": "POST /bench/start/approval (bench/wsgi.py around engine.start: the API starts "
             "procedures only by submitting an application)",
    "complete": "POST /bench/complete/<task_id> (bench/wsgi.py around engine.complete_task: "
                "/api/v1/tasks/<id>/complete needs a product form key and lane, which "
                "approval.bpmn's bench_form and 'reviewer' are not)",
}
DATA = {"Task_A": {"decision": "approve"}, "Task_B": {"comment": "同意"}}


@dataclass
class Sizes:
    instances: int
    sequential: int  # start + complete A + complete B cycles, one client
    concurrent: int  # the same, dealt out to ``threads`` clients
    warm_up: int  # cycles before measuring, dealt out to ``threads`` clients
    threads: int = 8
    web_workers: int = 4
    web_threads: int = 4


SIZES = {False: Sizes(100_000, 300, 400, 32), True: Sizes(2_000, 30, 48, 8)}


@dataclass
class Template:
    instance: dict[str, Any]
    tasks: list[dict[str, Any]]
    events: list[dict[str, Any]]
    copier: seed.StateCopier = field(init=False)

    def __post_init__(self) -> None:
        self.copier = seed.StateCopier(bytes(self.instance["state"]))


def run(tmp: Path, progress: Progress, quick: bool = False) -> dict[str, Any]:
    sizes = SIZES[quick]
    name = db_name("approval")
    url = pg_create(name)
    procs = Processes(tmp)
    try:
        say(f"  approval: migrate, deploy, seed {sizes.instances} instances in bulk")
        seeded = _prepare(url, tmp, sizes, progress)
        say(f"  approval: gunicorn, {sizes.web_workers} workers")
        base = gunicorn(procs, "bench.wsgi:create_app()", server_env(url, tmp),
                        workers=sizes.web_workers, threads=sizes.web_threads)
        result = _measure(base, seeded, sizes, progress)
        result["rss"] = worker_rss(procs.running["gunicorn"].pid)
        result["storage"] = _storage(pg_dsn(name))
    finally:
        procs.stop()
        pg_drop(name)
    result["figures"] = _figures(result)
    result["notes"] = [f"start: {ROUTES['start']}", f"complete: {ROUTES['complete']}",
                       f"{sizes.instances} instances seeded; "
                       f"{result['sequential']['complete_seeded']['n']} + "
                       f"{result['concurrent']['complete_seeded']['n']} seeded tasks completed"]
    return result


# -- seeding ------------------------------------------------------------------------------

def _prepare(url: str, tmp: Path, sizes: Sizes, progress: Progress) -> list[tuple[str, str]]:
    """Deploy, add the client's user, seed; some seeded waiting tasks (id, element)."""
    app = wsgi.create_app(app_config(url, tmp))
    prepare(app)
    try:
        with app.app_context():
            engine.deploy([(APPROVAL.name, APPROVAL.read_bytes())], engine.catalog())
            users.create_user(USER, PASSWORD, "ops", "基准客户端")
            db.session.commit()
            templates = _templates()
            first = seed.next_id("engine_instance")
            _copy_all(templates, first, sizes.instances, progress)
            return _waiting_sample(first, sizes.sequential + sizes.concurrent)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _advance(instance_id: int, steps: int) -> None:
    for element in ("Task_A", "Task_B")[:steps]:
        [task] = queries.open_tasks(instance_id)
        assert task.element_id == element
        engine.complete_task(task.id, DATA[element], actor=USER)


def _templates() -> list[Template]:
    """One real instance finished, one waiting at A, one waiting at B (copied in that mix)."""
    found = []
    for steps, label in ((2, "done"), (0, "at-a"), (1, "at-b")):
        instance = engine.start("approval", business_key=f"approval-template-{label}",
                                actor=USER)
        _advance(instance.id, steps)
        found.append(Template(seed.rows_of("engine_instance", "id = :i", i=instance.id)[0],
                              seed.rows_of("engine_task", "instance_id = :i", i=instance.id),
                              seed.rows_of("engine_event", "instance_id = :i", i=instance.id)))
    return found


def _which(k: int) -> int:
    """Half finished, a quarter waiting at A, a quarter at B."""
    return 0 if k % 2 == 0 else (1 if k % 4 == 1 else 2)


def _values(row: dict[str, Any], names: list[str], shift: timedelta,
            **changed: Any) -> tuple[Any, ...]:
    """The row's values in ``names`` order, times moved back by ``shift``, some replaced."""
    return tuple(changed[n] if n in changed else
                 (row[n] - shift if isinstance(row[n], datetime) else row[n]) for n in names)


def _copy_all(templates: list[Template], first: int, n: int, progress: Progress) -> None:
    names = {t: seed.columns(t) for t in ("engine_instance", "engine_task")}
    names["engine_event"] = seed.columns("engine_event", without=("id",))
    chunk = seed.BATCH
    for start in range(0, n, chunk):
        rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for k in range(start, min(n, start + chunk)):
            template, iid, shift = templates[_which(k)], first + k, timedelta(seconds=k)
            state, ids = template.copier.copy()
            rows["engine_instance"].append(_values(
                template.instance, names["engine_instance"], shift, id=iid,
                business_key=f"approval-seed-{k}", state=state))
            rows["engine_task"] += [_values(t, names["engine_task"], shift, id=ids[t["id"]],
                                            instance_id=iid) for t in template.tasks]
            rows["engine_event"] += [_values(e, names["engine_event"], shift, instance_id=iid)
                                     for e in template.events]
        for table in ("engine_instance", "engine_task", "engine_event"):
            seed.insert(table, names[table], rows[table])
        progress("seed approval instances (COPY)", min(n, start + chunk), n)
    seed.reset_ids(["engine_instance", "engine_event"])
    seed.analyze(["engine_instance", "engine_task", "engine_event"])


def _waiting_sample(first: int, count: int) -> list[tuple[str, str]]:
    rows = seed.rows_of("engine_task", "status = 'open' AND instance_id >= :f", f=first)
    picked = random.Random(9).sample(rows, min(count, len(rows)))
    return [(r["id"], r["element_id"]) for r in picked]


def _storage(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM engine_instance WHERE status = "
                                          "'completed' ORDER BY id LIMIT 2000").fetchall()]
    return footprint.row_bytes(dsn, ids)


# -- measuring ----------------------------------------------------------------------------

def _cycle(client: Client, tag: str, seeded: tuple[str, str] | None,
           samples: dict[str, list[float]]) -> None:
    """Start an instance, complete A then B; then complete one seeded waiting task."""
    ms, body = client.call("POST", "/bench/start/approval", 201,
                           json={"business_key": f"approval-http-{tag}"})
    samples["start"].append(ms)
    task_id = body["open_tasks"][0]["id"]
    for element in ("Task_A", "Task_B"):
        ms, open_tasks = client.call("POST", f"/bench/complete/{task_id}", json=DATA[element])
        samples["complete_new"].append(ms)
        task_id = open_tasks[0]["id"] if open_tasks else ""
    if seeded is not None:
        ms, _ = client.call("POST", f"/bench/complete/{seeded[0]}", json=DATA[seeded[1]])
        samples["complete_seeded"].append(ms)


def _phase(base: str, token: str, *, threads: int, cycles: int,
           seeded: list[tuple[str, str]], progress: Progress, label: str) -> dict[str, Any]:
    per_thread: list[dict[str, list[float]]] = [defaultdict(list) for _ in range(threads)]
    counter = Counter(f"approval {label}: cycles, {threads} client(s)", cycles, progress)

    def worker(index: int) -> None:
        client = Client(base, token)
        try:
            for i in share(cycles, threads, index):
                mine = seeded[i] if i < len(seeded) else None
                _cycle(client, f"{label}-{i}", mine, per_thread[index])
                counter.tick()
        finally:
            client.close()

    wall = parallel(threads, worker)
    merged = merged_samples(per_thread)
    calls = sum(len(v) for v in merged.values())
    return {"clients": threads, "cycles": cycles, "wall_s": round(wall, 2),
            "calls_per_s": round(calls / wall, 1), "start": percentiles(merged["start"]),
            "complete": percentiles(merged["complete_new"] + merged["complete_seeded"]),
            "complete_new": percentiles(merged["complete_new"]),
            "complete_seeded": percentiles(merged["complete_seeded"])}


def _measure(base: str, seeded: list[tuple[str, str]], sizes: Sizes,
             progress: Progress) -> dict[str, Any]:
    token = sign_in(base, USER, PASSWORD)
    _phase(base, token, threads=sizes.threads, cycles=sizes.warm_up, seeded=[],
           progress=progress, label="warm-up")
    floor = _floor(base, token, sizes.sequential, progress)
    sequential = _phase(base, token, threads=1, cycles=sizes.sequential,
                        seeded=seeded[:sizes.sequential], progress=progress, label="sequential")
    concurrent = _phase(base, token, threads=sizes.threads, cycles=sizes.concurrent,
                        seeded=seeded[sizes.sequential:], progress=progress, label="concurrent")
    return {"routes": ROUTES, "sizes": asdict(sizes), "server": (
        f"gunicorn bench.wsgi, {sizes.web_workers} gthread workers x {sizes.web_threads} "
        "threads, keep-alive"), "http_floor": floor, "sequential": sequential,
        "concurrent": concurrent}


def _floor(base: str, token: str, n: int, progress: Progress) -> dict[str, Any]:
    """``GET /healthz`` (one SELECT 1, one Redis PING) with the same client: what any call
    costs before the engine does anything."""
    client = Client(base, token)
    samples = []
    try:
        for i in range(n):
            samples.append(client.call("GET", "/healthz")[0])
            progress("approval: HTTP floor (GET /healthz)", i + 1, n)
    finally:
        client.close()
    return percentiles(samples)


def _figures(r: dict[str, Any]) -> list[dict[str, Any]]:
    seq, con = r["sequential"], r["concurrent"]
    many = f"{con['clients']} clients"
    return [
        figure("approval_http.start_p50", "start over HTTP, p50, 1 client",
               seq["start"]["p50_ms"], "ms", 20),
        figure("approval_http.complete_p50", "complete over HTTP, p50, 1 client",
               seq["complete"]["p50_ms"], "ms", 15),
        figure("approval_http.complete_p99", "complete over HTTP, p99, 1 client",
               seq["complete"]["p99_ms"], "ms", 60),
        figure("approval_http.http_floor_p50", "HTTP floor: GET /healthz, p50, 1 client",
               r["http_floor"]["p50_ms"], "ms"),
        figure("approval_http.seeded_complete_p50", "complete of a seeded copy, p50, 1 client",
               seq["complete_seeded"].get("p50_ms"), "ms"),
        figure("approval_http.concurrent_start_p50", f"start over HTTP, p50, {many}",
               con["start"]["p50_ms"], "ms"),
        figure("approval_http.concurrent_complete_p50", f"complete over HTTP, p50, {many}",
               con["complete"]["p50_ms"], "ms"),
        figure("approval_http.concurrent_complete_p99", f"complete over HTTP, p99, {many}",
               con["complete"]["p99_ms"], "ms"),
        figure("approval_http.concurrent_calls_per_s", f"HTTP calls per second, {many}",
               con["calls_per_s"], "/s", better="higher"),
        figure("approval_http.web_rss", "web process RSS after the run (largest gunicorn "
               "worker)", r["rss"]["max_worker_mb"], "MB", 150),
        figure("approval_http.bytes_per_finished", "stored bytes per finished approval instance",
               r["storage"]["bytes_per_instance"], "B"),
    ]
