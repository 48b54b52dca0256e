"""Small helpers for reading the query string and posted forms."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from registry.applications import FormInvalid

from . import bp

MAX_ID = 2**31 - 1

FORM_DATA = "form_data"
"""The hidden field a deployed form's submission comes in, as JSON (formview.js fills it)."""


def int_arg(value: str | None) -> int | None:
    """A positive 32-bit integer from a query-string value, else None (never an error)."""
    if value is None or not value.strip().isdigit():
        return None
    number = int(value.strip())
    return number if 0 < number <= MAX_ID else None


def posted_form_data() -> dict[str, Any]:
    """A deployed form's submission: the JSON object in the posted field ``form_data``;
    FormInvalid when it is not one."""
    try:
        data = json.loads(request.form.get(FORM_DATA) or "{}")
    except ValueError:
        raise FormInvalid({FORM_DATA: ["提交的数据不是有效的 JSON"]}) from None
    if not isinstance(data, dict):
        raise FormInvalid({FORM_DATA: ["提交的数据应为 JSON 对象"]})
    return data


@bp.app_template_filter("field_errors")
def field_errors(errors: Any) -> dict[str, list[str]]:
    """A refused submission's errors as a deployed form's page shows them: each field's
    messages by its key path (``progress.percent``; a nested dict's keys joined by dots), a
    lone message as a list of one; ``_schema`` and the keys of no field as they come."""
    flat: dict[str, list[str]] = {}
    stack: list[tuple[str, Any]] = [("", errors)] if isinstance(errors, dict) else []
    while stack:
        prefix, node = stack.pop()
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                stack.append((f"{name}.", value))
            elif isinstance(value, (list, tuple)):
                flat.setdefault(name, []).extend(str(m) for m in value)
            elif value is not None:
                flat.setdefault(name, []).append(str(value))
    return flat
