"""``/metrics``: the engine's and the registry's figures in the Prometheus text format.

Every figure is counted from the database when it is scraped, so that any number of web and
worker processes give one consistent view. Open without sign-in only while
``CQPI_METRICS_TOKEN`` is unset; once it is set, a matching ``Authorization: Bearer`` header
is required.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, request

from engine import background
from engine.clock import now
from engine.db import db
from engine.models import (
    Definition,
    Incident,
    Instance,
    InstanceStatus,
    Job,
    JobStatus,
    UserTask,
    WaitStatus,
)
from registry.models import PublicityNotice

bp = Blueprint("metrics", __name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = dict[str, str]


@dataclass
class Family:
    """One metric family: its name, type, help text and samples (suffix, labels, value)."""

    name: str
    kind: str
    help: str
    samples: list[tuple[str, Labels, float]] = field(default_factory=list)

    def add(self, labels: Labels, value: float, suffix: str = "") -> None:
        self.samples.append((suffix, labels, value))


def escape(value: str) -> str:
    """A label value as the text format wants it: backslash, double quote, newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def render(families: list[Family]) -> str:
    """The families in the text exposition format (version 0.0.4)."""
    lines: list[str] = []
    for family in families:
        help_text = family.help.replace("\\", "\\\\").replace("\n", "\\n")
        lines.append(f"# HELP {family.name} {help_text}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for suffix, labels, value in family.samples:
            pairs = ",".join(f'{key}="{escape(text)}"' for key, text in labels.items())
            selector = f"{{{pairs}}}" if pairs else ""
            lines.append(f"{family.name}{suffix}{selector} {_number(value)}")
    return "\n".join(lines) + "\n"


def _seconds(start: Any, end: Any) -> Any:
    """``end - start`` in seconds as an SQL expression, on PostgreSQL and on SQLite."""
    if db.engine.dialect.name == "postgresql":
        return sa.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def instance_families() -> list[Family]:
    """Instances by process and status; every status of every deployed process, zeros too."""
    family = Family("cqpi_instances", "gauge", "Process instances by process and status.")
    rows = db.session.execute(
        sa.select(Definition.key, Instance.status, sa.func.count(Instance.id))
        .select_from(Definition)
        .outerjoin(Instance, Instance.definition_id == Definition.id)
        .group_by(Definition.key, Instance.status))
    counts: dict[tuple[str, str], int] = {}
    for key, status, count in rows:
        for known in InstanceStatus:
            counts.setdefault((key, known.value), 0)
        if status is not None:
            counts[(key, status)] = count
    for (key, status), count in sorted(counts.items()):
        family.add({"process": key, "status": status}, count)
    return [family]


def task_families() -> list[Family]:
    """User tasks by process and form key: completed, open, and how long the completed took."""
    done = Family("cqpi_tasks_completed_total", "counter", "User tasks completed.")
    open_ = Family("cqpi_tasks_open", "gauge", "User tasks waiting for a person.")
    took = Family("cqpi_task_completion_seconds", "summary",
                  "Time from a user task's creation to its completion.")
    rows = db.session.execute(
        sa.select(Definition.key, UserTask.form_key, UserTask.status, sa.func.count(),
                  sa.func.sum(_seconds(UserTask.created_at, UserTask.completed_at)),
                  sa.func.count(UserTask.completed_at))
        .select_from(UserTask)
        .join(Instance, Instance.id == UserTask.instance_id)
        .join(Definition, Definition.id == Instance.definition_id)
        .group_by(Definition.key, UserTask.form_key, UserTask.status))
    figures: dict[tuple[str, str], list[float]] = {}  # completed, open, seconds, timed
    for key, form_key, status, count, seconds, timed in rows:
        entry = figures.setdefault((key, form_key or ""), [0, 0, 0.0, 0])
        if status == WaitStatus.DONE:
            entry[0] += count
            entry[2] += float(seconds or 0)
            entry[3] += timed
        elif status == WaitStatus.OPEN:
            entry[1] += count
    for (key, form_key), (completed, waiting, seconds, timed) in sorted(figures.items()):
        labels = {"process": key, "form_key": form_key}
        done.add(labels, completed)
        open_.add(labels, waiting)
        took.add(labels, seconds, "_sum")
        took.add(labels, timed, "_count")
    return [done, open_, took]


def overdue_families() -> list[Family]:
    """Open user tasks past their due time, by lane and scope (a district's code, ``city``;
    an enterprise's tasks counted together as ``enterprise``, one series, not one a firm)."""
    family = Family("cqpi_tasks_overdue", "gauge",
                    "Open user tasks past their due time, by lane and scope.")
    scope = sa.case((UserTask.scope.like("org:%"), sa.literal("enterprise")),
                    else_=sa.func.coalesce(UserTask.scope, sa.literal("")))
    group = sa.func.coalesce(UserTask.candidate_group, sa.literal(""))
    rows = db.session.execute(
        sa.select(group, scope, sa.func.count())
        .where(UserTask.status == WaitStatus.OPEN, UserTask.due_at < now())
        .group_by(group, scope).order_by(group, scope))
    for group, where, count in rows:
        family.add({"group": group, "scope": where}, count)
    return [family]


def job_families() -> list[Family]:
    """Service jobs by operation: how many in each status, attempts, and time to finish."""
    jobs = Family("cqpi_jobs", "gauge", "Service jobs by operation and status.")
    attempts = Family("cqpi_job_attempts_total", "counter", "Attempts made at service jobs.")
    took = Family("cqpi_job_duration_seconds", "summary",
                  "Time from a service job's creation to its end (done, failed or cancelled).")
    rows = db.session.execute(
        sa.select(Job.operation, Job.status, sa.func.count(), sa.func.sum(Job.attempts),
                  sa.func.sum(_seconds(Job.created_at, Job.finished_at)),
                  sa.func.count(Job.finished_at))
        .group_by(Job.operation, Job.status))
    counts: dict[tuple[str, str], int] = {}
    totals: dict[str, list[float]] = {}  # attempts, seconds, finished
    for operation, status, count, tries, seconds, finished in rows:
        for known in JobStatus:
            counts.setdefault((operation, known.value), 0)
        counts[(operation, status)] = count
        entry = totals.setdefault(operation, [0, 0.0, 0])
        entry[0] += tries or 0
        entry[1] += float(seconds or 0)
        entry[2] += finished
    for (operation, status), count in sorted(counts.items()):
        jobs.add({"operation": operation, "status": status}, count)
    for operation, (tries, seconds, finished) in sorted(totals.items()):
        attempts.add({"operation": operation}, tries)
        took.add({"operation": operation}, seconds, "_sum")
        took.add({"operation": operation}, finished, "_count")
    return [jobs, attempts, took]


def incident_families() -> list[Family]:
    """Open incidents: the total, and by process and the element that failed."""
    total = Family("cqpi_incidents_open", "gauge", "Incidents not yet resolved.")
    detail = Family("cqpi_incidents_open_by_element", "gauge",
                    "Incidents not yet resolved, by process and failing element.")
    rows = db.session.execute(
        sa.select(Definition.key, Incident.element_id, sa.func.count())
        .select_from(Incident)
        .join(Instance, Instance.id == Incident.instance_id)
        .join(Definition, Definition.id == Instance.definition_id)
        .where(Incident.resolved_at.is_(None))
        .group_by(Definition.key, Incident.element_id)
        .order_by(Definition.key, Incident.element_id))
    count = 0
    for key, element_id, number in rows:
        detail.add({"process": key, "element_id": element_id}, number)
        count += number
    total.add({}, count)
    return [total, detail]


def registry_families() -> list[Family]:
    notices = Family("cqpi_publicity_notices_open", "gauge",
                     "Publicity notices on the public board now.")
    open_count = db.session.scalar(
        sa.select(sa.func.count()).select_from(PublicityNotice)
        .where(PublicityNotice.status == "open"))
    notices.add({}, open_count or 0)
    return [notices]


def background_families() -> list[Family]:
    """Whether background work moves: workers alive, the oldest due job's wait, overdue
    timers (engine.background)."""
    moving = background.read()
    workers = Family("cqpi_workers_alive", "gauge", "rq workers alive on the engine's queue.")
    workers.add({}, moving.workers if moving.workers is not None else 0)
    oldest = Family("cqpi_oldest_due_job_seconds", "gauge",
                    "How long the oldest due service job has waited.")
    oldest.add({}, moving.oldest_due_job_seconds)
    overdue = Family("cqpi_timers_overdue", "gauge",
                     "Timers more than 30 seconds past their due time.")
    overdue.add({}, moving.overdue_timers)
    return [workers, oldest, overdue]


def _version() -> str:
    try:
        return metadata.version("cqpi")
    except metadata.PackageNotFoundError:
        return "unknown"


def collect() -> list[Family]:
    """Every family, counted now."""
    up = Family("cqpi_up", "gauge", "1 when the service and its database answer.")
    up.add({}, 1)
    build = Family("cqpi_build_info", "gauge", "The running version of cqpi.")
    build.add({"version": _version()}, 1)
    return [up, build, *instance_families(), *task_families(), *overdue_families(),
            *job_families(),
            *incident_families(), *registry_families(), *background_families()]


def _authorised() -> bool:
    """True when no token is configured, or the request carries it as a bearer token."""
    token = current_app.config.get("CQPI_METRICS_TOKEN")
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), str(token).encode())


@bp.get("/metrics")
def metrics() -> Response:
    """The figures for Prometheus (401 without the bearer token when one is configured)."""
    if not _authorised():
        return Response("unauthorized\n", status=401, content_type=CONTENT_TYPE,
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(render(collect()), content_type=CONTENT_TYPE,
                    headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
