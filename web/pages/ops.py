"""The ops console: every instance, where it stands on its diagram and why, and its repair
(retry, suspend, resume, terminate with a reason); incidents across instances; the queues."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from rq import Worker

import engine
from engine import marks as diagram_marks
from engine import modification, queries, state
from engine.db import db
from engine.faults import Explained, explain
from engine.models import STATUS_LABELS, Definition, Event, Instance
from engine.queue import queues
from handlers.sampling import monthly_key
from lifecycle import keys
from registry import audit, jurisdictions
from registry.models import Application, Inspection, Project, Role, SamplingDraw

from ..downloads import bpmn_download
from . import bp, labels, moment, session
from .pages_util import int_arg

OPS = (Role.OPS, Role.ADMIN)
VIEWERS = (Role.OPS, Role.ADMIN, Role.ANALYST)
PER_PAGE = 50
STATUSES = STATUS_LABELS


@bp.app_template_filter("explain")
def _explain(error: str | None) -> Explained:
    """A stored failure as shown: ``.cause`` in one line, ``.detail`` folded, no paths."""
    return explain(error)


@bp.get("/ops")
@session.signed_in(*OPS)
def ops_home() -> Any:
    return redirect(url_for("pages.ops_instances"))


def _day(value: str | None, after: int = 0) -> datetime | None:
    """A date from a filter as the UTC start of that Beijing day (plus ``after`` days)."""
    try:
        day = date.fromisoformat(value or "")
        return datetime.combine(day + timedelta(days=after), time(0)) - timedelta(hours=8)
    except (ValueError, OverflowError):  # not a date, or past the calendar's end
        return None


def _keys_of_project(number: str) -> list[str]:
    """The business keys of the procedures of the project with this number: its
    applications, its key inspections and the monthly samplings that drew one of its
    applications."""
    project_id = db.session.scalar(sa.select(Project.id).filter_by(project_number=number))
    if project_id is None:
        return []
    applications = set(db.session.scalars(sa.select(Application.id).filter_by(
        project_id=project_id)))
    inspections = db.session.scalars(sa.select(Inspection.id).filter_by(project_id=project_id))
    draws = db.session.execute(sa.select(SamplingDraw.period, SamplingDraw.drawn).filter_by(
        kind="monthly")).all() if applications else []
    periods = sorted({period for period, drawn in draws if applications & set(drawn or [])})
    return ([keys.business_key(i) for i in sorted(applications)]
            + [keys.inspection_key(i) for i in inspections]
            + [monthly_key(period) for period in periods])


@bp.get("/ops/instances")
@session.signed_in(*OPS)
def ops_instances() -> Any:
    args = request.args
    key = args.get("key", "").strip()
    incident = {"yes": True, "no": False}.get(args.get("incident", ""))
    rows = queries.instances(
        status=args.get("status") or None, process=args.get("process") or None,
        version=int_arg(args.get("version")), scope=args.get("scope") or None,
        business_key=key if key and not key.isdigit() else None,
        business_keys=_keys_of_project(key) if key.isdigit() else None,
        started_from=_day(args.get("from")), started_before=_day(args.get("to"), after=1),
        has_incident=incident, before_id=int_arg(args.get("before")), per_page=PER_PAGE)
    named = {d.key: d.name or d.key for d, _n in sorted(queries.versions(),
                                                         key=lambda v: v[0].version)}
    processes = sorted(named.items(), key=lambda item: (item[1], item[0]))  # newest names
    return render_template("ops_instances.html", rows=rows, args=args,
                           counts=queries.counts_by_status(), statuses=STATUSES,
                           processes=processes, districts=jurisdictions.table(),
                           next_before=rows[-1][0].id if len(rows) == PER_PAGE else None)


def _instance(instance_id: int) -> tuple[Instance, Definition]:
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        raise engine.NotFound(f"流程实例 {instance_id} 不存在")
    definition = db.session.get(Definition, instance.definition_id)
    assert definition is not None
    return instance, definition


def marks(instance: Instance) -> dict[str, str]:
    """How each element of the instance's own diagram is marked: completed, active (a task
    waiting for a person), waiting (a timer, message or job) or failed (an open incident); a
    call activity takes the state of what is active inside the process it called."""
    return diagram_marks.marks(instance)


def element_details(instance: Instance) -> dict[str, list[dict[str, Any]]]:
    """What a click on an element shows: its events (when, who, what data)."""
    details: dict[str, list[dict[str, Any]]] = {}
    for event in queries.history(instance.id):
        if event.element_id:
            data = event.data
            if data and isinstance(data.get("error"), str):
                data = {**data, "error": explain(data["error"]).detail}
            details.setdefault(event.element_id, []).append({
                "at": moment(event.created_at),
                "what": labels.EVENTS.get(event.kind, event.kind), "who": event.actor,
                "data": data})
    return details


def submitted_by_key(history: Sequence[Event]) -> dict[str, list[tuple[Event, Any]]]:
    """For each top-level data key, the value each completed task gave it, in order (the
    history keeps what a task submitted, not the whole data it saw)."""
    out: dict[str, list[tuple[Event, Any]]] = {}
    for event in history:
        if event.kind == "task_completed" and isinstance(event.data, dict):
            for key, value in event.data.items():
                out.setdefault(str(key), []).append((event, value))
    return out


def shown_waits(instance_id: int) -> dict[str, list[dict[str, Any]]]:
    """The instance's waits with their times as times (the page shows them in Beijing time)."""
    waits = queries.waits(instance_id)
    for timer in waits["timers"]:
        timer["due_at"] = datetime.fromisoformat(str(timer["due_at"]))
    for job in waits["jobs"]:
        job["run_after"] = datetime.fromisoformat(str(job["run_after"]))
    return waits


@bp.get("/ops/instances/<int(max=2147483647):instance_id>")
@session.signed_in(*OPS)
def ops_instance(instance_id: int) -> Any:
    instance, definition = _instance(instance_id)
    application = keys.application_of(instance)
    history = queries.history(instance.id)
    return render_template(
        "ops_instance.html", instance=instance, definition=definition, statuses=STATUSES,
        application=application, tasks=queries.open_tasks(instance.id),
        waits=shown_waits(instance.id), data=state.data_of(instance.state),
        history=history, by_key=submitted_by_key(history), incidents=queries.incidents(instance.id),
        names=queries.element_names(definition.id), marks=marks(instance),
        details=element_details(instance), called_links=called_links(instance))


@bp.get("/ops/definitions/<int(max=2147483647):definition_id>.bpmn")
@session.signed_in(*VIEWERS)
def definition_xml(definition_id: int) -> Any:
    definition = db.session.get(Definition, definition_id)
    if definition is None:
        raise engine.NotFound(f"流程定义 {definition_id} 不存在")
    return bpmn_download(definition)


ACTIONS = {"retry": "重试", "suspend": "挂起", "resume": "恢复", "terminate": "终止"}


@bp.post("/ops/instances/<int(max=2147483647):instance_id>/<action>")
@session.signed_in(*OPS)
def ops_act(instance_id: int, action: str) -> Any:
    if action not in ACTIONS:
        raise engine.NotFound(f"没有“{action}”操作")
    reason = request.form.get("reason", "").strip()
    if action in ("retry", "suspend", "terminate") and not reason:
        flash(f"{ACTIONS[action]}须填写原因", "error")
    else:
        _act(instance_id, action, reason)
    return redirect(url_for("pages.ops_instance", instance_id=instance_id))


def _act(instance_id: int, action: str, reason: str) -> bool:
    actor = session.user().username
    try:
        if action == "retry":
            engine.retry(instance_id, actor, reason)
        else:
            getattr(engine, action)(instance_id, actor, reason or None)
    except (engine.InvalidState, engine.Conflict) as exc:
        flash(f"实例 {instance_id}：{exc}", "error")
        return False
    audit.record(actor, f"instance_{action}", f"instance:{instance_id}", {"reason": reason})
    db.session.commit()
    flash(f"实例 {instance_id} 已{ACTIONS[action]}", "ok")
    return True


@bp.get("/ops/incidents")
@session.signed_in(*OPS)
def ops_incidents() -> Any:
    return render_template("ops_incidents.html", rows=queries.open_incidents())


@bp.post("/ops/incidents/retry")
@session.signed_in(*OPS)
def ops_retry_many() -> Any:
    ids = sorted({int(v) for v in request.form.getlist("instance") if v.isdigit()})
    reason = request.form.get("reason", "").strip()
    if not ids:
        flash("请先勾选要重试的实例", "error")
    elif not reason:
        flash("重试须填写原因", "error")
        return redirect(url_for("pages.ops_incidents"))
    done = sum(_act(i, "retry", reason) for i in ids)
    if ids:
        flash(f"已重试 {done} 个实例，{len(ids) - done} 个未能重试", "ok" if done == len(ids)
              else "error")
    return redirect(url_for("pages.ops_incidents"))


@bp.get("/ops/queues")
@session.signed_in(*OPS)
def ops_queues() -> Any:
    return render_template("ops_queues.html", queue=queue_figures(),
                           jobs=queries.jobs_by_status(), timers=queries.timers_due())


def queue_figures() -> dict[str, Any]:
    """The rq queue's waiting, running, failed and scheduled jobs, and the workers alive."""
    handle = queues()
    queue = handle.queue
    workers = [w for w in Worker.all(connection=handle.connection)
               if queue.name in w.queue_names()]
    return {"name": queue.name, "waiting": queue.count,
            "running": queue.started_job_registry.count,
            "failed": queue.failed_job_registry.count,
            "scheduled": queue.scheduled_job_registry.count,
            "workers": [{"name": w.name, "state": w.get_state(),
                         "queues": ", ".join(w.queue_names()),
                         "last_seen": w.last_heartbeat} for w in workers]}


# --- called processes (issue 19): a call activity's process is a view of the same instance --


def called_links(instance: Instance, calls: str = "") -> dict[str, str]:
    """The call activities on the diagram at ``calls`` (a path: call activity element ids
    joined by ``/``) that have called their process -> the address of its view: read once
    per page, for its list and its diagram."""
    path = tuple(filter(None, calls.split("/")))
    return {element: url_for("pages.ops_instance_called", instance_id=instance.id,
                             calls="/".join((*path, element)))
            for element in diagram_marks.calls(instance, path)}


@bp.get("/ops/instances/<int(max=2147483647):instance_id>/called/<path:calls>")
@session.signed_in(*OPS)
def ops_instance_called(instance_id: int, calls: str) -> Any:
    """The diagram of the process a call activity called, with the instance's marks on it
    (SpiffWorkflow runs it inside the same instance), and the way back up."""
    instance, definition = _instance(instance_id)
    path = tuple(calls.split("/"))
    found = diagram_marks.layout(instance)
    process = diagram_marks.called(instance, path, found)
    names = queries.element_names(definition.id)
    crumbs = [(names.get(c, c), "/".join(path[:i + 1])) for i, c in enumerate(path)]
    return render_template(
        "ops_instance_called.html", instance=instance, definition=definition,
        statuses=STATUSES, process=process, path="/".join(path), crumbs=crumbs,
        called=diagram_marks.called_definition(definition, process), names=names,
        marks=diagram_marks.marks(instance, path, found), details=element_details(instance),
        called_links=called_links(instance, "/".join(path)))


# --- instance modification (issue 19): move an instance back to an element it passed ---


@bp.app_template_global("modification_targets")
def modification_targets(instance: Instance) -> list[str]:
    """The elements the instance has passed, where ops may move it back."""
    return modification.targets(instance)


@bp.post("/ops/instances/<int(max=2147483647):instance_id>/modify")
@session.signed_in(*OPS)
def ops_modify(instance_id: int) -> Any:
    target = request.form.get("target", "").strip()
    reason = request.form.get("reason", "").strip()
    skip = request.form.getlist("skip")
    actor = session.user().username
    try:
        modification.modify(instance_id, target, actor=actor, reason=reason, skip=skip)
    except (engine.InvalidState, engine.Conflict) as exc:
        flash(f"实例 {instance_id} 未移动：{exc}", "error")
    else:
        audit.record(actor, "instance_modify", f"instance:{instance_id}",
                     {"reason": reason, "target": target, "skip": skip})
        db.session.commit()
        instance, _definition = _instance(instance_id)
        name = queries.element_names(instance.definition_id).get(target, target)
        flash(f"实例 {instance_id} 已移回“{name}”，其后的待办和等待已取消", "ok")
    return redirect(url_for("pages.ops_instance", instance_id=instance_id))
