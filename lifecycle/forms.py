"""The one owner of "the form of a task": a product form (marshmallow: the task forms and the
stage forms) or a form deployed with the task's diagram (form-js or JSON Schema, kept on the
version that names it). Each loads a submission (field errors as ``FormInvalid``, in Chinese,
naming the field) and describes its data as JSON Schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError

import engine
from engine import queries
from engine.db import db
from engine.models import Definition, Instance, UserTask
from forms import STAGES, TASK_FORMS, formjs, json_schema_form
from forms.base import FormSchema
from forms.jsonschema import json_schema
from registry.applications import FormInvalid

MARSHMALLOW, FORM_JS, JSON_SCHEMA = "marshmallow", "form-js", "json-schema"
"""The kinds of form: the product's own, and the two a deployment may hold."""


@dataclass(frozen=True)
class Form:
    key: str
    kind: str
    document: dict[str, Any] | None = None
    """The deployed document (form-js or JSON Schema); None for a product form."""
    product: type[FormSchema] | None = None

    def load(self, raw: Any) -> dict[str, Any]:
        """The cleaned data of a submission; FormInvalid with each field's problems."""
        if self.product is not None:
            try:
                return self.product().load(raw)
            except ValidationError as exc:
                raise FormInvalid(exc.messages) from None  # type: ignore[arg-type]
        check = formjs.validate if self.kind == FORM_JS else json_schema_form.validate
        cleaned, errors = check(self.document, raw)
        if errors:
            raise FormInvalid(errors)
        return cleaned

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the data the form takes."""
        if self.product is not None:
            return json_schema(self.product)
        return formjs.json_schema(self.document) if self.kind == FORM_JS else dict(
            self.document or {})

    def described(self) -> dict[str, Any]:
        """What a client needs to show the form: its kind, JSON Schema and document."""
        return {"key": self.key, "kind": self.kind, "schema": self.schema(),
                "document": self.document}


def task_form(key: str) -> Form:
    """A task form of the product by its key (KeyError for another key)."""
    return Form(key, MARSHMALLOW, product=TASK_FORMS[key])


def product(key: str | None) -> Form | None:
    """A product form (a task form or a stage form) by its key."""
    found = TASK_FORMS.get(key or "") or STAGES.get(key or "")
    return None if found is None else Form(key or "", MARSHMALLOW, product=found)


def stored(key: str, entry: dict[str, Any]) -> Form:
    """A deployed form as its version keeps it (``Definition.forms[key]``)."""
    return Form(key, entry["kind"], document=entry["document"])


def of_definition(definition_id: int, key: str | None) -> Form:
    """The form that a task of this version names ``key``: a task form of the product, or
    one deployed with the version. engine.InvalidState when there is none (a diagram that
    names no form, or one its deployment did not hold)."""
    if (key or "") in TASK_FORMS:
        return task_form(key or "")
    deployed = db.session.scalar(sa.select(Definition.forms).where(
        Definition.id == definition_id)) or {}
    if key and key in deployed:
        return stored(key, deployed[key])
    raise engine.InvalidState(f"表单“{key or '（未指定）'}”未随流程部署，无法办理")


def of_task(task: UserTask) -> Form:
    """The form of ``task`` (see ``of_definition``)."""
    definition_id = db.session.scalar(sa.select(Instance.definition_id).where(
        Instance.id == task.instance_id))
    return of_definition(definition_id or 0, task.form_key)


def published(key: str) -> Form:
    """The form served at ``/api/v1/forms/{key}``: a product form, or the form of that key
    deployed with a current version. engine.NotFound otherwise."""
    found = product(key)
    if found is not None:
        return found
    for definition in queries.current_definitions():
        if key in (definition.forms or {}):
            return stored(key, (definition.forms or {})[key])
    raise engine.NotFound(f"表单 {key} 不存在")
