"""Deployed process versions: deploy what validates, find the current one, load specs once."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from . import unit
from .activation import current, current_ids, next_activation
from .catalog import Catalog
from .db import db
from .errors import DefinitionInvalid, NotFound
from .models import Definition
from .parsed import Extras, ParsedProcess
from .state import specs_from_dict
from .validation import Result, validate

Outcome = Literal["created", "unchanged", "reactivated", "kept"]
"""What a deploy did with a process: a new version (made current); nothing (the content is the
current version's); an earlier version with the same content made current again; or, with
``reactivate=False``, nothing although the content is an earlier, non-current version's."""


@dataclass(frozen=True)
class Deployed:
    key: str
    version: int  # the version with the deployed content
    file_name: str
    outcome: Outcome
    before: int | None  # the version that was current before the deploy

    @property
    def created(self) -> bool:
        return self.outcome == "created"


def deploy(files: Iterable[tuple[str, bytes]], catalog: Catalog,
           deployed_by: str | None = None, reactivate: bool = True) -> list[Deployed]:
    """Validate ``files`` together and store each changed process as a new version, which
    becomes current. Content equal to an earlier version makes that one current again (unless
    ``reactivate`` is false: a start-up deploy must not undo an analyst's rollback). Commits,
    unless inside a caller's unit of work.

    Raises DefinitionInvalid (nothing stored) if any file has a problem.
    """
    result = check(files, catalog)
    if not result.ok:
        raise DefinitionInvalid(result.problems)
    outcomes = [_store(p, deployed_by, reactivate) for p in result.processes]
    if not unit.active():
        db.session.commit()
    return outcomes


def check(files: Iterable[tuple[str, bytes]], catalog: Catalog) -> Result:
    """Validate ``files`` against each other and the current versions of the rest."""
    return validate(files, catalog, library=_library())


def _library() -> list[tuple[str, str, bytes, Extras]]:
    try:
        ids = current_ids()
        rows = db.session.execute(sa.select(
            Definition.key, Definition.file_name, Definition.bpmn, Definition.lanes,
            Definition.forms).join(ids, ids.c.id == Definition.id)).all()
    except SQLAlchemyError:  # no schema yet (e.g. `cqpi validate` before `cqpi migrate`)
        db.session.rollback()
        return []
    return [(key, name, bytes(content), Extras(lanes or {}, forms or {}))
            for key, name, content, lanes, forms in rows]


def _store(parsed: ParsedProcess, deployed_by: str | None, reactivate: bool) -> Deployed:
    before = _current_version(parsed.key)
    same = db.session.scalar(sa.select(Definition).filter_by(
        key=parsed.key, content_hash=parsed.content_hash))
    if same is not None:
        if same.version == before:
            return Deployed(parsed.key, same.version, parsed.file_name, "unchanged", before)
        if not reactivate:
            return Deployed(parsed.key, same.version, parsed.file_name, "kept", before)
        same.activated_at = next_activation(parsed.key)
        db.session.flush()
        return Deployed(parsed.key, same.version, parsed.file_name, "reactivated", before)
    last = db.session.scalar(
        sa.select(sa.func.max(Definition.version)).filter_by(key=parsed.key)) or 0
    db.session.add(Definition(
        key=parsed.key, version=last + 1, name=parsed.name, file_name=parsed.file_name,
        content_hash=parsed.content_hash, bpmn=parsed.bpmn, spec=parsed.specs,
        forms=parsed.forms or None, lanes=parsed.lanes or None, deployed_by=deployed_by,
        activated_at=next_activation(parsed.key)))
    db.session.flush()
    return Deployed(parsed.key, last + 1, parsed.file_name, "created", before)


def _current_version(key: str) -> int | None:
    try:
        return current(key).version
    except NotFound:
        return None


latest = current
"""The engine's public name of ``current`` (what ``start`` uses)."""


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
