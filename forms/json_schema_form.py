"""Forms written as JSON Schema, spiff-arena's convention (``formJsonSchemaFilename``).

:func:`check` tells what is wrong with a schema received from a stranger; :func:`validate`
checks one submission with the ``jsonschema`` library, in Chinese, naming the field by its
``title``. Nothing is ever fetched: a ``$ref`` must point inside the document (``#/...``),
and the registry handed to the library refuses any other address.

A government form refuses keys it does not declare: every object reached through
``properties`` or ``items`` that says nothing of extra keys gets
``unevaluatedProperties: false`` (which sees through ``allOf`` and ``$ref``).
"""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import FormatChecker, ValidationError, exceptions, validators
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from . import formjs_limits as limits
from . import regex_guard
from .formjs_document import FormError, size_problems

DIALECTS = frozenset({
    "https://json-schema.org/draft/2020-12/schema",
    "http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-07/schema",
})
"""The ``$schema`` values accepted; without one, 2020-12 applies."""

MAX_ERRORS = 100
"""The most errors reported for one submission."""

FORM_ERRORS = "_schema"
TYPES = {"string": "文字", "integer": "整数", "number": "数字", "boolean": "“是”或“否”",
         "object": "对象", "array": "列表", "null": "空"}
_REFUSED_KEYWORDS = ("$dynamicRef", "$recursiveRef", "$dynamicAnchor", "$recursiveAnchor")


def check(document: Any) -> list[str]:
    """The problems of a JSON Schema form, in Chinese; empty when it may be deployed."""
    problems = size_problems(document)
    if problems:
        return problems
    if not isinstance(document, dict) or document.get("type") != "object" or \
            not isinstance(document.get("properties"), dict):
        return ["表单应为 JSON Schema 对象：type 为 \"object\"，并有 properties"]
    if document.get("$schema", next(iter(DIALECTS))) not in DIALECTS:
        problems.append("$schema 只能是 JSON Schema 2020-12 或 draft-07")
    problems += _keyword_problems(document)
    if not problems:
        try:
            _validator_class(document).check_schema(document)
        except exceptions.SchemaError as exc:
            problems.append(f"JSON Schema 不合法：{str(exc.message)[:200]}")
    return problems


def _keyword_problems(document: Any) -> list[str]:
    problems: list[str] = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        ref = node.get("$ref")
        if ref is not None and not (isinstance(ref, str) and ref.startswith("#")):
            problems.append(f"$ref 只能引用本文件内的定义（以 # 开头）：{str(ref)[:80]}")
        problems += [f"不支持 {k}" for k in _REFUSED_KEYWORDS if k in node]
        patterns = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        if isinstance(node.get("patternProperties"), dict):
            patterns += list(node["patternProperties"])
        problems += [f"pattern {str(p)[:80]}：{why}" for p in patterns
                     if (why := regex_guard.problem(p)) is not None]
    return problems


def validate(document: Any, data: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The data (a copy, when it is an object) and its errors keyed by the field's path;
    :class:`FormError` if ``document`` is refused by :func:`check`."""
    problems = check(document)
    if problems:
        raise FormError(problems)
    if not isinstance(data, dict):
        return {}, {FORM_ERRORS: ["提交的数据应为 JSON 对象"]}
    if (too_big := _data_problems(data)) is not None:
        return {}, {FORM_ERRORS: [too_big]}
    validator = _validator_class(document)(
        strict(document), registry=Registry(retrieve=_refuse),  # type: ignore[call-arg]
        format_checker=FormatChecker())
    errors: dict[str, list[str]] = {}
    for count, error in enumerate(validator.iter_errors(data)):
        if count >= MAX_ERRORS:
            break
        for key, message in _messages(error, document):
            errors.setdefault(key, []).append(message)
    cleaned = {k: copy.deepcopy(v) for k, v in data.items()
               if not any(e == k or e.startswith(f"{k}.") for e in errors)}
    return cleaned, errors


def strict(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` in which objects declared by ``properties`` (or, in 2020-12,
    by a ``$ref``) refuse other keys; draft-07 knows only ``additionalProperties``, which
    would break a composition, so there a node with ``allOf``/``anyOf``/``oneOf``/``$ref``
    is left as it is."""
    out = copy.deepcopy(document)
    modern = _validator_class(document) is validators.Draft202012Validator
    keyword = "unevaluatedProperties" if modern else "additionalProperties"
    stack = [out]
    while stack:
        node = stack.pop()
        props = node.get("properties") if isinstance(node.get("properties"), dict) else None
        open_ended = not {"additionalProperties", "unevaluatedProperties"} & set(node)
        composed = bool({"allOf", "anyOf", "oneOf", "$ref"} & set(node))
        if open_ended and (props is not None or (modern and "$ref" in node)) and (
                modern or not composed):
            node[keyword] = False
        children = [*(props or {}).values(), node.get("items")]
        stack.extend(c for c in children if isinstance(c, dict))
    return out


def _validator_class(document: dict[str, Any]) -> Any:
    return validators.validator_for(document, default=validators.Draft202012Validator)


def _refuse(uri: str) -> Resource[Any]:
    raise NoSuchResource(uri)


def _data_problems(data: Any) -> str | None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > limits.MAX_NODES or depth > limits.MAX_DEPTH:
            return "提交的数据过大或嵌套过深"
        if isinstance(value, str) and len(value) > limits.MAX_TEXTAREA:
            return f"提交的文字过长（不能超过 {limits.MAX_TEXTAREA} 个字符）"
        if isinstance(value, int) and abs(value) >= 10 ** 100:
            return "提交的数值过大"
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
            stack.extend((k, depth) for k in value)
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return None


def _messages(error: ValidationError, document: dict[str, Any]) -> list[tuple[str, str]]:
    path = ".".join(str(p) for p in error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required" and isinstance(error.instance, dict):
        props = schema.get("properties", {})
        return [(_join(path, name), f"「{_title(props.get(name), name)}」必填")
                for name in error.validator_value if name not in error.instance]
    if error.validator in ("additionalProperties", "unevaluatedProperties") and \
            isinstance(error.instance, dict):
        known = _declared(schema, document)
        return [(_join(path, str(k)[:40]), f"表单中没有“{_join(path, str(k)[:40])}”这一项")
                for k in error.instance if k not in known]
    title = _title(schema, path.rsplit(".", 1)[-1] or "提交的数据")
    return [(path or FORM_ERRORS, f"「{title}」{_reason(error, schema)}")]


def _declared(schema: dict[str, Any], document: dict[str, Any]) -> set[str]:
    """The property names ``schema`` declares itself, through a local ``$ref`` or in the
    members of an ``allOf``/``anyOf``/``oneOf`` (one level each, enough for a message)."""
    nodes = [schema, _pointer(document, schema.get("$ref"))]
    for keyword in ("allOf", "anyOf", "oneOf"):
        members = schema.get(keyword)
        nodes += members if isinstance(members, list) else []
    nodes += [_pointer(document, n.get("$ref")) for n in list(nodes) if isinstance(n, dict)]
    return {name for n in nodes if isinstance(n, dict)
            and isinstance(n.get("properties"), dict) for name in n["properties"]}


def _pointer(document: dict[str, Any], ref: Any) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    node: Any = document
    for raw in ref[1:].split("/")[1:]:
        name = raw.replace("~1", "/").replace("~0", "~")
        node = node.get(name) if isinstance(node, dict) else None
    return node


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _title(schema: Any, fallback: str) -> str:
    title = schema.get("title") if isinstance(schema, dict) else None
    return title[:limits.MAX_LABEL] if isinstance(title, str) and title else fallback


def _reason(error: ValidationError, schema: dict[str, Any]) -> str:
    value = error.validator_value
    reasons = {
        "type": lambda: "应为" + "或".join(TYPES.get(t, str(t)) for t in (
            value if isinstance(value, list) else [value])),
        "enum": lambda: "应为以下之一：" + "、".join(str(v)[:40] for v in value[:10]),
        "const": lambda: f"应为 {str(value)[:40]}",
        "oneOf": lambda: "不是可选的值",
        "anyOf": lambda: "不是可选的值",
        "minimum": lambda: f"应不小于 {value}",
        "maximum": lambda: f"应不大于 {value}",
        "exclusiveMinimum": lambda: f"应大于 {value}",
        "exclusiveMaximum": lambda: f"应小于 {value}",
        "minLength": lambda: f"长度应不少于 {value} 个字符",
        "maxLength": lambda: f"长度应不超过 {value} 个字符",
        "pattern": lambda: "格式不正确",
        "format": lambda: ("应为日期，格式 YYYY-MM-DD" if value == "date"
                           else f"格式不正确（{value}）"),
        "minItems": lambda: f"至少选择 {value} 项",
        "maxItems": lambda: f"最多选择 {value} 项",
        "uniqueItems": lambda: "不能有重复的项",
        "multipleOf": lambda: f"应为 {value} 的整数倍",
    }
    reason = reasons.get(str(error.validator))
    return reason() if reason is not None else "不符合要求"
