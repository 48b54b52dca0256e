"""The guide's checks at the lifecycle's boundary: what an application must carry to be
submitted, and what a task's form must carry about its application."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.db import db
from registry import rules
from registry.applications import FormInvalid
from registry.models import Application, Attachment

ATTACHMENT_OF_FORM = {"formal_document": "formal_document",
                      "ministry_request": "ministry_request", "ministry_reply": "ministry_reply"}
"""Task forms that name an uploaded document -> the kind of attachment it must be."""


def check_submittable(application: Application) -> None:
    """R-IB-1 / R-COR-3 / R-GA-3: its stage data and its required materials are there."""
    rules.check_stage_data(application.kind, application.project.category, application.data)
    kinds = set(db.session.scalars(sa.select(Attachment.kind).filter_by(
        application_id=application.id)))
    rules.check_attachments(application.kind, application.project.category, kinds)


def check_task(application: Application, form_key: str | None, data: dict[str, Any]) -> None:
    """What a completed task's form says about its application must hold for it."""
    if form_key == "review":
        rules.check_review_items(application.stages, [i["item"] for i in data["items"]])
    kind = ATTACHMENT_OF_FORM.get(form_key or "")
    if kind is not None and data.get("attachment_id") is not None:
        check_attachment(application, str(data["attachment_id"]), kind)


def check_attachment(application: Application, attachment_id: str, kind: str) -> None:
    """The attachment exists on this application and is of ``kind``."""
    found = None
    if attachment_id.isdigit() and len(attachment_id) <= 10:
        found = db.session.get(Attachment, int(attachment_id))
    if found is None or found.application_id != application.id:
        raise FormInvalid({"attachment_id": [f"「附件」{attachment_id} 不是本申请的附件，"
                                             f"请先上传"]})
    if found.kind != kind:
        raise FormInvalid({"attachment_id": [f"「附件」{attachment_id} 的材料类型不符，"
                                             f"应为 {kind}"]})
