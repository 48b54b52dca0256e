"""Forms: the product's marshmallow schemas (stage data, user-task forms: validation, HTML,
JSON Schema), and the checks of the forms analysts deploy with their diagrams (form-js
documents, JSON Schema forms)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from . import formjs, json_schema_form
from .base import FormSchema
from .stages import STAGE_NAMES, STAGES, load_stages
from .tasks import TASK_FORMS

__all__ = ["STAGES", "STAGE_NAMES", "TASK_FORMS", "FormSchema", "load_stages", "register"]


class _Catalog(Protocol):
    def add_form_keys(self, keys: list[str]) -> None: ...

    def add_form_kind(self, kind: str, check: Callable[[Any], list[str]]) -> None: ...


def register(catalog: _Catalog) -> None:
    """Make the task forms' keys known to the engine's catalog, so diagrams may name them,
    and the kinds of form a deployment may hold, with their checks."""
    catalog.add_form_keys(list(TASK_FORMS))
    catalog.add_form_kind("form-js", formjs.check)
    catalog.add_form_kind("json-schema", json_schema_form.check)
