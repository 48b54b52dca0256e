"""JSON Schema (2020-12) of a form, from the same marshmallow definition that validates it."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(schema: Schema | type[Schema]) -> dict[str, Any]:
    """The JSON Schema of ``schema``: titles are the Chinese labels, codes are ``oneOf`` consts."""
    return {"$schema": DIALECT, **_object(schema() if isinstance(schema, type) else schema)}


def _object(schema: Schema) -> dict[str, Any]:
    props = {name: _field(f, name) for name, f in schema.fields.items() if not f.dump_only}
    required = [name for name, f in schema.fields.items() if f.required]
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    if schema.__doc__:
        out["description"] = schema.__doc__.strip().splitlines()[0]
    return out


def _field(field: fields.Field, name: str) -> dict[str, Any]:
    meta = field.metadata
    out = {"title": meta.get("label", name), **_type(field)}
    if meta.get("unit"):
        out["description"] = f"单位: {meta['unit']}"
    if field.allow_none and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


SCALARS: tuple[tuple[type[fields.Field], dict[str, Any]], ...] = (
    (fields.Date, {"type": "string", "format": "date"}),
    (fields.Integer, {"type": "integer", "minimum": 0}),
    (fields.Decimal, {"type": "number", "minimum": 0}),
    (fields.Boolean, {"type": "boolean"}),
)


def _type(field: fields.Field) -> dict[str, Any]:
    if isinstance(field, fields.Nested):
        return _object(field.schema)
    if isinstance(field, fields.List):
        return _array(field)
    for kind, shape in SCALARS:
        if isinstance(field, kind):
            return dict(shape)
    return _string(field)


def _array(field: fields.List) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "items": _field(field.inner, "item")}
    if field.metadata.get("min_items"):
        out["minItems"] = field.metadata["min_items"]
    return out


def _string(field: fields.Field) -> dict[str, Any]:
    meta = field.metadata
    if meta.get("choices"):
        return {"type": "string",
                "oneOf": [{"const": c, "title": t} for c, t in meta["choices"].items()]}
    out: dict[str, Any] = {"type": "string"}
    if meta.get("max_length"):
        out["maxLength"] = meta["max_length"]
    if field.required:
        out["minLength"] = 1
    if meta.get("pattern"):
        out["pattern"] = meta["pattern"]
    return out
