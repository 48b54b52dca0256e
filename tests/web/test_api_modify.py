"""``POST /api/v1/instances/{id}/modify``: ops move an intake in publicity back to the district
review; refusals say why in Chinese; the move is audited."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

import lifecycle
from engine.db import db
from registry import users
from registry.models import AuditEvent
from tests.processes.helpers import REVIEW_OK, open_task, settle, signed_people, submit_intake
from tests.web.test_api import login


def test_ops_move_an_instance_back_by_the_api(app: Flask, client: Any) -> None:
    who = signed_people()
    users.create_user("ops-1", "password-123", "ops", "运维")
    db.session.commit()
    application = submit_intake(who)
    lifecycle.tasks.complete_task(open_task(application).id, REVIEW_OK, who.yuzhong)
    settle(app)
    url = f"/api/v1/instances/{application.instance_id}/modify"
    ops = login(client, "ops-1")

    assert client.post(url, headers=login(client, "yz-reviewer"),
                       json={"target": "Task_DistrictReview", "reason": "r"}).status_code == 403
    missing = client.post(url, headers=ops, json={"target": "Task_DistrictReview"})
    assert missing.status_code == 422
    ahead = client.post(url, headers=ops, json={"target": "Task_ApplyEntry", "reason": "r"})
    assert ahead.status_code == 409 and "尚未经过环节" in str(ahead.get_json())

    moved = client.post(url, headers=ops, json={"target": "Task_DistrictReview",
                                                "reason": "重新审核"})
    assert moved.status_code == 200 and moved.get_json() == {"status": "waiting"}
    assert open_task(application).element_id == "Task_DistrictReview"
    audit = db.session.scalar(sa.select(AuditEvent).filter_by(action="instance_modify"))
    assert audit is not None and audit.actor == "ops-1"
    assert audit.data == {"reason": "重新审核", "target": "Task_DistrictReview", "skip": []}
