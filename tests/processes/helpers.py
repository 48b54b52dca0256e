"""Scenario helpers: the deployed procedures, the people who work them, and the worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

import engine
import lifecycle
from engine import clock
from engine.db import db
from engine.jobs import tick
from engine.models import Instance, UserTask, WaitStatus
from registry import applications as apps
from registry import users
from registry.models import Application, Organisation, User
from tests.conftest import work
from tests.registry import factory
from tests.registry.test_applications import PDF, header, hm_stages

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def deploy_processes() -> None:
    files = [(p.name, p.read_bytes()) for p in sorted(PROCESSES.glob("*.bpmn"))]
    engine.deploy(files, engine.catalog())


@dataclass
class People:
    org: Organisation
    unit: User
    yuzhong: User
    jiangbei: User
    city: User


def people() -> People:
    org = factory.organisation("重庆渝建建设集团有限公司")
    unit = factory.enterprise_user(org)
    yuzhong = users.create_user("yz-reviewer", "password-123", "district_reviewer", "渝中审核",
                                jurisdiction_code="500103")
    jiangbei = users.create_user("jb-reviewer", "password-123", "district_reviewer", "江北审核",
                                 jurisdiction_code="500105")
    city = users.create_user("city-reviewer", "password-123", "city_reviewer", "市级审核")
    db.session.commit()
    return People(org, unit, yuzhong, jiangbei, city)


def signed_people() -> People:
    """``people()`` with the procedures deployed and the enterprise user's password known
    (``password-123``), for tests that sign in over HTTP."""
    deploy_processes()
    result = people()
    result.unit.password_hash = users.generate_password_hash("password-123", method="scrypt")
    db.session.commit()
    return result


def submit_intake(who: People, **project: Any) -> Application:
    application = apps.open_application(who.unit, "intake", hm_stages(), project=header(**project))
    for kind in ("report", "commitment", "application_form", "evidence"):
        apps.add_attachment(application.id, who.unit, kind, PDF, f"{kind}.pdf")
    return lifecycle.submission.submit(application.id, who.unit)


def open_task(application: Application) -> UserTask:
    db.session.expire_all()
    [task] = db.session.scalars(sa.select(UserTask).filter_by(
        instance_id=application.instance_id, status=WaitStatus.OPEN)).all()
    return task


def instance_of(application: Application) -> Instance:
    db.session.expire_all()
    row = db.session.get(Instance, application.instance_id)
    assert row is not None
    return row


def settle(app: Flask, travel: timedelta | None = None) -> None:
    """Run the worker and the scheduler tick until nothing is left to do now; with
    ``travel``, first move the engine's clock forward so that timers come due."""
    if travel:
        clock.travel(travel)
    for _ in range(20):
        work(app)
        if not any(tick().values()):
            break
    db.session.expire_all()


def review(application: Application, **problems: str) -> dict[str, Any]:
    """A complete item-by-item review of ``application`` (R-IB-2: each of its stages and its
    materials); ``problems`` maps items to the reason each has a problem."""
    items = [*sorted(application.stages), "attachments"]
    return {"items": [{"item": item, "result": "problem", "reason": problems[item]}
                      if item in problems else {"item": item, "result": "pass"}
                      for item in items]}


def document(application: Application, user: User, kind: str,
             form: dict[str, Any]) -> dict[str, Any]:
    """``form`` naming a document of ``kind`` that ``user`` uploads to the application now
    (a task form's ``attachment_id`` must be one of its attachments, of the right kind)."""
    row = apps.add_authority_document(application, user, kind, PDF, f"{kind}.pdf")
    return {**form, "attachment_id": str(row.id)}


def review_problem(application: Application) -> dict[str, Any]:
    """A review that finds a problem with the application's first stage (A-4: a return)."""
    return review(application, **{sorted(application.stages)[0]: "与佐证材料不一致"})


HM_ITEMS = ("bidding", "completion", "contract", "attachments")
"""The review items of an intake with ``hm_stages()``."""
REVIEW_OK = {"items": [{"item": item, "result": "pass"} for item in HM_ITEMS]}
REVIEW_PROBLEM = {"items": [{"item": "contract", "result": "problem",
                             "reason": "合同金额与中标金额不一致"},
                            *({"item": item, "result": "pass"} for item in HM_ITEMS
                              if item != "contract")]}
