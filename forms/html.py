"""An HTML form from a schema, and the posted form back into the data the schema loads.

Labels, units, choices and errors come from the same definition that validates, so the
page and the API cannot disagree. Nested lists post as ``name-0-field``, ``name-1-field``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape
from marshmallow import Schema, ValidationError, fields

EXTRA_ROWS = 1
"""Blank rows offered under a list's existing rows."""

MAX_ROWS = 500
"""Most rows a posted list may have: a row number (``items-N-field``) is below this."""


class PostedFormInvalid(ValidationError):
    """The posted form cannot even be read into data (e.g. a row number out of range); the
    web layer answers 422 with these messages, which name the field."""


def render(schema: Schema, data: Mapping[str, Any] | None = None,
           errors: Mapping[str, Any] | None = None, prefix: str = "") -> Markup:
    """The form's fields as HTML (without the <form> element and its buttons)."""
    data, errors = data or {}, errors or {}
    parts = [_render_field(f, prefix + name, data.get(name), errors.get(name))
             for name, f in schema.fields.items() if not f.dump_only]
    return Markup("\n").join(parts)


def _messages(errors: Any) -> list[str]:
    if isinstance(errors, list):
        return [m for m in errors if isinstance(m, str)]
    return []


def _render_field(field: fields.Field, name: str, value: Any, errors: Any) -> Markup:
    label = field.metadata.get("label", name)
    if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
        return _render_rows(field, name, label, value or [], errors)
    required = mark(field)
    problems = _messages(errors)
    described = Markup(f' aria-describedby="{escape(name)}-error"') if problems else Markup("")
    control = _control(field, name, value, described)
    unit = field.metadata.get("unit")
    after = Markup(' <span class="unit">{}</span>').format(unit) if unit else Markup("")
    error = Markup('<p class="error" id="{}-error">{}</p>').format(
        name, "；".join(problems)) if problems else Markup("")
    css = "field has-error" if problems else "field"
    return Markup('<div class="{}"><label for="{}">{}{}</label>{}{}{}</div>').format(
        css, name, label, required, control, after, error)


def mark(field: fields.Field) -> Markup:
    """The label's mark of a required field (a red * and, for screen readers, 必填), or of one
    required only when (``required_when``, forms.base.unless) shown in words; none else."""
    star = Markup(' <span class="required" aria-hidden="true">*</span>')
    if field.required:
        return star + Markup('<span class="sr-only">（必填）</span>')
    when = field.metadata.get("required_when")
    if when:
        return star + Markup(' <small class="required-when">（{}必填）</small>').format(when)
    return Markup("")


def _control(field: fields.Field, name: str, value: Any, extra: Markup) -> Markup:
    attrs = Markup(' id="{0}" name="{0}"').format(name) + extra
    if field.required:
        attrs += Markup(' required aria-required="true"')
    shown = "" if value is None else str(value)
    choices = field.metadata.get("choices")
    if choices:
        groups = field.metadata.get("choice_groups") or {"": choices}
        options = [Markup('<option value="">请选择</option>')]
        if shown and shown not in choices:  # what was posted stays, to be corrected
            options.append(Markup('<option value="{0}" selected>{0}</option>').format(shown))
        for group, members in groups.items():
            inner = [Markup('<option value="{}"{}>{}</option>').format(
                code, Markup(" selected") if code == shown else Markup(""), title)
                for code, title in members.items()]
            options.append(Markup('<optgroup label="{}">{}</optgroup>').format(
                group, Markup("").join(inner)) if group else Markup("").join(inner))
        return Markup("<select{}>{}</select>").format(attrs, Markup("").join(options))
    if isinstance(field, fields.Boolean):
        yes = Markup(" selected") if value is True or shown == "true" else Markup("")
        no = Markup(" selected") if value is False or shown == "false" else Markup("")
        return Markup('<select{}><option value="">请选择</option><option value="true"{}>是'
                      '</option><option value="false"{}>否</option></select>'
                      ).format(attrs, yes, no)
    if field.metadata.get("multiline"):
        return Markup("<textarea{} rows=\"4\">{}</textarea>").format(attrs, shown)
    return Markup('<input{} type="{}" value="{}"{}>').format(
        attrs, _input_type(field), shown, _limits(field))


def _input_type(field: fields.Field) -> str:
    if isinstance(field, fields.Date):
        return "date"
    if isinstance(field, fields.Integer | fields.Decimal):
        return "number"
    return "text"


def _limits(field: fields.Field) -> Markup:
    if isinstance(field, fields.Decimal):
        return Markup(' min="0" step="0.01" inputmode="decimal"')
    if isinstance(field, fields.Integer):
        return Markup(' min="0" step="1" inputmode="numeric"')
    if field.metadata.get("max_length"):
        return Markup(' maxlength="{}"').format(field.metadata["max_length"])
    return Markup("")


def _render_rows(field: fields.List, name: str, label: str, rows: list[Any],
                 errors: Any) -> Markup:
    nested = field.inner.schema  # type: ignore[attr-defined]
    count = max(len(rows) + EXTRA_ROWS, field.metadata.get("min_items") or 0, 1)
    row_errors = errors if isinstance(errors, dict) else {}
    parts = []
    for i in range(count):
        row = rows[i] if i < len(rows) else {}
        inner = render(nested, row, row_errors.get(i), prefix=f"{name}-{i}-")
        parts.append(Markup('<div class="row">{}</div>').format(inner))
    problems = _messages(errors)
    error = Markup('<p class="error">{}</p>').format("；".join(problems)) if problems \
        else Markup("")
    return Markup('<fieldset class="rows" id="{}"><legend>{}</legend>{}{}</fieldset>').format(
        name, label, Markup("").join(parts), error)


_ROW = re.compile(r"^(?P<index>\d+)-(?P<rest>.+)$")

_MAX_DIGITS = len(str(MAX_ROWS))


def parse(schema: Schema, form: Mapping[str, str], prefix: str = "") -> dict[str, Any]:
    """The posted fields of ``schema`` as data for ``schema.load``; blank fields are left out
    (so a missing required field reads 必填), blank rows of a list are dropped."""
    out: dict[str, Any] = {}
    for name, field in schema.fields.items():
        key = prefix + name
        if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            inner: Any = field.inner
            rows = _parse_rows(inner.schema, form, key, field.metadata.get("label", name))
            if rows or field.required:
                out[name] = rows
            continue
        value = form.get(key, "")
        if isinstance(value, str) and value.strip():
            out[name] = value.strip()
    return out


def _parse_rows(nested: Schema, form: Mapping[str, str], key: str,
                label: str) -> list[dict[str, Any]]:
    digits = {m["index"] for k in form if k.startswith(key + "-")
              if (m := _ROW.match(k[len(key) + 1:]))}
    bad = max(digits, key=lambda d: (len(d), d), default="")  # the largest number posted
    if len(bad) > _MAX_DIGITS or (bad and int(bad) >= MAX_ROWS):
        shown = bad if len(bad) <= 12 else f"{bad[:12]}…（{len(bad)} 位数字）"
        raise PostedFormInvalid({key: [f"「{label}」的行号 {shown} 无效：最多 {MAX_ROWS} 行，"
                                       f"行号应在 0 到 {MAX_ROWS - 1} 之间"]})
    rows = [parse(nested, form, prefix=f"{key}-{i}-") for i in sorted({int(d) for d in digits})]
    return [row for row in rows if row]


def display(schema: Schema, data: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """The filled fields of ``data`` as (label, shown value) for read-only pages: codes as
    their titles, booleans as 是/否, list rows as lists of their own pairs."""
    data = data or {}
    shown: list[tuple[str, Any]] = []
    for name, field in schema.fields.items():
        value = data.get(name)
        if value is None or value in ("", []):
            continue
        label = field.metadata.get("label", name)
        if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            inner: Any = field.inner
            shown.append((label, [display(inner.schema, row) for row in value]))
            continue
        choices = field.metadata.get("choices") or {}
        if isinstance(value, bool):
            value = "是" if value else "否"
        elif str(value) in choices:
            value = choices[str(value)]
        unit = field.metadata.get("unit")
        shown.append((label, f"{value} {unit}" if unit else str(value)))
    return shown
