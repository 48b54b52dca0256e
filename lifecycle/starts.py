"""Starting any deployed procedure by hand (issue 17): who may start it (the role of its start
event's lane), its start form, the instance's business key and the scope its tasks are filed
under. The product's own procedures start through their applications or by the system and
are refused here."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition

import engine
from engine import queries
from engine.activation import current
from engine.clock import now
from engine.db import db
from engine.definitions import specs_of
from engine.models import Definition
from registry import audit, jurisdictions
from registry.applications import FormInvalid, NotAllowed
from registry.calendar import BEIJING
from registry.models import Project, User
from registry.queries import visible_projects
from registry.users import scope_of

from . import forms
from .submission import PROCESS_OF_KIND
from .tasks import json_safe, user_scope

APPLICATIONS = "由申请启动：请通过申请接口（/api/v1/applications）提交申请，流程随之启动"
OWN: dict[str, str] = {
    **dict.fromkeys(PROCESS_OF_KIND.values(), APPLICATIONS),
    "publicity_and_push": "由系统在核实通过后启动",
    "monthly_sampling": "由系统每月定时启动",
    "key_inspection": "由系统在受理投诉举报或抽查不合格时启动",
}
"""The product's procedures, which need what their starter knows: never started here."""

KEY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""Business-key suffix characters: digits and capitals without the look-alikes (0 O 1 I L)."""

PROJECT_FIELD = "project_number"
"""A start form's field that names the project the procedure is about: the instance is
filed under that project's reviewers (its district or the city)."""

DISTRICT_FIELD = "district"
"""A start form's field that names a jurisdiction (its code, as in registry/data/
jurisdictions.csv): without a project, the instance is filed under that district's
reviewers."""


@dataclass(frozen=True)
class Entry:
    """How a version is started by hand: its start event's lane and start form."""

    definition: Definition
    lane: str | None
    form_key: str | None

    @property
    def role(self) -> str | None:
        return engine.catalog().role_of(self.lane)


@dataclass(frozen=True)
class Started:
    instance_id: int
    business_key: str
    process: str
    version: int


def entry(definition: Definition) -> Entry:
    """The none start event of ``definition`` (the one a person starts); a version without
    exactly one has no lane, so nobody may start it."""
    spec, _ = specs_of(definition.id)
    found = [s for s in spec.start.outputs
             if isinstance(getattr(s, "event_definition", None), NoneEventDefinition)]
    if len(found) != 1:
        return Entry(definition, None, None)
    props = (getattr(found[0], "extensions", None) or {}).get("properties", {})
    return Entry(definition, getattr(found[0], "lane", None), props.get("formKey") or None)


def startable(user: User) -> list[Entry]:
    """The current versions of the procedures ``user`` may start, by key."""
    entries = (entry(d) for d in queries.current_definitions() if d.key not in OWN)
    return [e for e in entries if e.role is not None and e.role == user.role]


def start_form(key: str, user: User) -> forms.Form | None:
    """The start form of procedure ``key`` for someone who may start it (None: no form)."""
    return form_of(allowed(key, user))


def form_of(found: Entry) -> forms.Form | None:
    """The start form of a version (None: it starts without one)."""
    return None if found.form_key is None else forms.of_definition(
        found.definition.id, found.form_key)


def start(key: str, raw: Any, user: User) -> Started:
    """Start the current version of ``key`` as ``user`` with the start form's data ``raw``,
    audited. Raises engine.NotFound (unknown key), engine.Conflict (a product procedure),
    NotAllowed (not the start lane's role), FormInvalid (the data), engine.StepFailed."""
    form = start_form(key, user)
    if form is not None:
        data = form.load(raw)
    elif raw != {}:
        raise FormInvalid({"_schema": ["该流程没有开始表单，请求体应为空对象 {}"]})
    else:
        data = {}
    scope, area, filed = _filed_under(user, data)
    if scope is None and _unscoped_tasks(key):
        raise FormInvalid({"_schema": [
            f"此流程的任务按项目或区县分派：请在开始表单中填写项目编号（{PROJECT_FIELD}）"
            f"或管理区县（{DISTRICT_FIELD}），否则无人能办理"]})
    business_key = _business_key(key)
    with engine.transaction():
        instance = engine.start(key, business_key=business_key, scope=scope, area=area,
                                actor=user.username, started_by=user.username,
                                data={**json_safe(data), **filed})
        version = db.session.scalar(sa.select(Definition.version).where(
            Definition.id == instance.definition_id)) or 0
        audit.record(user.username, "process_started", f"instance:{instance.id}",
                     {"process": key, "version": version, "business_key": business_key})
    return Started(instance.id, business_key, key, version)


def started(user: User, *, offset: int = 0, limit: int = 20) -> list[queries.StartedInstance]:
    """What ``user`` started (我发起的), newest first: the procedures they started here and,
    for an enterprise user, the procedures of the applications they submitted, each with the
    tasks it waits on now. Only their own: never another user's, not even a colleague's in
    the same organisation; never what the system started."""
    return queries.started_by(user.username, offset=offset, limit=limit)


def _business_key(key: str) -> str:
    """``{key}-{YYYYMMDD, Beijing}-{six random characters}``: readable, and unique among
    active instances by the engine's index (31^6 suffixes a day; a clash is a 409)."""
    today = now().replace(tzinfo=dt.UTC).astimezone(BEIJING).date()
    return f"{key}-{today:%Y%m%d}-{''.join(secrets.choice(KEY_ALPHABET) for _ in range(6))}"


def allowed(key: str, user: User) -> Entry:
    """How the current version of ``key`` starts, if ``user`` may start it. Raises
    engine.NotFound (unknown key), engine.Conflict (a product procedure), NotAllowed."""
    if key in OWN:
        raise engine.Conflict(f"流程“{key}”不能在此启动：{OWN[key]}")
    found = entry(current(key))
    name = found.definition.name or key
    if found.role is None:
        lane = f"泳道“{found.lane}”没有对应的办理角色" if found.lane else "不在任何泳道中"
        raise NotAllowed(f"流程“{name}”不能由人员启动：其开始事件{lane}")
    if found.role != user.role:
        raise NotAllowed(f"流程“{name}”由“{found.lane}”泳道的人员启动，您的角色不能启动")
    return found


def _filed_under(user: User, data: dict[str, Any]) -> tuple[str | None, str | None,
                                                             dict[str, Any]]:
    """The instance's scope (its tasks' scope unless a task names one) and area, and what the
    procedure knows of its starter: the project the start form names (its reviewers), else
    the reviewer's own scope; ``initiator_scope`` is the starter's, for a task that goes
    back to them (``<spiffworkflow:property name="scope" value="initiator_scope"/>``)."""
    filed: dict[str, Any] = {"initiator": user.username, "initiator_scope": user_scope(user)}
    number = data.get(PROJECT_FIELD)
    if isinstance(number, str) and number:
        project = db.session.scalar(visible_projects(user).where(
            Project.project_number == number))
        if project is None:
            raise FormInvalid({PROJECT_FIELD: [f"未找到您可办理的项目（项目编号 {number}）"]})
        return project.scope, project.location_code, {**filed, "project_id": project.id}
    district = data.get(DISTRICT_FIELD)
    if isinstance(district, str) and district:
        if district not in jurisdictions.table():
            raise FormInvalid({DISTRICT_FIELD: [f"未知的区县代码“{district}”"]})
        return district, district, filed
    return scope_of(user), user.jurisdiction_code, filed


def _unscoped_tasks(key: str) -> bool:
    """Whether the current version of ``key`` has a user task filed under the instance's
    scope (one without a scope of its own): with no scope, nobody would ever see it."""
    spec, subs = specs_of(current(key).id)
    every = [*spec.task_specs.values(), *(t for sub in subs.values()
                                          for t in sub.task_specs.values())]
    return any(getattr(t, "manual", False) and not (
        (getattr(t, "extensions", None) or {}).get("properties", {}).get("scope"))
        for t in every)
