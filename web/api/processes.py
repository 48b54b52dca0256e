"""``/api/v1/processes``: the procedures, their versions, validation and deployment (analysts)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request
from flask_smorest import Blueprint

import engine
from engine import queries
from engine.db import db
from engine.definitions import check
from engine.models import Definition
from registry.applications import FormInvalid

from ..downloads import bpmn_download, shown_name
from .auth import current_user
from .auth_roles import ANALYSTS, roles

blp = Blueprint("processes", __name__, url_prefix="/api/v1/processes",
                description="流程分析：流程定义、校验、部署")

UPLOAD = {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}


def _files() -> list[tuple[str, bytes]]:
    files = [(f.filename or "upload.bpmn", f.read()) for f in request.files.getlist("file")]
    if not files:
        raise FormInvalid({"file": ["「文件」必填: 请上传 BPMN 文件"]})
    return files


def _problems(problems: list[Any]) -> list[dict[str, Any]]:
    return [{"file": p.file, "line": p.line, "element_id": p.element_id,
             "element_name": p.element_name, "message": p.message, "text": str(p)}
            for p in problems]


@blp.get("")
@roles(*ANALYSTS)
@blp.response(200)
def list_processes() -> Any:
    """Every procedure with its versions and how many unfinished instances each has."""
    out: dict[str, list[dict[str, Any]]] = {}
    for definition, running in queries.versions():
        out.setdefault(definition.key, []).append({
            "version": definition.version, "name": definition.name,
            "file_name": shown_name(definition.file_name),
            "content_hash": definition.content_hash,
            "deployed_at": definition.deployed_at.isoformat(),
            "deployed_by": definition.deployed_by, "running_instances": running})
    return [{"key": key, "versions": versions} for key, versions in out.items()]


@blp.post("/validate")
@roles(*ANALYSTS)
@blp.doc(requestBody=UPLOAD)
@blp.response(200)
def validate_upload() -> Any:
    """The same problems as ``cqpi validate``, one per line, without deploying."""
    result = check(_files(), engine.catalog())
    return {"ok": result.ok, "problems": _problems(result.problems)}


@blp.post("")
@roles(*ANALYSTS)
@blp.doc(requestBody=UPLOAD)
@blp.response(201)
def deploy() -> Any:
    """Deploy what validates; each changed process becomes a new version (422 lists the
    problems and deploys nothing)."""
    user = current_user()
    try:
        outcomes = engine.deploy(_files(), engine.catalog(),
                                 deployed_by=user.username if user else None)
    except engine.DefinitionInvalid as exc:
        raise FormInvalid({"problems": [str(p) for p in exc.problems]}) from None
    return {"deployed": [{"key": o.key, "version": o.version, "created": o.created}
                         for o in outcomes]}


@blp.get("/<key>/versions/<int(max=2147483647):version>/bpmn")
@roles(*ANALYSTS)
def bpmn(key: str, version: int) -> Any:
    """The BPMN XML of one version, as deployed."""
    definition = db.session.scalar(sa.select(Definition).filter_by(key=key, version=version))
    if definition is None:
        raise engine.NotFound(f"流程 {key} 没有版本 {version}")
    return bpmn_download(definition, "application/xml")  # a download, sandboxed
