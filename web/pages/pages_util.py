"""Small helpers for reading the query string and posted forms."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from registry.applications import FormInvalid

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
