"""User-task forms, their HTML and their JSON Schema, from one definition."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import ValidationError

import forms
from forms.html import parse, render
from forms.jsonschema import json_schema
from forms.tasks import Inspection, Review

INSPECTION = {
    "inspectors": [{"name": "张三", "staff_number": "CQ001"},
                   {"name": "李四", "staff_number": "CQ002"}],
    "inspected_on": "2026-11-20", "on_site": True, "result": "genuine", "findings": "与申报一致",
}


def messages(schema: Any, data: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as exc:
        schema().load(data)
    return exc.value.messages  # type: ignore[return-value]


def test_r_ib_2_review_item_by_item_returns_on_any_problem() -> None:
    """R-IB-2 / A-4: every item is checked; a problem needs a reason and returns the application."""
    ok = Review().load({"items": [{"item": "basic", "result": "pass"},
                                  {"item": "contract", "result": "pass"}]})
    assert ok["decision"] == "approve"
    back = Review().load({"items": [{"item": "basic", "result": "pass"},
                                    {"item": "contract", "result": "problem",
                                     "reason": "合同金额与中标金额不一致"}]})
    assert back["decision"] == "return"
    errors = messages(Review, {"items": [{"item": "contract", "result": "problem"}]})
    assert errors["items"][0]["reason"] == ["「问题说明」核实结果为“有问题”时必须说明原因"]
    assert messages(Review, {"items": []})["items"] == ["「逐项核实」至少需要 1 项"]


def test_r_sup_7_inspection_needs_at_least_two_distinct_inspectors() -> None:
    """R-SUP-7: on-site inspection by at least two staff."""
    assert forms.TASK_FORMS["inspection"]().load(INSPECTION)["result"] == "genuine"
    one = dict(INSPECTION, inspectors=INSPECTION["inspectors"][:1])
    assert messages(Inspection, one)["inspectors"] == ["「检查人员」至少需要 2 项"]
    same = dict(INSPECTION, inspectors=[INSPECTION["inspectors"][0]] * 2)
    assert messages(Inspection, same)["inspectors"] == ["「检查人员」同一人员不能重复填写"]


def test_r_sup_5_formal_document_carries_the_commitment() -> None:
    """R-SUP-5: the district's formal document commits to the truth of the materials."""
    doc = {"document_number": "渝中建文〔2026〕12号", "issued_on": "2026-11-01",
           "commitment": False, "attachment_id": "abc"}
    errors = messages(forms.TASK_FORMS["formal_document"], doc)
    assert "R-SUP-5" in errors["commitment"][0]


@pytest.mark.parametrize(("key", "data", "field", "message"), [
    ("sampling_result", {"passed": False}, "findings", "「抽查发现」抽查不合格时必须写明问题"),
    ("objection", {"name": "王五", "contact": "abc", "content": "x"}, "contact",
     "「联系电话」应为电话号码"),
    ("objection_ruling", {"decision": "maybe", "reason": "x"}, "decision",
     "「处理结果」不在代码表中: maybe"),
    ("ministry_reply", {"agreed": True}, "reply_number", "「复函文号」必填"),
    ("complaint", {"content": "造假"}, "project_name", "「项目名称」必填"),
    ("amendment", {"action": "ignore"}, "action", "「处理方式」不在代码表中: ignore"),
    ("grade_decision", {"approved": "x", "reason": "y"}, "approved",
     "「核实是否通过」应为“是”或“否”"),
])
def test_task_form_rules(key: str, data: dict[str, Any], field: str, message: str) -> None:
    assert message in messages(forms.TASK_FORMS[key], data)[field]


def test_every_form_key_is_registered_with_the_engine_catalog() -> None:
    from engine import Catalog
    catalog = Catalog()
    forms.register(catalog)
    assert catalog.form_keys == set(forms.TASK_FORMS)


@pytest.mark.parametrize("schema", [*forms.STAGES.values(), *forms.TASK_FORMS.values()])
def test_every_schema_renders_html_and_json_schema(schema: Any) -> None:
    html = render(schema())
    doc = json_schema(schema)
    for name, field in schema().fields.items():
        assert doc["properties"][name]["title"] == field.metadata["label"]
        assert f'name="{name}' in html or f'id="{name}"' in html


def test_html_shows_values_and_errors_escaped() -> None:
    html = render(Review(), {"comment": "<script>x</script>"},
                  {"comment": ["「审核意见」太长"]})
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'class="field has-error"' in html and "「审核意见」太长" in html


def test_posted_form_parses_back_into_what_the_schema_loads() -> None:
    posted = {"inspectors-0-name": "张三", "inspectors-0-staff_number": "CQ001",
              "inspectors-1-name": "李四", "inspectors-1-staff_number": "CQ002",
              "inspectors-2-name": "", "inspectors-2-staff_number": "",
              "inspected_on": "2026-11-20", "on_site": "true", "result": "genuine",
              "findings": " 与申报一致 "}
    assert Inspection().load(parse(Inspection(), posted)) == Inspection().load(INSPECTION)


def test_blank_required_fields_read_required_not_too_short() -> None:
    data = parse(Inspection(), {"inspected_on": "", "findings": "  "})
    errors = messages(Inspection, data)
    assert errors["findings"] == ["「检查情况」必填"]
