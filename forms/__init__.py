"""Marshmallow schemas: stage data and user-task forms (validation, HTML, JSON Schema)."""

from __future__ import annotations

from typing import Protocol

from .base import FormSchema
from .stages import STAGE_NAMES, STAGES, load_stages
from .tasks import TASK_FORMS

__all__ = ["STAGES", "STAGE_NAMES", "TASK_FORMS", "FormSchema", "load_stages", "register"]


class _Catalog(Protocol):
    def add_form_keys(self, keys: list[str]) -> None: ...


def register(catalog: _Catalog) -> None:
    """Make the task forms' keys known to the engine's catalog, so diagrams may name them."""
    catalog.add_form_keys(list(TASK_FORMS))
