"""Complaints from the public board: recorded, and a complaint about a known project opens
a key inspection (R-SUP-7). Everything about applications is in ``lifecycle``."""

from __future__ import annotations

from typing import Any

from engine.db import db
from handlers.inspection import open_inspection
from registry import publicity
from registry.models import Complaint


def file_complaint(raw: dict[str, Any]) -> Complaint:
    """Record a complaint; a complaint about a known project opens a key inspection (R-SUP-7)."""
    try:
        complaint = publicity.add_complaint(raw)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if complaint.project_id is not None:
        open_inspection(complaint.project_id, "complaint", complaint_id=complaint.id)
    return complaint
