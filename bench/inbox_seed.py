"""The inbox scenario's data, written in bulk: organisations, projects across the 38
districts and counties, one application and one instance per procedure run, and the user
tasks of those runs (4 each: review, amendment, review, then a review or an amendment), most
done and the last one of the runs still waiting open.

Tasks carry the lanes (candidate groups), element ids, form keys, scopes and due periods of
the production diagrams; a waiting run's instance is ``waiting`` and its application
``submitted``, a finished one ``completed`` and ``approved``. The inbox reads no workflow
state, so instances hold a small placeholder state instead of a real one.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import engine
from engine import state
from engine.clock import now
from registry import jurisdictions

from . import seed
from .support import Progress

DISTRICT, CITY, UNIT = "区县住建主管部门", "市住建委", "参建单位"
ELEMENTS = {DISTRICT: ("Task_DistrictReview", "逐项核实申报信息", "review", 10),
            CITY: ("Task_CityReview", "逐项核实申报信息", "review", 10),
            UNIT: ("Task_Amend", "修改或撤回申请", "amendment", 15)}
"""Lane -> element id, name, form key, due in days (as in processes/intake.bpmn)."""
KINDS = ("intake",) * 6 + ("backfill",) * 2 + ("correction",) + ("grade_adjust",)
TASKS_PER_RUN = 4
OPEN_SHARE = 0.16
"""Runs whose last task still waits: 1M tasks -> 250k runs -> about 40k open tasks."""
CITY_SHARE = 0.1
ORGANISATIONS = 200
PLACEHOLDER = zlib.compress(b'{"bench": "placeholder: the inbox never reads the state"}')


@dataclass
class People:
    enterprise_user: int
    reviewer: str  # the username whose district open tasks are partly claimed by them
    reviewer_scope: str


INSTANCE = ("id", "definition_id", "business_key", "scope", "area", "started_by", "status",
            "state", "serializer_version", "lock_version", "started_at", "updated_at", "ended_at")
APPLICATION = ("id", "kind", "applicant_id", "project_id", "stages", "data", "target_grade",
               "status", "instance_id", "rounds", "created_by", "created_at", "submitted_at",
               "decided_at")
TASK = ("id", "instance_id", "element_id", "name", "candidate_group", "form_key", "scope",
        "status", "assignee", "created_at", "due_at", "completed_at", "completed_by")
"""Every column of engine_instance, application and engine_task (checked against the models)."""
Row = tuple[Any, ...]


class Plan:
    """Deterministic random data; ids start after what the database already holds."""

    def __init__(self, people: People, projects: int) -> None:
        for table, names in (("engine_instance", INSTANCE), ("application", APPLICATION),
                             ("engine_task", TASK)):
            seed.check_columns(table, names)
        self.people = people
        self.rng = random.Random(2026)
        self.codes = sorted(c for c, (_, kind) in jurisdictions.table().items() if kind != "zone")
        self.first = {t: seed.next_id(t) for t in ("organisation", "project", "application",
                                                     "engine_instance")}
        self.projects = [self._scope_of_project() for _ in range(projects)]
        self.definitions = {k: engine.latest(k).id for k in set(KINDS)}
        self.start = now() - timedelta(days=730)
        self.tasks = 0

    def _scope_of_project(self) -> tuple[str, str | None]:
        location = self.rng.choice(self.codes)
        return location, None if self.rng.random() < CITY_SHARE else location

    def organisation_rows(self) -> list[dict[str, Any]]:
        return [{"id": self.first["organisation"] + i, "credit_code": f"91500000BENCH{i:05d}",
                 "name": f"基准参建单位 {i}", "created_at": self.start}
                for i in range(ORGANISATIONS)]

    def project_rows(self) -> list[dict[str, Any]]:
        return [{"id": self.first["project"] + i, "name": f"基准项目 {i}", "category": "HM",
                 "sector": "01", "location_code": location, "city_managed": managing is None,
                 "managing_code": managing, "on_national_platform": False,
                 "created_at": self.start}
                for i, (location, managing) in enumerate(self.projects)]

    def run_rows(self, j: int) -> tuple[Row, Row, list[Row]]:
        """Run ``j``: its instance, its application and its tasks, in the column orders."""
        project = self.rng.randrange(len(self.projects))
        location, managing = self.projects[project]
        org = self.first["organisation"] + self.rng.randrange(ORGANISATIONS)
        waiting = self.rng.random() < OPEN_SHARE
        kind = self.rng.choice(KINDS)
        started = self.start + timedelta(minutes=4 * j)
        ended = None if waiting else started + timedelta(days=3)
        app_id, iid = self.first["application"] + j, self.first["engine_instance"] + j
        instance: Row = (iid, self.definitions[kind], f"application-{app_id}", managing or "city",
                         location, "bench-unit", "waiting" if waiting else "completed",
                         PLACEHOLDER,
                         state.VERSION, TASKS_PER_RUN + 1, started, started + timedelta(days=3),
                         ended)
        application: Row = (app_id, kind, org, self.first["project"] + project, ["contract"], {},
                       None, "submitted" if waiting else "approved", iid, 1,
                       self.people.enterprise_user, started, started, ended)
        reviewer = (DISTRICT, managing) if managing else (CITY, "city")
        lanes = [reviewer, (UNIT, f"org:{org}"), reviewer,
                 self.rng.choice([reviewer, reviewer, reviewer, (UNIT, f"org:{org}")])]
        tasks = [self._task(iid, lane, started + timedelta(hours=12 * i),
                            open_=waiting and i == len(lanes) - 1)
                 for i, lane in enumerate(lanes)]
        return instance, application, tasks

    def _task(self, iid: int, lane: tuple[str, str], created: datetime, open_: bool) -> Row:
        group, scope = lane
        element, name, form_key, due_days = ELEMENTS[group]
        assignee = None
        if open_ and group != UNIT and self.rng.random() < 0.1:
            assignee = (self.people.reviewer if scope == self.people.reviewer_scope
                        else f"reviewer-{scope}")
        self.tasks += 1
        task_id = f"00000000-0000-4000-8000-{self.tasks:012x}"  # unique, shaped like a uuid
        if open_:
            return (task_id, iid, element, name, group, form_key, scope, "open", assignee,
                    created, created + timedelta(days=due_days), None, None)
        return (task_id, iid, element, name, group, form_key, scope, "done", None, created,
                created + timedelta(days=due_days), created + timedelta(hours=6), "bench")


def _dicts(table: str, rows: list[dict[str, Any]]) -> None:
    names = seed.columns(table)
    seed.insert(table, names, [tuple(row.get(n) for n in names) for row in rows])


def write(plan: Plan, tasks: int, progress: Progress) -> dict[str, int]:
    """Write everything in bulk; how many rows of each kind."""
    _dicts("organisation", plan.organisation_rows())
    _dicts("project", plan.project_rows())
    runs = max(1, tasks // TASKS_PER_RUN)
    chunk = seed.BATCH // TASKS_PER_RUN
    opened = 0
    for start in range(0, runs, chunk):
        instances, applications, task_rows = [], [], []
        for j in range(start, min(runs, start + chunk)):
            instance, application, its_tasks = plan.run_rows(j)
            instances.append(instance)
            applications.append(application)
            task_rows += its_tasks
        opened += sum(1 for t in task_rows if t[7] == "open")
        seed.insert("engine_instance", INSTANCE, instances)
        seed.insert("application", APPLICATION, applications)
        seed.insert("engine_task", TASK, task_rows)
        progress("seed inbox tasks (bulk)", min(runs, start + chunk) * TASKS_PER_RUN,
                 runs * TASKS_PER_RUN)
    tables = ["organisation", "project", "application", "engine_instance"]
    seed.reset_ids(tables)
    seed.analyze([*tables, "engine_task"])
    return {"tasks": runs * TASKS_PER_RUN, "open_tasks": opened, "instances": runs,
            "applications": runs, "projects": len(plan.projects),
            "organisations": ORGANISATIONS}
