"""Forms written as JSON Schema (spiff-arena's convention): checked, never fetching anything."""

from __future__ import annotations

from typing import Any

import pytest

from forms import json_schema_form as form

SELF_CHECK: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "项目数据年度自查", "type": "object",
    "required": ["project_number", "data_accurate", "checked_on"],
    "properties": {
        "project_number": {"type": "string", "title": "项目编号", "pattern": "^[0-9]{16}$"},
        "data_accurate": {"title": "登记数据是否准确", "enum": ["yes", "no"]},
        "percent": {"type": "integer", "title": "完成比例", "minimum": 0, "maximum": 100},
        "checked_on": {"type": "string", "title": "自查日期", "format": "date"},
        "explanation": {"type": "string", "title": "情况说明", "maxLength": 5},
        "issues": {"type": "array", "title": "发现的问题", "uniqueItems": True,
                   "items": {"enum": ["area", "investment"]}},
        "owner": {"$ref": "#/$defs/owner"},
    },
    "$defs": {"owner": {"type": "object", "title": "建设单位", "required": ["name"],
                        "properties": {"name": {"type": "string", "title": "单位名称"}}}},
}

GOOD = {"project_number": "5001032024010001", "data_accurate": "yes", "percent": 80,
        "checked_on": "2024-05-01", "issues": ["area"], "owner": {"name": "重庆某置业"}}


def test_the_self_check_schema_is_accepted_and_good_data_passes() -> None:
    assert form.check(SELF_CHECK) == []
    assert form.validate(SELF_CHECK, GOOD) == (GOOD, {})


@pytest.mark.parametrize(("change", "key", "message"), [
    ({"project_number": None}, "project_number", "「项目编号」应为文字"),
    ({"project_number": "12"}, "project_number", "「项目编号」格式不正确"),
    ({"data_accurate": "maybe"}, "data_accurate", "「登记数据是否准确」应为以下之一：yes、no"),
    ({"percent": 101}, "percent", "「完成比例」应不大于 100"),
    ({"percent": -1}, "percent", "「完成比例」应不小于 0"),
    ({"percent": 1.5}, "percent", "「完成比例」应为整数"),
    ({"checked_on": "2024-02-30"}, "checked_on", "「自查日期」应为日期，格式 YYYY-MM-DD"),
    ({"explanation": "六个字的说明"}, "explanation", "「情况说明」长度应不超过 5 个字符"),
    ({"issues": ["area", "area"]}, "issues", "「发现的问题」不能有重复的项"),
    ({"owner": {}}, "owner.name", "「单位名称」必填"),
    ({"owner": {"name": "x", "phone": "1"}}, "owner.phone", "表单中没有“owner.phone”这一项"),
    ({"extra": 1}, "extra", "表单中没有“extra”这一项"),
])
def test_each_rule_names_the_field(change: dict[str, Any], key: str, message: str) -> None:
    cleaned, errors = form.validate(SELF_CHECK, {**GOOD, **change})
    assert message in errors[key], errors
    assert key.split(".", maxsplit=1)[0] not in cleaned


def test_a_missing_required_field() -> None:
    data = {k: v for k, v in GOOD.items() if k != "checked_on"}
    assert form.validate(SELF_CHECK, data)[1] == {"checked_on": ["「自查日期」必填"]}


def test_draft_07_schemas_also_refuse_unknown_keys() -> None:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
              "properties": {"a": {"type": "string", "title": "甲"}}}
    assert form.validate(schema, {"a": "x", "b": 1})[1] == {"b": ["表单中没有“b”这一项"]}


@pytest.mark.parametrize(("document", "problem"), [
    ([], "表单应为 JSON Schema 对象"),
    ({"type": "string"}, "表单应为 JSON Schema 对象"),
    ({"type": "object", "properties": {"a": {"$ref": "https://evil.example/s.json"}}},
     "$ref 只能引用本文件内的定义（以 # 开头）：https://evil.example/s.json"),
    ({"type": "object", "properties": {"a": {"$ref": "other.json#/x"}}}, "$ref 只能引用本文件"),
    ({"type": "object", "properties": {"a": {"$dynamicRef": "#x"}}}, "不支持 $dynamicRef"),
    ({"type": "object", "properties": {"a": {"type": "string", "pattern": "^(a+)+$"}}},
     "pattern ^(a+)+$：正则表达式含有嵌套的重复"),
    ({"type": "object", "properties": {}, "patternProperties": {"(a|aa)*": {}}},
     "正则表达式含有嵌套的重复"),
    ({"type": "object", "properties": {"a": {"type": "strin"}}}, "JSON Schema 不合法"),
    ({"$schema": "https://example.com/mine", "type": "object", "properties": {}},
     "$schema 只能是 JSON Schema 2020-12 或 draft-07"),
    ({"type": "object", "properties": {"a": {"title": "字" * 20_001}}}, "表单中的文字过长"),
])
def test_hostile_schemas_are_refused(document: Any, problem: str) -> None:
    problems = form.check(document)
    assert any(problem in p for p in problems), problems


def test_a_refused_schema_is_never_used_even_unchecked() -> None:
    remote = {"type": "object", "properties": {"a": {"$ref": "https://evil.example/s"}}}
    with pytest.raises(form.FormError):
        form.validate(remote, {"a": 1})


def test_the_registry_refuses_any_address() -> None:
    with pytest.raises(Exception, match="evil"):
        form._refuse("https://evil.example/s")


def test_hostile_data_never_raises() -> None:
    deep: Any = {}
    for _ in range(100_000):
        deep = {"owner": deep}
    for data in (deep, {"owner": deep}, {f"k{i}": i for i in range(100_000)},
                 {"project_number": "9" * 1_000_000}, {"percent": 10 ** 5000}, None, [1], "x"):
        cleaned, errors = form.validate(SELF_CHECK, data)
        assert errors
        assert len(errors) <= form.MAX_ERRORS + 1
