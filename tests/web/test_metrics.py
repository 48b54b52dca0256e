"""``/metrics``: figures counted from the database, the text format, and the bearer token."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask

import engine
from engine import clock
from engine.db import db
from registry.models import Application, Organisation, Project, PublicityNotice, User
from tests.conftest import CALLS, deploy, work
from tests.engine.test_failures import drain, start_push
from tests.engine.test_runtime import open_tasks
from web.metrics import CONTENT_TYPE, Family, escape, render

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}

Figures = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Figures:
    """The samples of an exposition, by name and labels; every family must be typed."""
    typed = set(re.findall(r"^# TYPE (\S+) \S+$", text, re.M))
    figures: Figures = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, line
        name, raw, value = match.groups()
        assert any(name == t or name in (t + "_sum", t + "_count") for t in typed), name
        labels = {key: re.sub(r'\\[\\"n]', lambda m: UNESCAPE[m.group()], text_)
                  for key, text_ in LABEL.findall(raw or "")}
        figures[(name, frozenset(labels.items()))] = float(value)
    return figures


def scrape(client: Any, **headers: str) -> Figures:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    return parse(response.get_data(as_text=True))


def get(figures: Figures, name: str, **labels: str) -> float:
    return figures[(name, frozenset(labels.items()))]


TASK = {"process": "flow", "form_key": "test_form"}


def test_escaping_of_label_values() -> None:
    assert escape('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    family = Family("x_total", "counter", "Help with \\ and\nnewline.")
    family.add({"v": 'say "hi"\\\n'}, 2)
    text = render([family])
    assert text == ('# HELP x_total Help with \\\\ and\\nnewline.\n'
                    '# TYPE x_total counter\n'
                    'x_total{v="say \\"hi\\"\\\\\\n"} 2\n')
    assert parse(text) == {("x_total", frozenset({("v", 'say "hi"\\\n')})): 2.0}


def test_instances_tasks_and_jobs_are_counted(app: Flask, client: Any) -> None:
    figures = scrape(client)
    assert get(figures, "cqpi_up") == 1 and get(figures, "cqpi_incidents_open") == 0
    assert get(figures, "cqpi_build_info", version="0.1.0") == 1
    deploy("flow.bpmn")
    first = engine.start("flow", data={"title": "t", "wait": "PT1H"})
    engine.start("flow", data={"title": "u", "wait": "PT1H"})

    figures = scrape(client)
    assert get(figures, "cqpi_instances", process="flow", status="waiting") == 2
    assert get(figures, "cqpi_instances", process="flow", status="completed") == 0
    assert get(figures, "cqpi_tasks_open", **TASK) == 2
    assert get(figures, "cqpi_tasks_completed_total", **TASK) == 0
    assert get(figures, "cqpi_task_completion_seconds_count", **TASK) == 0

    clock.travel(timedelta(minutes=10))
    [task] = open_tasks(first.id)
    engine.complete_task(task.id, {}, actor="alice")
    figures = scrape(client)
    assert get(figures, "cqpi_instances", process="flow", status="waiting") == 1
    assert get(figures, "cqpi_instances", process="flow", status="running") == 1
    assert get(figures, "cqpi_tasks_open", **TASK) == 1
    assert get(figures, "cqpi_tasks_completed_total", **TASK) == 1
    assert get(figures, "cqpi_task_completion_seconds_count", **TASK) == 1
    assert 600 <= get(figures, "cqpi_task_completion_seconds_sum", **TASK) < 900
    assert get(figures, "cqpi_jobs", operation="test.echo", status="pending") == 1
    assert get(figures, "cqpi_job_attempts_total", operation="test.echo") == 0
    assert get(figures, "cqpi_job_duration_seconds_count", operation="test.echo") == 0

    work(app)  # the rq worker runs the service job
    figures = scrape(client)
    assert get(figures, "cqpi_instances", process="flow", status="waiting") == 2
    assert get(figures, "cqpi_instances", process="flow", status="running") == 0
    assert get(figures, "cqpi_jobs", operation="test.echo", status="pending") == 0
    assert get(figures, "cqpi_jobs", operation="test.echo", status="done") == 1
    assert get(figures, "cqpi_job_attempts_total", operation="test.echo") == 1
    assert get(figures, "cqpi_job_duration_seconds_count", operation="test.echo") == 1
    assert 0 <= get(figures, "cqpi_job_duration_seconds_sum", operation="test.echo") < 60


def test_open_incidents_are_counted(app: Flask, client: Any) -> None:
    CALLS.fail_times = 3  # CQPI_JOB_MAX_ATTEMPTS is 3 in tests
    start_push(app)
    drain(app)
    figures = scrape(client)
    assert get(figures, "cqpi_incidents_open") == 1
    assert get(figures, "cqpi_incidents_open_by_element",
               process="flow", element_id="Task_Publish") == 1
    assert get(figures, "cqpi_instances", process="flow", status="error") == 1
    assert get(figures, "cqpi_jobs", operation="test.flaky", status="failed") == 1
    assert get(figures, "cqpi_job_attempts_total", operation="test.flaky") == 3


def test_open_publicity_notices_are_counted(app: Flask, client: Any) -> None:
    org = Organisation(credit_code="91500000000000000X", name="某公司")
    project = Project(name="某项目", category="HM", location_code="500103",
                      managing_code="500103")
    db.session.add_all([org, project])
    db.session.flush()
    user = User(username="u", display_name="U", password_hash="-", role="enterprise",
                organisation_id=org.id)
    db.session.add(user)
    db.session.flush()
    application = Application(kind="intake", applicant_id=org.id, project_id=project.id,
                              stages=[], data={}, created_by=user.id)
    db.session.add(application)
    db.session.flush()
    for status in ("open", "open", "closed"):
        db.session.add(PublicityNotice(application_id=application.id, project_id=project.id,
                                       title="公示", published={}, status=status,
                                       closes_at=clock.now()))
    db.session.commit()
    assert get(scrape(client), "cqpi_publicity_notices_open") == 2


def test_a_configured_token_is_required(app: Flask, client: Any) -> None:
    app.config["CQPI_METRICS_TOKEN"] = "s3cret-token"
    try:
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert refused.get_data(as_text=True) == "unauthorized\n"
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert get(scrape(client, Authorization="Bearer s3cret-token"), "cqpi_up") == 1
    finally:
        app.config.pop("CQPI_METRICS_TOKEN")
    assert client.get("/metrics").status_code == 200


def test_overdue_tasks_are_counted_by_lane_and_district(app: Flask, client: Any) -> None:
    """What ops alert on: a district's review past its ten working days (A-8)."""
    from registry import demo
    from tests.processes.helpers import deploy_processes
    from tests.web.test_pages import _application

    deploy_processes()
    demo.load()
    _application()
    lane = ("cqpi_tasks_overdue", frozenset({("group", "区县住建主管部门"),
                                             ("scope", "500103")}))
    assert lane not in scrape(client)
    clock.travel(timedelta(days=30))
    figures = scrape(client)
    assert figures[lane] == 1
    assert sum(v for (name, _), v in figures.items() if name == "cqpi_tasks_overdue") == 1
