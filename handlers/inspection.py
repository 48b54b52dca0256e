"""Key inspections (重点检查, R-SUP-7, A-6): opened for a complaint or a failed sample, each
run by a ``key_inspection`` instance; and their closing when the project proves genuine."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

import engine
from engine.clock import now
from engine.db import db
from lifecycle.keys import inspection_key
from registry.models import Complaint, Inspection, Project

from . import params as params_

PROCESS = "key_inspection"


def open_inspection(project_id: int, trigger: str, *, complaint_id: int | None = None,
                    draw_id: int | None = None, application_id: int | None = None) -> Inspection:
    """Open (once) an inspection and start its procedure."""
    inspection = db.session.scalar(sa.select(Inspection).filter_by(
        project_id=project_id, trigger=trigger, complaint_id=complaint_id, draw_id=draw_id,
        application_id=application_id))
    if inspection is None:
        inspection = Inspection(project_id=project_id, trigger=trigger,
                                complaint_id=complaint_id, draw_id=draw_id,
                                application_id=application_id)
        db.session.add(inspection)
        if complaint_id is not None:
            complaint = db.session.get(Complaint, complaint_id)
            if complaint is not None:
                complaint.status = "inspecting"
        db.session.commit()
    key = inspection_key(inspection.id)
    if engine.instance_by_key(key) is None:
        project = db.session.get(Project, project_id)
        engine.start(PROCESS, business_key=key, scope="city", actor="system",
                     area=project.location_code if project else None,
                     data={"inspection_id": inspection.id, "project_id": project_id,
                           "trigger": trigger})
    return inspection


def open_for_failed_samples(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """A-6: every drawn item whose check failed opens a key inspection."""
    items, checks = params.get("items") or [], params.get("checks") or []
    opened = []
    for item, check in zip(items, checks, strict=False):
        if isinstance(check, dict) and check.get("passed") is False:
            inspection = open_inspection(int(item["project_id"]), "sample",
                                         draw_id=item.get("draw_id"),
                                         application_id=item.get("application_id"))
            opened.append(inspection.id)
    return {"inspections_opened": opened}


def close(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Close an inspection that found the project genuine."""
    inspection = params_.inspection(params)
    if inspection.status != "closed":
        inspection.status, inspection.result, inspection.closed_at = "closed", "genuine", now()
        if inspection.complaint_id is not None:
            complaint = db.session.get(Complaint, inspection.complaint_id)
            if complaint is not None:
                complaint.status = "closed"
        db.session.commit()
    return {"inspection_result": inspection.result}
