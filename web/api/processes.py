"""``/api/v1/processes``: the procedures, their versions (which is current), validation,
deployment and making an earlier version current again (analysts)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request
from flask_smorest import Blueprint

import engine
from engine import queries
from engine.activation import current_versions
from engine.db import db
from engine.definitions import check
from engine.models import Definition
from engine.package import expand_all
from forms.processes_api import ActivatedOut, DeployOut, ProcessOut
from registry import deployments
from registry.applications import FormInvalid

from ..downloads import bpmn_download, shown_name
from .auth import signed_in_user
from .auth_roles import ANALYSTS, roles

blp = Blueprint("processes", __name__, url_prefix="/api/v1/processes",
                description="流程分析：流程定义、校验、部署")

UPLOAD = {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}


def _files() -> tuple[list[tuple[str, bytes]], list[Any]]:
    """The uploaded deployment files (a zip expanded) and what could not be read."""
    uploads = [(f.filename or "upload.bpmn", f.read()) for f in request.files.getlist("file")]
    if not uploads:
        raise FormInvalid({"file": ["「文件」必填: 请上传 BPMN 文件、表单文件或 zip 包"]})
    return expand_all(uploads)


def _problems(problems: list[Any]) -> list[dict[str, Any]]:
    return [{"file": p.file, "line": p.line, "element_id": p.element_id,
             "element_name": p.element_name, "message": p.message, "text": str(p)}
            for p in problems]


@blp.get("")
@roles(*ANALYSTS)
@blp.response(200, ProcessOut(many=True))
def list_processes() -> Any:
    """Every procedure with its versions, newest first: how many unfinished instances each
    has, and which one is current (the one new instances start)."""
    now_current = current_versions()
    out: dict[str, list[dict[str, Any]]] = {}
    for definition, running in queries.versions():
        out.setdefault(definition.key, []).append({
            "version": definition.version, "name": definition.name,
            "file_name": shown_name(definition.file_name),
            "content_hash": definition.content_hash,
            "deployed_at": definition.deployed_at.isoformat(),
            "deployed_by": definition.deployed_by,
            "activated_at": definition.activated_at.isoformat(), "running_instances": running,
            "current": now_current.get(definition.key) == definition.version})
    return [{"key": key, "current_version": now_current.get(key), "versions": versions}
            for key, versions in out.items()]


@blp.post("/validate")
@roles(*ANALYSTS)
@blp.doc(requestBody=UPLOAD)
@blp.response(200)
def validate_upload() -> Any:
    """The same problems as ``cqpi validate``, one per line, without deploying."""
    files, unreadable = _files()
    problems = unreadable + check(files, engine.catalog()).problems
    return {"ok": not problems, "problems": _problems(problems)}


@blp.post("")
@roles(*ANALYSTS)
@blp.doc(requestBody=UPLOAD)
@blp.response(201, DeployOut, description="至少一个流程产生了新版本")
@blp.alt_response(200, schema=DeployOut,
                  description="没有新版本：内容均与已有版本相同（未变化，或重新启用了早先的版本）")
def deploy() -> Any:
    """Deploy what validates; each changed process becomes a new version, and the current
    one; content equal to an earlier version makes that version current again (422 lists the
    problems and deploys nothing). Audited."""
    files, unreadable = _files()
    try:
        if unreadable:
            raise engine.DefinitionInvalid(unreadable)
        outcomes = deployments.deploy(files, signed_in_user().username)
    except engine.DefinitionInvalid as exc:
        raise FormInvalid({"problems": [str(p) for p in exc.problems]}) from None
    body = {"deployed": [{"key": o.key, "version": o.version, "outcome": o.outcome,
                          "created": o.created, "before": o.before,
                          "message": deployments.said(o)} for o in outcomes]}
    return body, 201 if any(o.created for o in outcomes) else 200


@blp.post("/<key>/versions/<int(max=2147483647):version>/activate")
@roles(*ANALYSTS)
@blp.response(200, ActivatedOut)
def activate(key: str, version: int) -> Any:
    """Make an earlier (or any) version the current one: new instances start it, running
    ones keep their version. The current version again changes nothing (``changed`` false).
    Audited; 404 for an unknown process or version."""
    done = deployments.activate(key, version, signed_in_user().username)
    message = deployments.said_activation(version, done)
    return {"key": key, "version": version, "current": True, "changed": done.changed,
            "before": done.before, "message": message}


@blp.get("/<key>/versions/<int(max=2147483647):version>/bpmn")
@roles(*ANALYSTS)
def bpmn(key: str, version: int) -> Any:
    """The BPMN XML of one version, as deployed."""
    definition = db.session.scalar(sa.select(Definition).filter_by(key=key, version=version))
    if definition is None:
        raise engine.NotFound(f"流程 {key} 没有版本 {version}")
    return bpmn_download(definition, "application/xml")  # a download, sandboxed
