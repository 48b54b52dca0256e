"""The JSON Schema (2020-12) of a form-js form's data, as :mod:`forms.jsonschema` writes it
for the marshmallow forms: titles are labels, options are ``oneOf`` consts with titles.

It describes what a client submits: optional fields may be left out, ``null`` or (for
text) empty, as form-js submits them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import formjs_limits as limits
from .formjs_document import fields
from .formjs_fields import Field
from .formjs_values import TIME
from .jsonschema import DIALECT

FORMATS = {"date": "date", "time": "time", "datetime": "date-time"}


def json_schema(document: Any) -> dict[str, Any]:
    """The JSON Schema of the data of a checked form-js document (``FormError`` if not)."""
    root: dict[str, Any] = {"$schema": DIALECT, **_node()}
    if isinstance(document.get("id"), str):
        root["$id"] = f"urn:cqpi:form:{document['id']}"
    for field in fields(document):
        _place(root, field)
    return root


def _node() -> dict[str, Any]:
    return {"type": "object", "properties": {}, "additionalProperties": False}


def _place(root: dict[str, Any], field: Field) -> None:
    node = root
    for segment in field.path[:-1]:
        if field.required:
            _require(node, segment)
        node = node["properties"].setdefault(segment, _node())
    node["properties"][field.path[-1]] = property_schema(field)
    if field.required:
        _require(node, field.path[-1])


def _require(node: dict[str, Any], name: str) -> None:
    required = node.setdefault("required", [])
    if name not in required:
        required.append(name)


def property_schema(field: Field) -> dict[str, Any]:
    """The schema of one field's value."""
    return {"title": field.label, **_SHAPES[field.type](field)}


def _text(field: Field) -> dict[str, Any]:
    cap = limits.MAX_TEXTFIELD if field.type == "textfield" else limits.MAX_TEXTAREA
    out: dict[str, Any] = {"type": "string",
                           "maxLength": min(cap, field.max_length or cap)}
    rules: dict[str, Any] = {}
    if field.min_length:
        rules["minLength"] = field.min_length
    if field.pattern:
        rules["pattern"] = field.pattern
    if field.validation_type == "email":
        rules["format"] = "email"
    if field.required:
        return {**out, "minLength": 1, **rules}
    if rules:
        out["anyOf"] = [{"maxLength": 0}, rules]
    return out


def _number(field: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "integer" if field.decimal_digits == 0 else "number"}
    for name, bound in (("minimum", field.minimum), ("maximum", field.maximum),
                        ("multipleOf", field.increment)):
        if bound is not None:
            out[name] = _plain(bound)
    if field.as_string:
        out = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
               "description": "数字，以字符串提交"}
    return _nullable(out, field)


def _plain(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def _checkbox(field: Field) -> dict[str, Any]:
    return {"type": "boolean", "const": True} if field.required else {"type": "boolean"}


def _choice(field: Field) -> dict[str, Any]:
    return _nullable({"oneOf": _consts(field)}, field)


def _consts(field: Field) -> list[dict[str, Any]]:
    return [{"const": value, "title": label} for value, label in field.options]


def _many(field: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "items": {"oneOf": _consts(field)},
                           "uniqueItems": True}
    if field.required:
        out["minItems"] = 1
    return out


def _datetime(field: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", "format": FORMATS[field.subtype]}
    if field.subtype == "time":
        out["pattern"] = f"^{TIME}$"
    return _nullable(out, field)


def _nullable(shape: dict[str, Any], field: Field) -> dict[str, Any]:
    if field.required:
        return shape
    if "oneOf" in shape:
        return {"oneOf": [*shape["oneOf"], {"type": "null"}]}
    return {"anyOf": [shape, {"type": "null"}]}


_SHAPES = {
    "textfield": _text, "textarea": _text, "number": _number, "checkbox": _checkbox,
    "radio": _choice, "select": _choice, "checklist": _many, "taglist": _many,
    "datetime": _datetime,
}
