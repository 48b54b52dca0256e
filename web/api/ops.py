"""``/api/v1/instances``: where every instance stands, and its repair (ops)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

import engine
from engine import queries, state
from engine.db import db
from engine.faults import explain
from engine.models import Instance
from engine.modification import modify as modify_instance
from forms.api import (
    EventOut,
    IncidentOut,
    InstanceQuery,
    Modification,
    Reason,
    RequiredReason,
    TaskOut,
)
from registry import audit

from .auth import current_user
from .auth_roles import OPS, roles

blp = Blueprint("ops", __name__, url_prefix="/api/v1/instances", description="运维：流程实例")


def _actor() -> str:
    user = current_user()
    return user.username if user else "-"


def summary(instance: Instance, process: str, version: int) -> dict[str, Any]:
    return {"id": instance.id, "process": process, "version": version,
            "business_key": instance.business_key, "scope": instance.scope,
            "status": instance.status, "started_at": instance.started_at.isoformat(),
            "updated_at": instance.updated_at.isoformat(),
            "ended_at": instance.ended_at.isoformat() if instance.ended_at else None}


@blp.get("")
@roles(*OPS)
@blp.arguments(InstanceQuery, location="query")
@blp.response(200)
def list_instances(args: dict[str, Any]) -> Any:
    """Instances, newest first, with the count of every status."""
    rows = queries.instances(status=args.get("status"), process=args.get("process"),
                             business_key=args.get("business_key"),
                             has_incident=args.get("has_incident"), page=args["page"],
                             per_page=args["per_page"])
    return {"counts": queries.counts_by_status(),
            "instances": [summary(i, d.key, d.version) for i, d in rows]}


@blp.get("/<int(max=2147483647):instance_id>")
@roles(*OPS)
@blp.response(200)
def get_instance(instance_id: int) -> Any:
    """Status, open tasks, waits, data, history and incidents of one instance."""
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        raise engine.NotFound(f"流程实例 {instance_id} 不存在")
    definition = db.session.get(engine.models.Definition, instance.definition_id)
    assert definition is not None
    return {**summary(instance, definition.key, definition.version),
            "open_tasks": TaskOut(many=True).dump(queries.open_tasks(instance_id)),
            "waits": _waits(instance_id),
            "data": state.data_of(instance.state),
            "history": EventOut(many=True).dump(queries.history(instance_id)),
            "incidents": IncidentOut(many=True).dump(queries.incidents(instance_id))}


def _waits(instance_id: int) -> dict[str, list[dict[str, Any]]]:
    """The instance's waits, a job's last error as every display shows it (no paths)."""
    waits = queries.waits(instance_id)
    for job in waits["jobs"]:
        if job["last_error"]:
            job["last_error"] = explain(str(job["last_error"])).detail
    return waits


@blp.post("/<int(max=2147483647):instance_id>/retry")
@roles(*OPS)
@blp.arguments(RequiredReason)
@blp.response(200)
def retry(args: dict[str, Any], instance_id: int) -> Any:
    """Give the instance's open incidents a fresh set of attempts (a reason is required)."""
    return {"retried": engine.retry(instance_id, _actor(), args["reason"])}


@blp.post("/<int(max=2147483647):instance_id>/suspend")
@roles(*OPS)
@blp.arguments(Reason)
@blp.response(200)
def suspend(args: dict[str, Any], instance_id: int) -> Any:
    return {"status": engine.suspend(instance_id, _actor(), args.get("reason")).status}


@blp.post("/<int(max=2147483647):instance_id>/resume")
@roles(*OPS)
@blp.arguments(Reason)
@blp.response(200)
def resume(args: dict[str, Any], instance_id: int) -> Any:
    return {"status": engine.resume(instance_id, _actor(), args.get("reason")).status}


@blp.post("/<int(max=2147483647):instance_id>/terminate")
@roles(*OPS)
@blp.arguments(Reason)
@blp.response(200)
def terminate(args: dict[str, Any], instance_id: int) -> Any:
    return {"status": engine.terminate(instance_id, _actor(), args.get("reason")).status}


@blp.post("/<int(max=2147483647):instance_id>/modify")
@roles(*OPS)
@blp.arguments(Modification)
@blp.response(200)
def modify(args: dict[str, Any], instance_id: int) -> Any:
    """Move the instance back to an element it passed (``target``), with a reason; ``skip``
    names each unfinished service task the move cancels (refused until it does). Audited."""
    instance = modify_instance(instance_id, args["target"], actor=_actor(),
                               reason=args["reason"], skip=args["skip"])
    audit.record(_actor(), "instance_modify", f"instance:{instance_id}",
                 {"reason": args["reason"], "target": args["target"], "skip": args["skip"]})
    db.session.commit()
    return {"status": instance.status}
