"""A form-js document read into the input fields it defines, with the problems found.

form-js (bpmn.io; Camunda Modeler's form editor) writes a form as JSON: ``{"type":
"default", "id": ..., "components": [...]}``. Only what the server can check and what is
safe to show is accepted; the rest is refused with a reason, in Chinese, naming the
component (see :mod:`forms.formjs` for the list and the reasons).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import formjs_limits as limits
from . import regex_guard

INPUTS = frozenset({"textfield", "textarea", "number", "checkbox", "checklist", "radio",
                    "select", "taglist", "datetime"})
"""Components that carry a value under their ``key``."""

DISPLAY = frozenset({"text", "spacer", "separator", "image", "button", "group"})
"""Components accepted that carry no value (a group only nests others)."""

REFUSED = {
    "html": "HTML 内容可执行脚本、伪造页面，不予接受；请用“文本”（text）组件",
    "iframe": "内嵌外部网页会把用户信息带给第三方，不予接受",
    "expression": "计算字段依赖 FEEL 表达式，服务端暂不支持",
    "filepicker": "文件上传暂不支持，请在流程的附件功能中上传",
    "dynamiclist": "动态列表暂不支持",
    "table": "表格暂不支持",
    "documentPreview": "文档预览暂不支持",
}
"""form-js component types refused, with the reason people read."""

OPTION_INPUTS = frozenset({"checklist", "radio", "select", "taglist"})
TEXT_INPUTS = frozenset({"textfield", "textarea"})
RULES = {
    "textfield": {"required", "minLength", "maxLength", "pattern", "patternErrorMessage",
                  "validationType"},
    "textarea": {"required", "minLength", "maxLength", "pattern", "patternErrorMessage"},
    "number": {"required", "min", "max"},
}
"""The ``validate`` rules each input type honours; the others only ``required``."""

TYPE_NAMES = {"textfield": "文本框", "textarea": "多行文本", "number": "数字",
              "checkbox": "勾选框", "checklist": "多选框组", "radio": "单选", "select": "下拉选择",
              "taglist": "标签多选", "datetime": "日期时间"}

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_SEGMENT = re.compile(r"\w+\Z", re.ASCII)
_PROHIBITED = frozenset({"__proto__", "prototype", "constructor"})


@dataclass(frozen=True)
class Field:
    """One input of a form, as the server checks it."""

    path: tuple[str, ...]
    type: str
    label: str
    required: bool = False
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    validation_type: str | None = None
    options: tuple[tuple[Any, str], ...] = ()
    subtype: str = "date"
    decimal_digits: int | None = None
    increment: Decimal | None = None
    as_string: bool = False
    no_past_dates: bool = False

    @property
    def key(self) -> str:
        return ".".join(self.path)


def path_problem(path: Any) -> str | None:
    """Why ``path`` is not a data path like form-js's (``a.b_c``), or None."""
    if not isinstance(path, str) or not path:
        return "应为非空字符串"
    if len(path) > limits.MAX_KEY:
        return f"过长（不能超过 {limits.MAX_KEY} 个字符）"
    parts = path.split(".")
    if not all(_SEGMENT.match(p) for p in parts):
        return "只能由字母、数字、下划线组成，以点分隔"
    if any(p.isdigit() for p in parts):
        return "各段不能是纯数字"
    if any(p in _PROHIBITED for p in parts):
        return "不能使用 __proto__、prototype、constructor"
    return None


def id_problem(value: Any) -> str | None:
    """Why ``value`` is not a safe form or component id, or None."""
    if not isinstance(value, str) or not _ID.match(value) or len(value) > limits.MAX_ID:
        return (f"应以字母或下划线开头，只含字母、数字、下划线、点和连字符，"
                f"不超过 {limits.MAX_ID} 个字符")
    return None


def name_of(component: dict[str, Any]) -> str:
    """How a problem names a component: its key, else its id, else its label."""
    for prop in ("key", "id", "label"):
        value = component.get(prop)
        if isinstance(value, str) and value and len(value) <= limits.MAX_LABEL:
            return f"“{value}”"
    return f"（{component.get('type', '?')}）"[:60]


def label_of(component: dict[str, Any], key: str) -> str:
    label = component.get("label")
    return label if isinstance(label, str) and label and not label.startswith("=") else key


def read_input(component: dict[str, Any], prefix: tuple[str, ...],
               problems: list[str]) -> Field | None:
    """The field of one input component, or None with its problems added."""
    where = f"组件 {name_of(component)}"
    start = len(problems)
    key = component.get("key")
    if (why := path_problem(key)) is not None:
        problems.append(f"{where}的 key {why}")
        return None
    assert isinstance(key, str)
    kind = component["type"]
    label = component.get("label")
    if isinstance(label, str) and label.startswith("="):
        problems.append(f"{where}的标签不能是表达式")
    rules = _rules(component, kind, where, problems)
    extra = _type_properties(component, kind, where, problems)
    if len(problems) > start:
        return None
    return Field(path=prefix + tuple(key.split(".")), type=kind,
                 label=label_of(component, key), **rules, **extra)


def _rules(component: dict[str, Any], kind: str, where: str,
           problems: list[str]) -> dict[str, Any]:
    validate = component.get("validate", {})
    if validate is None:
        return {}
    if not isinstance(validate, dict):
        problems.append(f"{where}的 validate 应为对象")
        return {}
    allowed = RULES.get(kind, {"required"})
    out: dict[str, Any] = {}
    for name, value in validate.items():
        if (value is None or value is False or value == "") and name != "required":
            continue
        if name not in allowed:
            problems.append(f"{where}（{TYPE_NAMES[kind]}）不支持校验规则 {str(name)[:40]}")
            continue
        reader = _RULE_READERS[name]
        try:
            out.update(reader(value))
        except ValueError as exc:
            problems.append(f"{where}的校验规则 {name} {exc}")
    return out


def _required(value: Any) -> dict[str, Any]:
    if not isinstance(value, bool):
        raise ValueError("应为 true 或 false")
    return {"required": value}


def _length(name: str) -> Any:
    def read(value: Any) -> dict[str, Any]:
        if isinstance(value, bool) or not isinstance(value, int) or not \
                0 <= value <= limits.MAX_TEXTAREA:
            raise ValueError(f"应为 0 到 {limits.MAX_TEXTAREA} 之间的整数（不支持表达式）")
        return {name: value}
    return read


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")


def as_decimal(value: Any) -> Decimal | str:
    """A finite number below 10**MAX_MAGNITUDE from JSON (a number or a numeric string), or
    why not (in Chinese, without the label)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str) or (
            isinstance(value, str) and (len(value) > 40 or not _NUMBER.match(value))):
        return "应为数字"
    if isinstance(value, int) and abs(value) >= 10 ** limits.MAX_MAGNITUDE:
        return "数值过大"
    out = Decimal(value if isinstance(value, str) else str(value))
    if not out.is_finite():
        return "应为数字"
    if out.adjusted() >= limits.MAX_MAGNITUDE:
        return "数值过大"
    return out


def number(value: Any) -> Decimal:
    """A bounded finite number from a document, or ValueError."""
    out = as_decimal(value)
    if isinstance(out, str):
        raise ValueError(f"{out}（不支持表达式）")
    return out


def _bound(name: str) -> Any:
    return lambda value: {name: number(value)}


def _pattern(value: Any) -> dict[str, Any]:
    if (why := regex_guard.problem(value)) is not None:
        raise ValueError(why)
    return {"pattern": value}


def _message(value: Any) -> dict[str, Any]:
    if not isinstance(value, str) or len(value) > limits.MAX_LABEL:
        raise ValueError(f"应为不超过 {limits.MAX_LABEL} 个字符的文字")
    return {"pattern_message": value}


def _validation_type(value: Any) -> dict[str, Any]:
    if value == "custom":
        return {}
    if value not in ("email", "phone"):
        raise ValueError("只能是 email 或 phone")
    return {"validation_type": value}


_RULE_READERS = {
    "required": _required, "minLength": _length("min_length"),
    "maxLength": _length("max_length"), "min": _bound("minimum"), "max": _bound("maximum"),
    "pattern": _pattern, "patternErrorMessage": _message, "validationType": _validation_type,
}


def _type_properties(component: dict[str, Any], kind: str, where: str,
                     problems: list[str]) -> dict[str, Any]:
    try:
        if kind in OPTION_INPUTS:
            return {"options": _options(component)}
        if kind == "number":
            return _number_properties(component)
        if kind == "datetime":
            return _datetime_properties(component)
    except ValueError as exc:
        problems.append(f"{where}{exc}")
    return {}


def _options(component: dict[str, Any]) -> tuple[tuple[Any, str], ...]:
    if "valuesKey" in component or "valuesExpression" in component:
        raise ValueError("的选项来自流程数据或表达式（valuesKey / valuesExpression），"
                         "服务端无法核对提交的值；请在表单中直接列出选项（静态选项）")
    values = component.get("values")
    if not isinstance(values, list) or not values:
        raise ValueError("没有选项：请在 values 中列出选项")
    if len(values) > limits.MAX_OPTIONS:
        raise ValueError(f"的选项过多（不能超过 {limits.MAX_OPTIONS} 个）")
    out: list[tuple[Any, str]] = []
    for option in values:
        value = option.get("value") if isinstance(option, dict) else None
        if not _is_option_value(value):
            raise ValueError("的选项值应为字符串、数字或布尔值")
        label = option.get("label", str(value))
        if not isinstance(label, str) or len(label) > limits.MAX_LABEL:
            raise ValueError(f"的选项名称应为不超过 {limits.MAX_LABEL} 个字符的文字")
        if any(_same(value, seen) for seen, _ in out):
            raise ValueError(f"的选项值 {str(value)[:40]} 重复")
        out.append((value, label))
    return tuple(out)


def _is_option_value(value: Any) -> bool:
    if isinstance(value, str):
        return 0 < len(value) <= limits.MAX_LABEL
    return isinstance(value, bool | int) or (
        isinstance(value, float) and math.isfinite(value))


def _same(a: Any, b: Any) -> bool:
    """Equality of option values as JSON sees them: ``True`` is not ``1``."""
    return type(a) is type(b) and a == b


def same_value(a: Any, b: Any) -> bool:
    """Whether submitted value ``a`` is the option value ``b`` (1 and 1.0 are one number)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return _same(a, b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return _same(a, b)


def _number_properties(component: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    digits = component.get("decimalDigits")
    if digits is not None:
        if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 10:
            raise ValueError("的小数位数（decimalDigits）应为 0 到 10 之间的整数")
        out["decimal_digits"] = digits
    increment = component.get("increment")
    if increment not in (None, ""):
        step = number(increment)
        if step <= 0:
            raise ValueError("的步长（increment）应为正数")
        out["increment"] = step
    out["as_string"] = component.get("serializeToString") is True
    return out


def _datetime_properties(component: dict[str, Any]) -> dict[str, Any]:
    subtype = component.get("subtype", "date")
    if subtype not in ("date", "time", "datetime"):
        raise ValueError("的 subtype 只能是 date、time 或 datetime")
    return {"subtype": subtype, "no_past_dates": component.get("disallowPassedDates") is True}
