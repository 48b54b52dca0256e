"""form-js forms designed by analysts: the document checked, its schema, submissions cleaned."""

from __future__ import annotations

import copy
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from forms import formjs, regex_guard

HERE = Path(__file__).parent
TODAY = date(2024, 6, 1)


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((HERE / name).read_text(encoding="utf-8"))
    return document


@pytest.fixture
def form() -> dict[str, Any]:
    return load("self_check.form")


GOOD = {
    "project_number": "5001032024010001", "data_accurate": "no",
    "progress": {"percent": "80", "checked_on": "2024-05-01"},
    "issues": ["area", "investment", "area"], "explanation": "面积按竣工测绘更正",
}


def submit(document: dict[str, Any], data: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    return formjs.validate(document, data, today=TODAY)


def test_the_self_check_form_is_accepted(form: dict[str, Any]) -> None:
    assert formjs.check(form) == []
    assert [f.key for f in formjs.fields(form)] == [
        "project_number", "data_accurate", "progress.percent", "progress.checked_on",
        "issues", "explanation"]


def test_a_form_as_camunda_modeler_exports_it_is_accepted() -> None:
    document = load("modeler_export.form")
    assert formjs.check(document) == []
    keys = [f.key for f in formjs.fields(document)]
    assert "reference" not in keys, "a disabled field is display-only"
    assert keys[:4] == ["site.name", "site.workers", "site.contact.email",
                        "site.contact.phone"]


def test_the_json_schema_describes_the_data(form: dict[str, Any]) -> None:
    schema = formjs.json_schema(form)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["project_number", "data_accurate", "progress"]
    props = schema["properties"]
    assert props["project_number"] == {"title": "项目编号", "type": "string",
                                       "maxLength": 1000, "minLength": 1,
                                       "pattern": "^[0-9]{16}$"}
    assert props["data_accurate"]["oneOf"] == [{"const": "yes", "title": "是"},
                                               {"const": "no", "title": "否"}]
    progress = props["progress"]
    assert progress["required"] == ["percent", "checked_on"]
    assert progress["properties"]["percent"] == {"title": "完成比例（%）", "type": "integer",
                                                 "minimum": 0, "maximum": 100}
    assert progress["properties"]["checked_on"]["format"] == "date"
    assert props["issues"]["type"] == "array"
    assert props["explanation"]["maxLength"] == 500


def test_the_json_schema_accepts_what_validate_accepts(form: dict[str, Any]) -> None:
    validator = Draft202012Validator(formjs.json_schema(form))
    cleaned = submit(form, GOOD)[0]
    assert list(validator.iter_errors(cleaned)) == []
    assert list(validator.iter_errors({**cleaned, "explanation": ""})) == []
    assert list(validator.iter_errors({**cleaned, "extra": 1}))


def test_modeler_export_schema_is_valid() -> None:
    schema = formjs.json_schema(load("modeler_export.form"))
    Draft202012Validator.check_schema(schema)
    site = schema["properties"]["site"]
    assert site["properties"]["contact"]["properties"]["email"]["anyOf"][1] == {
        "format": "email"}
    assert schema["properties"]["safe"] == {"title": "安全措施到位", "type": "boolean",
                                            "const": True}


def test_good_data_is_cleaned(form: dict[str, Any]) -> None:
    cleaned, errors = submit(form, GOOD)
    assert errors == {}
    assert cleaned == {
        "project_number": "5001032024010001", "data_accurate": "no",
        "progress": {"percent": 80, "checked_on": "2024-05-01"},
        "issues": ["area", "investment"], "explanation": "面积按竣工测绘更正",
    }


def test_optional_fields_left_empty_get_form_js_empty_values(form: dict[str, Any]) -> None:
    data = {k: v for k, v in GOOD.items() if k not in ("issues", "explanation")}
    cleaned, errors = submit(form, {**data, "explanation": ""})
    assert errors == {}
    assert cleaned["issues"] == [] and cleaned["explanation"] == ""


@pytest.mark.parametrize(("change", "key", "message"), [
    ({"project_number": ""}, "project_number", "「项目编号」必填"),
    ({"project_number": None}, "project_number", "「项目编号」必填"),
    ({"project_number": "12345"}, "project_number", "项目编号应为 16 位数字"),
    ({"project_number": 5001032024010001}, "project_number", "「项目编号」应为文字"),
    ({"data_accurate": "maybe"}, "data_accurate", "「登记数据是否准确」应为以下之一：是、否"),
    ({"data_accurate": ""}, "data_accurate", "「登记数据是否准确」必填"),
    ({"progress": {"percent": 101, "checked_on": "2024-05-01"}}, "progress.percent",
     "「完成比例（%）」应不大于 100"),
    ({"progress": {"percent": -1, "checked_on": "2024-05-01"}}, "progress.percent",
     "「完成比例（%）」应不小于 0"),
    ({"progress": {"percent": 50.5, "checked_on": "2024-05-01"}}, "progress.percent",
     "「完成比例（%）」应为整数"),
    ({"progress": {"percent": "八十", "checked_on": "2024-05-01"}}, "progress.percent",
     "「完成比例（%）」应为数字"),
    ({"progress": {"percent": True, "checked_on": "2024-05-01"}}, "progress.percent",
     "「完成比例（%）」应为数字"),
    ({"progress": {"percent": "1e300", "checked_on": "2024-05-01"}}, "progress.percent",
     "「完成比例（%）」数值过大"),
    ({"progress": {"percent": 80}}, "progress.checked_on", "「自查日期」必填"),
    ({"progress": {"percent": 80, "checked_on": "2024-02-30"}}, "progress.checked_on",
     "「自查日期」应为日期，格式 YYYY-MM-DD"),
    ({"progress": {"percent": 80, "checked_on": "2024-05-01T10:00"}}, "progress.checked_on",
     "「自查日期」应为日期，格式 YYYY-MM-DD"),
    ({"issues": ["area", "roof"]}, "issues",
     "「发现的问题」含有不可选的值；应为以下之一：投资额有误、面积有误、参建单位有误"),
    ({"issues": "area"}, "issues", "「发现的问题」应为列表"),
    ({"explanation": "说" * 501}, "explanation", "「情况说明」长度应不超过 500 个字符"),
    ({"explanation": "\ud800"}, "explanation",
     "「情况说明」含有无效字符（无法保存的 Unicode 代理字符）"),
    ({"extra": "1"}, "extra", "表单中没有“extra”这一项"),
    ({"progress": {"percent": 80, "checked_on": "2024-05-01", "x": 1}}, "progress.x",
     "表单中没有“progress.x”这一项"),
    ({"progress": "80"}, "progress", "“progress”应为对象"),
])
def test_each_rule_names_the_field(form: dict[str, Any], change: dict[str, Any], key: str,
                                   message: str) -> None:
    cleaned, errors = submit(form, {**GOOD, **change})
    assert message in errors[key], errors
    assert key not in cleaned


def test_data_that_is_not_an_object(form: dict[str, Any]) -> None:
    assert submit(form, ["a"]) == ({}, {"_schema": ["提交的数据应为 JSON 对象"]})


def with_field(component: dict[str, Any]) -> dict[str, Any]:
    return {"type": "default", "id": "f", "components": [
        {"type": component.get("type", "textfield"), "key": "x", "label": "字段", **component}]}


@pytest.mark.parametrize(("component", "value", "message"), [
    ({"validate": {"minLength": 3}}, "ab", "「字段」长度应不少于 3 个字符"),
    ({"validate": {"pattern": "^A"}}, "B", "「字段」格式不正确"),
    ({"validate": {"pattern": "^A"}}, "A" * 1001, "「字段」长度应不超过 1000 个字符"),
    ({"type": "textarea", "validate": {"pattern": "^A"}}, "A" * 1001,
     "「字段」过长（超过 1000 个字符），无法按格式校验"),
    ({"validate": {"validationType": "email"}}, "a@b", "「字段」应为有效的电子邮箱地址"),
    ({"validate": {"validationType": "phone"}}, "12345",
     "「字段」应为有效的电话号码（手机、区号-座机号，或 +86 开头的国际格式）"),
    ({"type": "number", "decimalDigits": 2}, 1.234, "「字段」最多保留 2 位小数"),
    ({"type": "number", "increment": 5}, 7, "「字段」应为 5 的整数倍"),
    ({"type": "checkbox", "validate": {"required": True}}, False, "「字段」必须勾选"),
    ({"type": "checkbox"}, "true", "「字段」应为“是”或“否”"),
    ({"type": "taglist", "values": [{"label": "甲", "value": "a"}],
      "validate": {"required": True}}, [], "「字段」至少选择一项"),
    ({"type": "datetime", "subtype": "time"}, "25:00", "「字段」应为时间，格式 HH:MM"),
    ({"type": "datetime", "subtype": "datetime"}, "2024-06-01",
     "「字段」应为日期时间，格式 YYYY-MM-DDTHH:MM"),
    ({"type": "datetime", "disallowPassedDates": True}, "2024-05-31", "「字段」不能早于今天"),
])
def test_rules_of_other_inputs(component: dict[str, Any], value: Any, message: str) -> None:
    document = with_field(component)
    assert formjs.check(document) == []
    assert submit(document, {"x": value})[1] == {"x": [message]}


@pytest.mark.parametrize(("component", "value", "cleaned"), [
    ({"type": "number", "decimalDigits": 2}, "12.50", 12.5),
    ({"type": "number"}, 3, 3),
    ({"type": "number", "serializeToString": True}, 3.25, "3.25"),
    ({"validate": {"validationType": "phone"}}, "13800138000", "13800138000"),
    ({"validate": {"validationType": "phone"}}, "023-63891234", "023-63891234"),
    ({}, "第一行\n第二行", "第一行 第二行"),
    ({"type": "radio", "values": [{"label": "一", "value": 1}]}, 1.0, 1),
    ({"type": "datetime", "subtype": "datetime"}, "2024-06-01T09:30+08:00",
     "2024-06-01T09:30+08:00"),
    ({"type": "datetime", "subtype": "time"}, "09:30Z", "09:30Z"),
    ({"type": "checkbox"}, None, False),
])
def test_values_are_cleaned_like_form_js(component: dict[str, Any], value: Any,
                                         cleaned: Any) -> None:
    out, errors = submit(with_field(component), {"x": value})
    assert errors == {}
    assert out["x"] == cleaned and type(out["x"]) is type(cleaned)


def test_the_disabled_field_may_not_be_submitted() -> None:
    _, errors = submit(load("modeler_export.form"), {"reference": "X", "safe": True})
    assert errors["reference"] == ["表单中没有“reference”这一项"]


def component(**props: Any) -> dict[str, Any]:
    return {"type": "default", "id": "f", "components": [props]}


@pytest.mark.parametrize(("document", "problem"), [
    ([], "表单应为 JSON 对象"),
    ({"type": "default", "id": "f"}, "表单的 components 应为数组"),
    ({"type": "form", "id": "f", "components": []}, "表单的 type 应为 \"default\"（form-js 表单）"),
    ({"type": "default", "id": "1 bad", "components": []}, "表单的 id 应以字母或下划线开头"),
    (component(type="html", id="Html_1", content="<script>"),
     "组件 “Html_1”的类型 html 不予接受：HTML 内容可执行脚本"),
    (component(type="iframe", id="Frame_1", url="https://x"), "组件 “Frame_1”的类型 iframe"),
    (component(type="select", key="kind", values=[], valuesKey="kinds"),
     "组件 “kind”的选项来自流程数据或表达式（valuesKey / valuesExpression）"),
    (component(type="select", key="kind", valuesExpression="=kinds"), "请在表单中直接列出选项"),
    (component(type="select", key="kind"), "组件 “kind”没有选项"),
    (component(type="textfield", key="a", conditional={"hide": "=b"}),
     "组件 “a”设有显示条件（conditional），服务端暂不支持"),
    (component(type="textfield", key="a", validate={"pattern": "^(a+)+$"}),
     "组件 “a”的校验规则 pattern 正则表达式含有嵌套的重复"),
    (component(type="textfield", key="a", validate={"pattern": "("}),
     "组件 “a”的校验规则 pattern 正则表达式无法解析"),
    (component(type="textfield", key="a", validate={"min": 1}),
     "组件 “a”（文本框）不支持校验规则 min"),
    (component(type="number", key="a", validate={"max": "=limit"}),
     "组件 “a”的校验规则 max 应为数字（不支持表达式）"),
    (component(type="textfield", key="a-b"), "组件 “a-b”的 key 只能由字母、数字、下划线组成"),
    (component(type="textfield", key="a.__proto__"), "不能使用 __proto__"),
    (component(type="textfield", key="a.0"), "各段不能是纯数字"),
    (component(type="textfield", label="无键"), "组件 “无键”的 key 应为非空字符串"),
    (component(type="textfield", key="a", label="=名称"), "组件 “a”的标签不能是表达式"),
    (component(type="textfield", key="a", disabled="=x"), "组件 “a”的 disabled 应为 true 或 false"),
    (component(type="button", id="B", action="open"), "按钮动作只能是 submit 或 reset"),
    (component(type="image", id="I", source="https://tracker.example/p.gif"), "图片来源只能是"),
    (component(type="filepicker", key="f"), "文件上传暂不支持"),
    (component(type="marquee", id="M"), "组件 “M”的类型 marquee 不受支持"),
    ({"type": "default", "id": "f", "components": [
        {"type": "textfield", "key": "a"}, {"type": "number", "key": "a"}]}, "key “a” 重复"),
    ({"type": "default", "id": "f", "components": [
        {"type": "textfield", "key": "a"},
        {"type": "group", "path": "a", "components": [{"type": "number", "key": "b"}]}]},
     "key “a” 与 “a.b” 冲突"),
    ({"type": "default", "id": "f", "components": ["textfield"]}, "第 1 个组件应为带 type 的对象"),
])
def test_hostile_or_unsupported_documents_are_refused(document: Any, problem: str) -> None:
    problems = formjs.check(document)
    assert any(problem in p for p in problems), problems


def test_ten_thousand_components_are_refused() -> None:
    document = {"type": "default", "id": "f", "components": [
        {"type": "textfield", "key": f"k{i}"} for i in range(10_000)]}
    assert formjs.check(document) == ["表单过大（JSON 值不能超过 20000 个）"]
    document["components"] = document["components"][:501]
    assert formjs.check(document) == ["组件过多（不能超过 500 个）"]


def test_deep_nesting_is_refused() -> None:
    group: dict[str, Any] = {"type": "textfield", "key": "leaf"}
    for i in range(12):
        group = {"type": "group", "id": f"G{i}", "components": [group]}
    assert any("嵌套过深（分组不能超过 10 层）" in p
               for p in formjs.check({"type": "default", "id": "f", "components": [group]}))
    junk: Any = []
    for _ in range(100_000):
        junk = [junk]
    assert formjs.check({"type": "default", "id": "f", "components": [], "x": junk}) == [
        "表单嵌套过深（不能超过 40 层）"]


def test_a_huge_string_is_refused() -> None:
    document = component(type="text", text="字" * 20_001)
    assert formjs.check(document) == ["表单中的文字过长（单个字符串不能超过 20000 个字符）"]


def test_a_refused_document_cannot_be_used(form: dict[str, Any]) -> None:
    broken = copy.deepcopy(form)
    broken["components"].append({"type": "html", "id": "H"})
    with pytest.raises(formjs.FormError) as caught:
        formjs.validate(broken, GOOD)
    assert caught.value.problems == formjs.check(broken)


def test_hostile_data_never_raises(form: dict[str, Any]) -> None:
    deep: Any = {}
    for _ in range(100_000):
        deep = {"progress": deep}
    many = {f"k{i}": i for i in range(100_000)}
    for data in (deep, many, {"progress": deep}, {"project_number": "9" * 10_000_000},
                 {"progress": {"percent": 10 ** 5000}}, {"issues": ["area"] * 100_000},
                 {"issues": [[[]]]}, {"data_accurate": {"x": 1}}, None, "x", 1.5):
        cleaned, errors = submit(form, data)
        assert errors
    unknown = [k for k in submit(form, many)[1] if k.startswith("k")]
    assert len(unknown) == 50


def test_patterns_run_only_on_bounded_values() -> None:
    document = with_field({"type": "textarea", "validate": {"pattern": "^(a|b)*c$"}})
    assert formjs.check(document) == []
    started = time.monotonic()
    submit(document, {"x": "ab" * 10_000})
    assert time.monotonic() - started < 1
    assert regex_guard.search("^(a|b)*c$", "a" * 1001) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)


@settings(max_examples=100, deadline=None)
@given(data=st.dictionaries(
    st.sampled_from(["project_number", "data_accurate", "progress", "issues", "explanation",
                     "other"]), json_values))
def test_any_json_is_answered_with_errors_or_clean_data(data: dict[str, Any]) -> None:
    cleaned, errors = submit(load("self_check.form"), data)
    assert isinstance(cleaned, dict) and isinstance(errors, dict)
    assert all(isinstance(m, str) for ms in errors.values() for m in ms)


@settings(max_examples=100, deadline=None)
@given(document=json_values)
def test_any_json_document_is_answered_with_problems(document: Any) -> None:
    assert isinstance(formjs.check(document), list)
