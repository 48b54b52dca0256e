"""The base of every form: Chinese messages that name the field, and field builders.

A field's label (``metadata["label"]``) is what people read; every error message starts
with it, so ``{"amount": ["「合同金额」不能小于 0"]}`` tells the user which box to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from . import credit_code

MESSAGES = {
    "required": "必填",
    "null": "不能为空",
    "invalid": "格式不正确",
    "too_large": "数值过大",
    "special": "不能是 NaN 或无穷大",
    "format": "日期格式应为 YYYY-MM-DD",
    "validator_failed": "取值不符合要求",
    "type": "格式不正确",
}
"""marshmallow's message keys in Chinese; the field label is put in front."""

UNSTORABLE_TEXT = "含有无效字符（无法保存的 Unicode 代理字符）"
"""What a text that the databases cannot store reads as, after the field's label."""


def storable_text(value: str) -> bool:
    """Whether ``value`` can be stored: a lone surrogate ("\\ud800" in JSON) is not UTF-8,
    and neither database nor the engine's state can hold it."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _has_unstorable_text(value: Any) -> bool:
    if isinstance(value, str):
        return not storable_text(value)
    if isinstance(value, list | tuple):
        return any(isinstance(v, str) and not storable_text(v) for v in value)
    return False


INVALID_BY_TYPE: tuple[tuple[type[fields.Field], str], ...] = (
    (fields.Date, "应为日期，格式 YYYY-MM-DD"),
    (fields.Decimal, "应为数字"),
    (fields.Integer, "应为整数"),
    (fields.Boolean, "应为“是”或“否”"),
    (fields.List, "应为列表"),
    (fields.String, "应为文字"),
)


def label_of(field: fields.Field, name: str) -> str:
    return field.metadata.get("label", name)


class FormSchema(Schema):
    """Base schema: unknown fields refused, messages in Chinese naming the field (validators
    without a message of their own get one)."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "未知字段", "type": "数据格式不正确，应为对象"}

    @pre_load
    def refuse_unstorable_text(self, data: Any, **_kwargs: Any) -> Any:
        """Refuse text that cannot be stored (a lone surrogate), naming each field, before
        anything else reads it."""
        if not isinstance(data, Mapping):
            return data
        by_key = {f.data_key or name: (name, f) for name, f in self.load_fields.items()}
        errors: dict[str, list[str]] = {}
        for key, value in data.items():
            if _has_unstorable_text(value):
                name, field = by_key.get(key, (str(key), None))
                label = label_of(field, name) if field is not None else str(key)
                errors[str(key)] = [f"「{label}」{UNSTORABLE_TEXT}"]
        if errors:
            raise ValidationError(errors)
        return data

    @pre_load
    def strip_blanks(self, data: Any, **_kwargs: Any) -> Any:
        """Trim text; a blank text counts as not given (so it reads 不能为空, not too short)."""
        if not isinstance(data, Mapping):
            return data
        return {k: (v.strip() or None) if isinstance(v, str) else v for k, v in data.items()}

    @validates_schema
    def required_unless_flagged(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """A field required unless a flag of the form is set (``required_unless``, see
        :func:`unless`): the page marks it from the same metadata."""
        for name, field in self.fields.items():
            flag = field.metadata.get("required_unless")
            if flag and not data.get(flag) and data.get(name) in (None, ""):
                label = label_of(field, name)
                rule = field.metadata.get("rule")
                raise fail(name, label, f"{field.metadata['required_when']}须指明{label}"
                           + (f"（{rule}）" if rule else ""))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            label = label_of(field, name)
            for key in field.error_messages:
                if key in MESSAGES:
                    field.error_messages[key] = f"「{label}」{MESSAGES[key]}"
            invalid = next((m for t, m in INVALID_BY_TYPE if isinstance(field, t)), None)
            if invalid:
                field.error_messages["invalid"] = f"「{label}」{invalid}"
            for check in field.validators:
                _in_chinese(check, label)


def _in_chinese(check: Any, label: str) -> None:
    """Give a validator left with marshmallow's English message one in Chinese."""
    error = getattr(check, "error", "")
    if error is not None and error != getattr(type(check), "default_message", None):
        return  # the form gave its own message
    if isinstance(check, validate.Range):
        low, high = check.min, check.max
        check.error = (f"「{label}」应在 {low} 到 {high} 之间" if None not in (low, high)
                       else f"「{label}」应不小于 {low}" if low is not None
                       else f"「{label}」应不大于 {high}")
    elif isinstance(check, validate.Length):
        check.error = (f"「{label}」长度应不超过 {check.max} 个字符" if not check.min
                       else f"「{label}」长度应在 {check.min} 到 {check.max} 个字符之间")
    elif isinstance(check, validate.OneOf):
        check.error = f"「{label}」应为以下之一：{{choices}}"


def fail(field: str, label: str, message: str) -> ValidationError:
    """A refusal of one field, in the form's own message style."""
    return ValidationError({field: [f"「{label}」{message}"]})


def _meta(label: str, **extra: Any) -> dict[str, Any]:
    return {"label": label, **{k: v for k, v in extra.items() if v is not None}}


def text(label: str, *, required: bool = True, max_len: int = 200, pattern: str | None = None,
         pattern_hint: str | None = None, multiline: bool = False) -> fields.String:
    length = f"「{label}」长度应在 {{min}} 到 {{max}} 个字符之间"
    checks: list[Any] = [validate.Length(min=1 if required else 0, max=max_len, error=length)]
    if pattern:
        checks.append(validate.Regexp(pattern, error=f"「{label}」{pattern_hint or '格式不正确'}"))
    return fields.String(required=required, allow_none=not required, validate=checks,
                         metadata=_meta(label, pattern=pattern, multiline=multiline or None,
                                        max_length=max_len))


def number(label: str, *, unit: str | None = None, required: bool = True,
           places: int = 2) -> fields.Decimal:
    return fields.Decimal(
        required=required, allow_none=not required, places=places, as_string=True,
        validate=validate.Range(min=Decimal(0), error=f"「{label}」不能小于 0"),
        metadata=_meta(label, unit=unit))


def count(label: str, *, required: bool = True) -> fields.Integer:
    return fields.Integer(required=required, allow_none=not required, strict=False,
                          validate=validate.Range(min=0, max=10**9,
                                                  error=f"「{label}」应在 0 到 10亿 之间"),
                          metadata=_meta(label))


def day(label: str, *, required: bool = True) -> fields.Date:
    return fields.Date(required=required, allow_none=not required, metadata=_meta(label))


def flag(label: str, *, required: bool = True) -> fields.Boolean:
    return fields.Boolean(required=required, metadata=_meta(label))


def code(label: str, table: Mapping[str, str], *, required: bool = True) -> fields.String:
    """A value from a code table; the form shows the labels, stores the code."""
    return fields.String(
        required=required, allow_none=not required,
        validate=validate.OneOf(list(table), error=f"「{label}」不在代码表中: {{input}}"),
        metadata=_meta(label, choices=dict(table)))


def credit(label: str, *, required: bool = True) -> fields.String:
    """A unified social credit code (统一社会信用代码) with its check digit verified."""

    def check(value: str) -> None:
        reason = credit_code.problem(value)
        if reason:
            raise ValidationError(f"「{label}」{reason}")

    return fields.String(required=required, allow_none=not required, validate=check,
                         metadata=_meta(label, pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$"))


def items(label: str, schema: type[Schema], *, min_items: int = 0,
          required: bool = True) -> fields.List:
    """A list of nested rows (staff, inspectors, consortium members)."""
    return fields.List(
        fields.Nested(schema), required=required,
        validate=validate.Length(min=min_items, error=f"「{label}」至少需要 {{min}} 项"),
        metadata=_meta(label, min_items=min_items or None))


def unless(field: fields.Field, flag: str, when: str, rule: str | None = None) -> fields.Field:
    """``field`` (optional to marshmallow) made required while the boolean ``flag`` is not
    set; ``when`` says when in words (非市管项目), for the message and the page's mark."""
    field.metadata = {**field.metadata, "required_unless": flag, "required_when": when,
                      **({"rule": rule} if rule else {})}
    return field


PROJECT_NUMBER = r"^\d{16}$"
"""A national project number: 16 digits."""


def ordered(*pairs: tuple[str, str]) -> Any:
    """A schema check that dates come in order: ``ordered(("signed_on", "start_on"), ...)``."""

    @validates_schema
    def check(self: FormSchema, data: dict[str, Any], **_kwargs: Any) -> None:
        for earlier, later in pairs:
            if data.get(earlier) and data.get(later) and data[earlier] > data[later]:
                first = label_of(self.fields[earlier], earlier)
                second = label_of(self.fields[later], later)
                raise fail(later, second, f"不能早于「{first}」")

    return check

