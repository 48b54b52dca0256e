"""One submission to a form-js form, cleaned and checked field by field.

Like form-js, an empty string, ``null`` or a missing key is "not filled in"; the cleaned
data holds every input key with form-js's empty value then (``""`` for text, ``None`` for a
number, a date or a choice, ``False`` for a checkbox, ``[]`` for a list), so a process sees
the same variables it would see from Camunda. A key the form does not have is refused.
Nothing raises on hostile data: every problem is an error message naming the field.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from . import formjs_limits as limits
from . import regex_guard
from .base import UNSTORABLE_TEXT, storable_text
from .formjs_document import fields
from .formjs_fields import Field, as_decimal, same_value

Cleaned = tuple[Any, str | None]
"""A cleaned value and the message (without the label) when it is wrong."""


class Verbatim(str):
    """A message the analyst wrote (``patternErrorMessage``): shown as it is, no label."""

    __slots__ = ()

FORM_ERRORS = "_schema"
"""The error key of a problem with the submission as a whole, as marshmallow names it."""

TIME = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?(Z|[+-][01][0-9]:[0-5][0-9])?"
"""A form-js time: ``HH:MM``, then ``Z``, an offset or nothing, per its serialising format."""

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_TIME = re.compile(TIME + r"\Z")
_DATETIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T" + TIME + r"\Z")
_EMAIL = re.compile(r"[^\s@]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63}){1,8}\Z")
_PHONE = re.compile(r"((\+|00)[1-9][0-9]{5,19}|1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})\Z")
_DATETIME_FORMATS = {"date": "日期，格式 YYYY-MM-DD", "time": "时间，格式 HH:MM",
                     "datetime": "日期时间，格式 YYYY-MM-DDTHH:MM"}


def validate(document: Any, data: Any, *, today: date | None = None,
             ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The cleaned data of a checked form-js ``document`` (``FormError`` if not) and the
    errors of ``data``, keyed by the field's key path (``FORM_ERRORS`` for the whole)."""
    found = fields(document)
    if not isinstance(data, dict):
        return {}, {FORM_ERRORS: ["提交的数据应为 JSON 对象"]}
    errors = _unknown_keys(found, data)
    cleaned: dict[str, Any] = {}
    for field in found:
        raw = _lookup(data, field.path)
        value, message = clean(field, raw, today or date.today())
        if message is not None:
            errors.setdefault(field.key, []).append(message)
        else:
            _put(cleaned, field.path, value)
    return cleaned, errors


def clean(field: Field, raw: Any, today: date) -> Cleaned:
    """The cleaned value of one field, or its error message (with the label)."""
    value, message = _CLEANERS[field.type](field, raw, today)
    if message is None or isinstance(message, Verbatim):
        return value, None if message is None else str(message)
    return value, f"「{field.label}」{message}"


def _lookup(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for segment in path:
        if not isinstance(node, dict):
            return None
        node = node.get(segment)
    return node


def _put(cleaned: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = cleaned
    for segment in path[:-1]:
        node = node.setdefault(segment, {})
    node[path[-1]] = value


def _unknown_keys(found: list[Field], data: dict[str, Any]) -> dict[str, list[str]]:
    tree: dict[str, Any] = {}
    for field in found:
        node = tree
        for segment in field.path[:-1]:
            node = node.setdefault(segment, {})
        node[field.path[-1]] = None
    errors: dict[str, list[str]] = {}
    stack: list[tuple[dict[str, Any], dict[str, Any], str]] = [(data, tree, "")]
    while stack:
        given, known, prefix = stack.pop()
        for key, value in given.items():
            name = f"{prefix}{str(key)[:40]}"
            if key not in known:
                errors[name] = [f"表单中没有“{name}”这一项"]
            elif known[key] is not None and isinstance(value, dict):
                stack.append((value, known[key], f"{name}."))
            elif known[key] is not None and value is not None:
                errors[name] = [f"“{name}”应为对象"]
            if len(errors) >= limits.MAX_ERRORS:
                return {**errors, FORM_ERRORS: ["提交的数据中未知的项过多"]}
    return errors


def _empty(raw: Any) -> bool:
    return raw is None or raw == ""


def _text(field: Field, raw: Any, today: date) -> Cleaned:
    if _empty(raw):
        return "", "必填" if field.required else None
    if not isinstance(raw, str):
        return None, "应为文字"
    cap = limits.MAX_TEXTFIELD if field.type == "textfield" else limits.MAX_TEXTAREA
    cap = min(cap, field.max_length if field.max_length is not None else cap)
    if not storable_text(raw):
        return None, UNSTORABLE_TEXT
    value = re.sub(r"[\r\n\t]", " ", raw) if field.type == "textfield" else raw
    length = len(value.strip())
    if len(value) > cap and length > cap:
        return None, f"长度应不超过 {cap} 个字符"
    if field.min_length is not None and length < field.min_length:
        return None, f"长度应不少于 {field.min_length} 个字符"
    return value, _text_format(field, value)


def _text_format(field: Field, value: str) -> str | None:
    if field.pattern:
        matched = regex_guard.search(field.pattern, value)
        if matched is None:
            return f"过长（超过 {regex_guard.MAX_INPUT} 个字符），无法按格式校验"
        if not matched:
            return Verbatim(field.pattern_message) if field.pattern_message else "格式不正确"
    if field.validation_type == "email" and not _EMAIL.match(value):
        return "应为有效的电子邮箱地址"
    if field.validation_type == "phone" and not _PHONE.match(value):
        return "应为有效的电话号码（手机、区号-座机号，或 +86 开头的国际格式）"
    return None


def _number(field: Field, raw: Any, today: date) -> Cleaned:
    if _empty(raw):
        return None, "必填" if field.required else None
    value = as_decimal(raw)
    if isinstance(value, str):
        return None, value
    message = _number_rules(field, value)
    if message is not None:
        return None, message
    if field.as_string:
        return format(value, "f"), None
    integral = field.decimal_digits == 0 or (
        field.decimal_digits is None and value == value.to_integral_value())
    return (int(value) if integral else float(value)), None


def _number_rules(field: Field, value: Decimal) -> str | None:
    exponent = value.normalize().as_tuple().exponent
    digits = max(0, -exponent) if isinstance(exponent, int) else 0
    if field.decimal_digits is not None and digits > field.decimal_digits:
        return "应为整数" if field.decimal_digits == 0 else \
            f"最多保留 {field.decimal_digits} 位小数"
    if field.increment is not None and value % field.increment != 0:
        return f"应为 {field.increment} 的整数倍"
    if field.minimum is not None and value < field.minimum:
        return f"应不小于 {field.minimum}"
    if field.maximum is not None and value > field.maximum:
        return f"应不大于 {field.maximum}"
    return None


def _checkbox(field: Field, raw: Any, today: date) -> Cleaned:
    if raw is None:
        raw = False
    if not isinstance(raw, bool):
        return None, "应为“是”或“否”"
    return raw, "必须勾选" if field.required and not raw else None


def _choice(field: Field, raw: Any, today: date) -> Cleaned:
    if _empty(raw):
        return None, "必填" if field.required else None
    for value, _ in field.options:
        if same_value(raw, value):
            return value, None
    return None, _not_an_option(field)


def _not_an_option(field: Field) -> str:
    labels = "、".join(label for _, label in field.options[:10])
    return f"应为以下之一：{labels}" if len(field.options) <= 10 else "不是可选的值"


def _many(field: Field, raw: Any, today: date) -> Cleaned:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        return None, "应为列表"
    if len(raw) > len(field.options):
        return None, "选项过多"
    chosen: list[Any] = []
    for item in raw:
        match = next((v for v, _ in field.options if same_value(item, v)), None)
        if match is None:
            return None, "含有不可选的值；" + _not_an_option(field)
        if not any(same_value(match, c) for c in chosen):
            chosen.append(match)
    return chosen, "至少选择一项" if field.required and not chosen else None


def _datetime(field: Field, raw: Any, today: date) -> Cleaned:
    if _empty(raw):
        return None, "必填" if field.required else None
    wrong = f"应为{_DATETIME_FORMATS[field.subtype]}"
    if not isinstance(raw, str) or len(raw) > 40:
        return None, wrong
    if field.subtype == "time":
        return (raw, None) if _TIME.match(raw) else (None, wrong)
    pattern = _DATE if field.subtype == "date" else _DATETIME
    match = pattern.match(raw)
    try:
        day = date.fromisoformat(raw[:10]) if match else None
    except ValueError:
        day = None
    if day is None:
        return None, wrong
    if field.no_past_dates and day < today:
        return None, "不能早于今天"
    return raw, None


_CLEANERS = {
    "textfield": _text, "textarea": _text, "number": _number, "checkbox": _checkbox,
    "radio": _choice, "select": _choice, "checklist": _many, "taglist": _many,
    "datetime": _datetime,
}
