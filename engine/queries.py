"""Read-only queries over the engine's tables: inboxes, an instance's open tasks and history.
Plain indexed queries; no workflow is deserialized."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from .activation import current_ids
from .db import db
from .definitions import specs_of
from .models import (
    Definition,
    Event,
    Incident,
    Instance,
    Job,
    JobStatus,
    MessageWait,
    Timer,
    UserTask,
    WaitStatus,
    status_label,
)


def inbox(group: str, scope: str, *, assignee: str | None = None, form_key: str | None = None,
          process: str | None = None, due_before: datetime | None = None,
          business_keys: Any = None, page: int = 1, per_page: int = 20,
          order: str = "created", area: str | None = None) -> Sequence[UserTask]:
    """Open tasks of ``group`` in ``scope``, oldest first; optionally only ``assignee``'s, of
    one form or procedure, due before a time (overdue ones: ``due_before=now()``), or of the
    instances whose business key is in ``business_keys`` (a select of keys), or filed under
    ``area`` (a few primary-key look-ups from the inbox's own rows). ``order``:
    ``created`` (oldest first) or ``due`` (soonest due first, tasks without a due date last)."""
    query = sa.select(UserTask).where(UserTask.status == WaitStatus.OPEN,
                                      UserTask.candidate_group == group,
                                      UserTask.scope == scope)
    if assignee is not None:
        query = query.where(UserTask.assignee == assignee)
    if form_key:
        query = query.where(UserTask.form_key == form_key)
    if process or area or business_keys is not None:  # from the inbox's rows to instances
        query = query.join(Instance, Instance.id == UserTask.instance_id)
    if process:
        query = query.join(Definition, Definition.id == Instance.definition_id).where(
            Definition.key == process)
    if due_before is not None:
        query = query.where(UserTask.due_at < due_before)
    if business_keys is not None:
        query = query.where(Instance.business_key.in_(business_keys))
    if area:
        query = query.where(Instance.area == area)
    if order == "due":
        query = query.order_by(UserTask.due_at.is_(None), UserTask.due_at, UserTask.id)
    else:
        query = query.order_by(UserTask.created_at, UserTask.id)
    return db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()


def open_tasks(instance_id: int) -> Sequence[UserTask]:
    return db.session.scalars(sa.select(UserTask).filter_by(
        instance_id=instance_id, status=WaitStatus.OPEN).order_by(UserTask.created_at)).all()


def history(instance_id: int) -> Sequence[Event]:
    return db.session.scalars(sa.select(Event).filter_by(instance_id=instance_id)
                              .order_by(Event.id)).all()


def instances(*, status: str | None = None, process: str | None = None,
              business_key: str | None = None, has_incident: bool | None = None,
              page: int = 1, per_page: int = 50, version: int | None = None,
              scope: str | None = None, business_keys: Any = None,
              started_from: datetime | None = None, started_before: datetime | None = None,
              before_id: int | None = None) -> Sequence[tuple[Instance, Definition]]:
    """Instances with their definition, newest first, filtered as asked. ``before_id`` pages
    by key (ids below it), which stays fast however deep the page; ``page`` by offset."""
    query = sa.select(Instance, Definition).join(Definition,
                                                 Definition.id == Instance.definition_id)
    query = query.where(*_instance_filters(
        status=status, process=process, business_key=business_key, has_incident=has_incident,
        version=version, scope=scope, business_keys=business_keys, started_from=started_from,
        started_before=started_before))
    if before_id is not None:
        query = query.where(Instance.id < before_id)
    else:
        query = query.offset((page - 1) * per_page)
    query = query.order_by(Instance.id.desc()).limit(per_page)
    return [(i, d) for i, d in db.session.execute(query).all()]


class StartedInstance(NamedTuple):
    """One instance in a person's list of what they started."""

    instance_id: int
    business_key: str | None
    process: str
    process_name: str | None
    version: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    current_tasks: list[str]
    """The names of the user tasks it waits on now (where it stands), oldest first."""

    @property
    def status_label(self) -> str:
        return status_label(self.status)


def started_by(person: str, *, offset: int = 0, limit: int = 20) -> list[StartedInstance]:
    """The instances ``person`` (a username) started, newest first, with the user tasks each
    waits on: two indexed queries whatever the page's size (the page, then its open tasks);
    no workflow state is read."""
    rows = db.session.execute(
        sa.select(Instance.id, Instance.business_key, Definition.key, Definition.name,
                  Definition.version, Instance.status, Instance.started_at, Instance.ended_at)
        .join(Definition, Definition.id == Instance.definition_id)
        .where(Instance.started_by == person)
        .order_by(Instance.started_at.desc(), Instance.id.desc())
        .limit(limit).offset(offset)).all()
    waiting: dict[int, list[str]] = {row[0]: [] for row in rows}
    if waiting:
        for instance_id, name in db.session.execute(
                sa.select(UserTask.instance_id, sa.func.coalesce(UserTask.name,
                                                                 UserTask.element_id))
                .where(UserTask.status == WaitStatus.OPEN,
                       UserTask.instance_id.in_(list(waiting)))
                .order_by(UserTask.created_at, UserTask.id)):
            waiting[instance_id].append(name)
    return [StartedInstance(*row, current_tasks=waiting[row[0]]) for row in rows]


def _instance_filters(*, status: str | None, process: str | None, business_key: str | None,
                      has_incident: bool | None, version: int | None, scope: str | None,
                      business_keys: Any, started_from: datetime | None,
                      started_before: datetime | None) -> list[Any]:
    conditions: list[Any] = []
    if status:
        conditions.append(Instance.status == status)
    if process:
        conditions.append(Definition.key == process)
    if version is not None:
        conditions.append(Definition.version == version)
    if scope:
        conditions.append(Instance.scope == scope)
    if business_key:
        conditions.append(Instance.business_key == business_key)
    if business_keys is not None:
        conditions.append(Instance.business_key.in_(business_keys))
    if started_from is not None:
        conditions.append(Instance.started_at >= started_from)
    if started_before is not None:
        conditions.append(Instance.started_at < started_before)
    if has_incident is not None:
        open_incident = sa.exists().where(Incident.instance_id == Instance.id,
                                          Incident.resolved_at.is_(None))
        conditions.append(open_incident if has_incident else ~open_incident)
    return conditions


def counts_by_status() -> dict[str, int]:
    rows = db.session.execute(sa.select(Instance.status, sa.func.count()).group_by(
        Instance.status)).all()
    return {status: count for status, count in rows}


def waits(instance_id: int) -> dict[str, list[dict[str, object]]]:
    """What an instance waits for now: jobs, timers and messages (user tasks: ``open_tasks``)."""
    jobs = db.session.scalars(sa.select(Job).filter_by(instance_id=instance_id,
                                                       status=JobStatus.PENDING)).all()
    timers = db.session.scalars(sa.select(Timer).filter_by(instance_id=instance_id,
                                                           status=WaitStatus.OPEN)).all()
    messages = db.session.scalars(sa.select(MessageWait).filter_by(
        instance_id=instance_id, status=WaitStatus.OPEN)).all()
    return {
        "jobs": [{"id": j.id, "element_id": j.element_id, "operation": j.operation,
                  "attempts": j.attempts, "run_after": j.run_after.isoformat(),
                  "last_error": j.last_error} for j in jobs],
        "timers": [{"element_id": t.element_id, "due_at": t.due_at.isoformat()}
                   for t in timers],
        "messages": [{"element_id": m.element_id, "name": m.name,
                      "correlation_key": m.correlation_key} for m in messages],
    }


def incidents(instance_id: int) -> Sequence[Incident]:
    return db.session.scalars(sa.select(Incident).filter_by(instance_id=instance_id)
                              .order_by(Incident.id)).all()


def versions() -> Sequence[tuple[Definition, int]]:
    """Every deployed version with the number of its instances that are not finished."""
    running = (sa.select(Instance.definition_id, sa.func.count().label("n"))
               .where(Instance.status.not_in(("completed", "terminated")))
               .group_by(Instance.definition_id).subquery())
    query = (sa.select(Definition, sa.func.coalesce(running.c.n, 0))
             .outerjoin(running, running.c.definition_id == Definition.id)
             .order_by(Definition.key, Definition.version.desc()))
    return [(d, n) for d, n in db.session.execute(query).all()]


def current_definitions() -> Sequence[Definition]:
    """The current version of every deployed process (with its forms), by key."""
    ids = current_ids()
    return db.session.scalars(sa.select(Definition).join(ids, ids.c.id == Definition.id)
                              .options(sa.orm.undefer(Definition.forms))
                              .order_by(Definition.key)).all()


def inbox_count(group: str, scope: str) -> int:
    """How many open tasks wait for ``group`` in ``scope`` (the header's badge)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(UserTask).where(
        UserTask.status == WaitStatus.OPEN, UserTask.candidate_group == group,
        UserTask.scope == scope)) or 0


def element_names(definition_id: int) -> dict[str, str]:
    """The diagram's names of a version's elements (call activities' processes included), by
    element id, for timelines."""
    top, subprocesses = specs_of(definition_id)
    names: dict[str, str] = {}
    for spec in (top, *subprocesses.values()):
        for task_spec in spec.task_specs.values():
            bpmn_id, bpmn_name = getattr(task_spec, "bpmn_id", None), getattr(
                task_spec, "bpmn_name", None)
            if bpmn_id and bpmn_name:
                names.setdefault(bpmn_id, bpmn_name)
    return names


def open_incidents(limit: int = 200) -> Sequence[tuple[Incident, Instance, Definition]]:
    """Open incidents across all instances, newest first, with their instance and version."""
    query = (sa.select(Incident, Instance, Definition)
             .join(Instance, Instance.id == Incident.instance_id)
             .join(Definition, Definition.id == Instance.definition_id)
             .where(Incident.resolved_at.is_(None)).order_by(Incident.id.desc()).limit(limit))
    return [(i, inst, d) for i, inst, d in db.session.execute(query).all()]


def timers_due(limit: int = 20) -> Sequence[tuple[Timer, Instance]]:
    """The open timers that come due next."""
    query = (sa.select(Timer, Instance).join(Instance, Instance.id == Timer.instance_id)
             .where(Timer.status == WaitStatus.OPEN).order_by(Timer.due_at).limit(limit))
    return [(t, i) for t, i in db.session.execute(query).all()]


def jobs_by_status() -> dict[str, int]:
    rows = db.session.execute(sa.select(Job.status, sa.func.count()).group_by(Job.status))
    return {status: count for status, count in rows}
