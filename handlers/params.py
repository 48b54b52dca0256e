"""The rows a handler's parameters name, or a clear error (the job fails and is retried)."""

from __future__ import annotations

from typing import Any

from engine.db import db
from registry.models import Application, Inspection


def application(params: dict[str, Any]) -> Application:
    return application_by_id(int(params["application_id"]))


def application_by_id(application_id: int) -> Application:
    row = db.session.get(Application, application_id)
    if row is None:
        raise LookupError(f"申请 {application_id} 不存在")
    return row


def inspection(params: dict[str, Any]) -> Inspection:
    row = db.session.get(Inspection, int(params["inspection_id"]))
    if row is None:
        raise LookupError(f"检查 {params['inspection_id']} 不存在")
    return row
