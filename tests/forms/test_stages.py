"""Stage forms: every field rule, in Chinese, naming the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from forms import STAGES, load_stages
from forms.credit_code import ALPHABET, check_char, problem


def valid_code(body: str = "91500000MA5U7G3L1") -> str:
    return body + check_char(body)


VALID: dict[str, dict[str, Any]] = {
    "basic": {
        "project_number": "5001032024010001", "name": "渝中区某住宅项目", "category": "01",
        "nature": "001", "owner_name": "重庆某置业有限公司", "owner_credit_code": valid_code(),
        "location_code": "500103", "address": "重庆市渝中区解放碑某路 1 号",
        "total_investment": "12000.50", "total_area": "35000", "planned_start": "2024-02-01",
        "planned_completion": "2025-12-31",
    },
    "bidding": {
        "notice_number": "ZB-2024-001", "tender_class": "003", "tender_method": "001",
        "result_date": "2024-01-20", "amount": "9800", "winner_name": "重庆某建工集团",
        "winner_credit_code": valid_code("91500000202801234"), "project_manager": "李四",
    },
    "contract": {
        "record_number": "HT-2024-001", "contract_number": "C-001", "contract_type": "100",
        "amount": "9800", "signed_on": "2024-01-25", "employer_name": "重庆某置业有限公司",
        "employer_credit_code": valid_code(), "contractor_name": "重庆某建工集团",
        "contractor_credit_code": valid_code("91500000202801234"), "consortium": False,
    },
    "drawing_review": {
        "certificate_number": "SC-2024-9", "review_body_name": "重庆某审图中心",
        "review_body_credit_code": valid_code("12500000450400001"), "reviewed_on": "2024-01-10",
        "first_pass": True, "mandatory_violations": 0,
    },
    "permit": {"licence_number": "500103202401100101", "issued_on": "2024-02-01"},
    "completion": {
        "record_number": "JG-2025-7", "actual_start": "2024-02-05",
        "actual_completion": "2025-11-30", "actual_cost": "10100", "actual_area": "35100",
    },
    "performance": {
        "scale_indicators": [{"name": "建筑面积", "value": "35100", "unit": "平方米"}],
        "qualification": "建筑工程施工总承包", "staff": [{"name": "李四", "duty": "01"}],
    },
}


def errors_of(stage: str, changes: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(VALID[stage])
    for key, value in changes.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    with pytest.raises(ValidationError) as exc:
        STAGES[stage]().load(data)
    return exc.value.messages  # type: ignore[return-value]


@pytest.mark.parametrize("stage", list(VALID))
def test_valid_stage_data_loads(stage: str) -> None:
    STAGES[stage]().load(VALID[stage])


CASES = [
    ("basic", {"name": ...}, "name", "「项目名称」必填"),
    ("basic", {"project_number": "12345"}, "project_number", "「项目编号」应为 16 位数字"),
    ("basic", {"category": "77"}, "category", "「项目分类」不在代码表中: 77"),
    ("basic", {"nature": "新建"}, "nature", "「建设性质」不在代码表中: 新建"),
    ("basic", {"owner_credit_code": "91500000MA5U7G3L1A"}, "owner_credit_code",
     "「建设单位统一社会信用代码」校验位不正确"),
    ("basic", {"owner_credit_code": "123"}, "owner_credit_code",
     "「建设单位统一社会信用代码」应为 18 位"),
    ("basic", {"total_investment": "-1"}, "total_investment", "「总投资」不能小于 0"),
    ("basic", {"total_investment": "很多"}, "total_investment", "「总投资」应为数字"),
    ("basic", {"planned_start": "2024-02-30"}, "planned_start",
     "「计划开工日期」应为日期，格式 YYYY-MM-DD"),
    ("basic", {"planned_completion": "2023-01-01"}, "planned_completion",
     "「计划竣工日期」不能早于「计划开工日期」"),
    ("basic", {"surprise": 1}, "surprise", "未知字段"),
    ("bidding", {"tender_method": "009"}, "tender_method", "「招标方式」不在代码表中: 009"),
    ("bidding", {"amount": "-0.01"}, "amount", "「中标金额」不能小于 0"),
    ("contract", {"consortium": True}, "consortium_members",
     "「联合体成员」联合体应至少填写 1 个成员单位"),
    ("contract", {"contract_type": "1"}, "contract_type", "「合同类别」不在代码表中: 1"),
    ("contract", {"signed_on": None}, "signed_on", "「合同签订日期」不能为空"),
    ("drawing_review", {"mandatory_violations": -2}, "mandatory_violations",
     "「违反强制性条文条数」应在 0 到 10亿 之间"),
    ("drawing_review", {"first_pass": "也许"}, "first_pass", "「是否一次审查通过」应为“是”或“否”"),
    ("completion", {"actual_completion": "2024-01-01"}, "actual_completion",
     "「实际竣工验收日期」不能早于「实际开工日期」"),
    ("completion", {"actual_cost": "-5"}, "actual_cost", "「实际造价」不能小于 0"),
    ("performance", {"staff": []}, "staff", "「项目人员」至少需要 1 项"),
    ("performance", {"scale_indicators": ...}, "scale_indicators", "「规模指标」必填"),
]


@pytest.mark.parametrize(("stage", "changes", "field", "message"), CASES)
def test_field_rules_name_the_field_in_chinese(stage: str, changes: dict[str, Any], field: str,
                                                message: str) -> None:
    assert message in errors_of(stage, changes)[field]


def test_nested_rows_report_their_index() -> None:
    errors = errors_of("performance", {"staff": [{"name": "王五", "duty": "99"},
                                                 {"name": "", "duty": "x"}]})
    assert errors["staff"][1]["duty"] == ["「岗位」不在代码表中: x"]
    assert 0 not in errors["staff"]


def test_contract_signed_before_actual_start_across_stages() -> None:
    stages = {"contract": dict(VALID["contract"], signed_on="2024-03-01"),
              "completion": VALID["completion"]}
    with pytest.raises(ValidationError) as exc:
        load_stages(stages)
    assert exc.value.messages == {"completion": {"actual_start": [
        "「实际开工日期」不能早于合同签订日期 2024-03-01"]}}
    assert load_stages({"contract": VALID["contract"], "completion": VALID["completion"]})


def test_unknown_stage_and_errors_of_several_stages_together() -> None:
    with pytest.raises(ValidationError) as exc:
        load_stages({"weather": {}})
    assert exc.value.messages == {"weather": ["未知的环节"]}
    with pytest.raises(ValidationError) as exc:
        load_stages({"basic": {}, "bidding": {}})
    assert set(exc.value.messages) == {"basic", "bidding"}  # type: ignore[arg-type]


@given(st.text(alphabet=ALPHABET[:10], min_size=6, max_size=6),
       st.text(alphabet=ALPHABET, min_size=11, max_size=11), st.sampled_from("159Y"))
def test_any_code_with_its_check_char_is_valid(region: str, rest: str, first: str) -> None:
    body = first + rest[0] + region + rest[1:10]
    assert problem(body + check_char(body)) is None


@given(st.text(alphabet=ALPHABET[:10], min_size=6, max_size=6),
       st.text(alphabet=ALPHABET, min_size=10, max_size=10), st.integers(0, 16),
       st.integers(1, 30))
def test_changing_one_character_breaks_the_check(region: str, rest: str, position: int,
                                                 shift: int) -> None:
    body = "9" + rest[0] + region + rest[1:10]
    code = body + check_char(body)
    changed = ALPHABET[(ALPHABET.index(code[position]) + shift) % 31]
    broken = code[:position] + changed + code[position + 1:]
    assert problem(broken) is not None


def test_known_published_codes() -> None:
    assert problem("91350100M000100Y43") is None
    assert problem("91110000802100433B") is None
    assert problem("91350100M000100Y44") == "校验位不正确"
    assert problem("9135010OM000100Y43") is not None  # letter O is not in the alphabet
