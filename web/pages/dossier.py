"""Everything a page shows of one application: its stages as read-only tables, the reasons of
the last return by item, attachments against the ones its rules require, who acts next, and
one timeline of the registry's audit events and the procedure's history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine import queries
from engine.db import db
from engine.models import Instance, UserTask
from forms import STAGES
from forms.codes import REVIEW_ITEMS
from forms.html import display
from forms.stages import STAGE_NAMES
from lifecycle import reviews
from lifecycle.states import ENDED
from registry import rules
from registry.attachments import KINDS
from registry.models import Application, Attachment, AuditEvent, Category, Kind

from . import labels


@dataclass
class Entry:
    at: datetime
    what: str
    who: str | None = None
    detail: str | None = None


@dataclass
class Change:
    """A field whose shown value differs from the one the last return saw."""
    stage: str
    stage_title: str
    label: str
    before: str
    after: str


EMPTY = "（未填）"


@dataclass
class Dossier:
    application: Application
    stages: list[tuple[str, str, list[tuple[str, Any]]]]  # key, title, fields
    reasons: dict[str, list[str]]  # review item (stage or "attachments", "general") -> reasons
    attachments: list[Attachment]
    required: list[tuple[str, str, bool]]  # kind, title, present
    open_tasks: list[UserTask]
    timeline: list[Entry] = field(default_factory=list)
    previous: reviews.Round | None = None  # the return answered by the latest resubmission
    changes: list[Change] | None = None  # since that return; None where it was not kept

    @property
    def changed(self) -> dict[str, dict[str, str]]:
        """Stage -> field label -> its value as returned, for the fields that changed."""
        marked: dict[str, dict[str, str]] = {}
        for change in self.changes or []:
            marked.setdefault(change.stage, {})[change.label] = change.before
        return marked

    @staticmethod
    def item_title(item: str) -> str:
        """A review item's name: a stage's, 申报材料, or 审核意见 for the general comment."""
        return "审核意见" if item == "general" else REVIEW_ITEMS.get(item, item)

    def new_since_return(self, attachment: Attachment) -> bool:
        returned = self.previous.returned_at if self.previous else None
        return returned is not None and attachment.created_at > returned

    @property
    def next_actor(self) -> str:
        if self.application.status == "draft":
            return "申请单位：上传申报材料后提交"
        if not self.open_tasks:
            return "无需办理" if self.application.status in ENDED else "系统处理中"
        return "；".join(f"{labels.GROUPS.get(t.candidate_group or '', t.candidate_group)}："
                        f"{t.name}" for t in self.open_tasks)


def required_kinds(application: Application) -> list[str]:
    kinds = list(rules.REQUIRED_ATTACHMENTS[Kind(application.kind)])
    if application.project.category == Category.OI and application.kind in (Kind.INTAKE,
                                                                            Kind.BACKFILL):
        kinds.append("authenticity_letter")
    return kinds


def stage_tables(data: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, Any]]]]:
    order = list(STAGE_NAMES)
    return [(name, STAGE_NAMES[name], display(STAGES[name](), data[name]))
            for name in sorted(data, key=lambda n: order.index(n) if n in order else 99)]


def build(application: Application) -> Dossier:
    attachments = list(db.session.scalars(sa.select(Attachment).filter_by(
        application_id=application.id).order_by(Attachment.id)))
    present = {a.kind for a in attachments}
    required = [(k, KINDS[k], k in present) for k in required_kinds(application)]
    tasks, events, names = [], [], {}
    if application.instance_id is not None:
        tasks = list(queries.open_tasks(application.instance_id))
        events = list(queries.history(application.instance_id))
        instance = db.session.get(Instance, application.instance_id)
        names = queries.element_names(instance.definition_id) if instance else {}
    previous = reviews.previous_round(events)
    return Dossier(application, stage_tables(application.data or {}), reviews.last_return(events),
                   attachments, required, tasks, timeline(application, events, names),
                   previous, changes(previous.data, application.data or {})
                   if previous is not None and previous.data is not None else None)


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The fields whose shown values differ between two versions of the stage data, in the
    order of the stages and their forms; a stage one side lacks counts as empty there."""
    found: list[Change] = []
    old = {key: dict(fields) for key, _title, fields in stage_tables(
        {k: v for k, v in before.items() if k in STAGES})}
    new = {key: dict(fields) for key, _title, fields in stage_tables(
        {k: v for k, v in after.items() if k in STAGES})}
    order = list(STAGE_NAMES)
    for key in sorted(old.keys() | new.keys(), key=lambda n: order.index(n) if n in order else 99):
        was, now_ = old.get(key, {}), new.get(key, {})
        labels_ = list(now_) + [label for label in was if label not in now_]
        for label in labels_:
            a, b = _text(was.get(label)), _text(now_.get(label))
            if a != b:
                found.append(Change(key, STAGE_NAMES.get(key, key), label, a, b))
    return found


def _text(value: Any) -> str:
    """A shown value as one line: rows of a list joined."""
    if value is None:
        return EMPTY
    if isinstance(value, str):
        return value
    return " / ".join("；".join(f"{label}：{v}" for label, v in row) for row in value) or EMPTY


def timeline(application: Application, events: list[Any],
             names: dict[str, str]) -> list[Entry]:
    entries = [Entry(e.created_at, labels.EVENTS.get(e.action, e.action), e.actor,
                     (e.data or {}).get("name"))
               for e in db.session.scalars(sa.select(AuditEvent).filter_by(
                   object=f"application:{application.id}"))]
    for event in events:
        if event.kind in ("job_succeeded", "message_received") and not names.get(
                event.element_id or ""):
            continue
        what = names.get(event.element_id or "") or labels.EVENTS.get(event.kind, event.kind)
        if event.kind == "task_completed":
            what = f"{what}（已办理）"
        entries.append(Entry(event.created_at, what, event.actor, _summary(event.data)))
    return sorted(entries, key=lambda e: e.at)


def _summary(data: dict[str, Any] | None) -> str | None:
    data = data or {}
    decision = {"approve": "通过", "return": "退回", "uphold": "异议成立",
                "dismiss": "异议不成立", "resubmit": "重新提交", "withdraw": "撤回"}
    for key in ("decision", "action"):
        if data.get(key) in decision:
            return decision[data[key]]
    if "reason" in data and isinstance(data["reason"], str):
        return data["reason"]
    return None
