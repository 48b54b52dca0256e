"""Deployed process versions: deploy what validates, find the latest, load specs once."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from .catalog import Catalog
from .db import db
from .errors import DefinitionInvalid, NotFound
from .models import Definition
from .state import specs_from_dict
from .validation import ParsedProcess, Result, validate


@dataclass(frozen=True)
class Deployed:
    key: str
    version: int
    file_name: str
    created: bool  # False when the same content was already deployed


def deploy(files: Iterable[tuple[str, bytes]], catalog: Catalog,
           deployed_by: str | None = None) -> list[Deployed]:
    """Validate ``files`` together and store each changed process as a new version.

    Raises DefinitionInvalid (nothing stored) if any file has a problem.
    """
    result = check(files, catalog)
    if not result.ok:
        raise DefinitionInvalid(result.problems)
    outcomes = [_store(p, deployed_by) for p in result.processes]
    db.session.commit()
    return outcomes


def check(files: Iterable[tuple[str, bytes]], catalog: Catalog) -> Result:
    """Validate ``files`` against each other and the latest deployed versions of the rest."""
    return validate(files, catalog, library=_library())


def _library() -> list[tuple[str, str, bytes]]:
    newest = (sa.select(Definition.key, sa.func.max(Definition.version).label("version"))
              .group_by(Definition.key).subquery())
    query = (sa.select(Definition.key, Definition.file_name, Definition.bpmn)
             .join(newest, sa.and_(newest.c.key == Definition.key,
                                   newest.c.version == Definition.version)))
    try:
        rows = db.session.execute(query).all()
    except SQLAlchemyError:  # no schema yet (e.g. `cqpi validate` before `cqpi migrate`)
        db.session.rollback()
        return []
    return [(key, name, bytes(content)) for key, name, content in rows]


def _store(parsed: ParsedProcess, deployed_by: str | None) -> Deployed:
    same = db.session.scalar(sa.select(Definition).filter_by(
        key=parsed.key, content_hash=parsed.content_hash))
    if same is not None:
        return Deployed(parsed.key, same.version, parsed.file_name, False)
    last = db.session.scalar(
        sa.select(sa.func.max(Definition.version)).filter_by(key=parsed.key)) or 0
    db.session.add(Definition(
        key=parsed.key, version=last + 1, name=parsed.name, file_name=parsed.file_name,
        content_hash=parsed.content_hash, bpmn=parsed.bpmn, spec=parsed.specs,
        deployed_by=deployed_by))
    db.session.flush()
    return Deployed(parsed.key, last + 1, parsed.file_name, True)


def latest(key: str) -> Definition:
    """The newest version of process ``key``."""
    found = db.session.scalar(
        sa.select(Definition).filter_by(key=key).order_by(Definition.version.desc()).limit(1))
    if found is None:
        raise NotFound(f"流程“{key}”尚未部署")
    return found


_lock = threading.Lock()


def _cache() -> dict[int, tuple[Any, dict[str, Any]]]:
    return current_app.extensions.setdefault("cqpi.specs", {})


def clear_cache() -> None:
    """Forget the restored specs (only needed when definition ids are reused, as in tests)."""
    _cache().clear()


def specs_of(definition_id: int) -> tuple[Any, dict[str, Any]]:
    """The parsed specs of a definition version, restored once per app and then shared."""
    cache = _cache()
    cached = cache.get(definition_id)
    if cached is not None:
        return cached
    row = db.session.get(Definition, definition_id)
    if row is None:
        raise NotFound(f"流程定义 {definition_id} 不存在")
    specs = specs_from_dict(row.spec)
    with _lock:
        return cache.setdefault(definition_id, specs)
