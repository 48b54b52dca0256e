"""The data of each stage (环节) of a project, after the national project data standard."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from . import codes
from .base import (
    PROJECT_NUMBER,
    FormSchema,
    code,
    count,
    credit,
    day,
    fail,
    flag,
    items,
    label_of,
    number,
    ordered,
    text,
)

STAGE_NAMES = {
    "basic": "基本信息", "bidding": "招投标", "contract": "合同登记",
    "drawing_review": "施工图审查", "permit": "施工许可", "completion": "竣工验收",
    "performance": "业绩指标",
}
"""The stages in the order of a project's life."""


class BasicInfo(FormSchema):
    project_number = text("项目编号", required=False, pattern=PROJECT_NUMBER,
                          pattern_hint="应为 16 位数字")
    name = text("项目名称", max_len=200)
    category = code("项目分类", codes.PROJECT_CATEGORIES)
    nature = code("建设性质", codes.CONSTRUCTION_NATURES)
    owner_name = text("建设单位名称")
    owner_credit_code = credit("建设单位统一社会信用代码")
    location_code = text("项目所在地（区划代码）", max_len=12)
    address = text("建设地址", max_len=300)
    approval_number = text("立项文号", required=False, max_len=100)
    total_investment = number("总投资", unit="万元")
    total_area = number("总面积", unit="平方米", required=False)
    planned_start = day("计划开工日期")
    planned_completion = day("计划竣工日期")

    check_dates = ordered(("planned_start", "planned_completion"))


class Bidding(FormSchema):
    notice_number = text("中标通知书编号", max_len=100)
    tender_class = code("招标类型", codes.TENDER_CLASSES)
    tender_method = code("招标方式", codes.TENDER_METHODS)
    result_date = day("中标日期")
    amount = number("中标金额", unit="万元")
    winner_name = text("中标单位名称")
    winner_credit_code = credit("中标单位统一社会信用代码")
    project_manager = text("项目负责人", max_len=50)


class Party(FormSchema):
    name = text("单位名称")
    credit_code = credit("统一社会信用代码")


class Contract(FormSchema):
    record_number = text("合同备案编号", max_len=100)
    contract_number = text("合同编号", max_len=100)
    contract_type = code("合同类别", codes.CONTRACT_TYPES)
    amount = number("合同金额", unit="万元")
    signed_on = day("合同签订日期")
    employer_name = text("发包单位名称")
    employer_credit_code = credit("发包单位统一社会信用代码")
    contractor_name = text("承包单位名称")
    contractor_credit_code = credit("承包单位统一社会信用代码")
    consortium = flag("是否联合体")
    consortium_members = items("联合体成员", Party, required=False)

    @validates_schema
    def members_if_consortium(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("consortium") and len(data.get("consortium_members") or []) < 1:
            raise fail("consortium_members", "联合体成员", "联合体应至少填写 1 个成员单位")


class DrawingReview(FormSchema):
    certificate_number = text("施工图审查合格书编号", max_len=100)
    review_body_name = text("审查机构名称")
    review_body_credit_code = credit("审查机构统一社会信用代码")
    reviewed_on = day("审查完成日期")
    first_pass = flag("是否一次审查通过")
    mandatory_violations = count("违反强制性条文条数")


class Permit(FormSchema):
    """Read-only for units: the permit-issuing system pushes it (R-HM-2)."""

    licence_number = text("施工许可证编号", max_len=100)
    issued_on = day("发证日期")


class Completion(FormSchema):
    record_number = text("竣工验收备案编号", max_len=100)
    actual_start = day("实际开工日期")
    actual_completion = day("实际竣工验收日期")
    actual_cost = number("实际造价", unit="万元")
    actual_area = number("实际面积", unit="平方米", required=False)

    check_dates = ordered(("actual_start", "actual_completion"))


class Indicator(FormSchema):
    name = text("指标名称", max_len=100)
    value = text("指标值", max_len=100)
    unit = text("单位", required=False, max_len=20)


class Staff(FormSchema):
    name = text("姓名", max_len=50)
    duty = code("岗位", codes.STAFF_DUTIES)


class Performance(FormSchema):
    scale_indicators = items("规模指标", Indicator, min_items=1)
    technical_indicators = items("技术指标", Indicator, required=False)
    qualification = text("支撑的资质类别", required=False, max_len=100)
    staff = items("项目人员", Staff, min_items=1)


STAGES: dict[str, type[FormSchema]] = {
    "basic": BasicInfo, "bidding": Bidding, "contract": Contract,
    "drawing_review": DrawingReview, "permit": Permit, "completion": Completion,
    "performance": Performance,
}


def load_stages(stages: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Validate each stage's data with its schema, then the rules across stages.

    Raises ValidationError with errors keyed ``{stage: {field: [message]}}``.
    """
    unknown = [name for name in stages if name not in STAGES]
    if unknown:
        raise ValidationError({name: ["未知的环节"] for name in unknown})
    errors: dict[str, Any] = {}
    loaded: dict[str, dict[str, Any]] = {}
    for name, data in stages.items():
        try:
            loaded[name] = STAGES[name]().load(data)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    _check_across(loaded)
    return loaded


def _check_across(stages: dict[str, dict[str, Any]]) -> None:
    """Contract signed <= actual start <= completion, across the contract and completion stages."""
    signed = stages.get("contract", {}).get("signed_on")
    start = stages.get("completion", {}).get("actual_start")
    if signed and start and signed > start:
        field = Completion().fields["actual_start"]
        raise ValidationError({"completion": {"actual_start": [
            f"「{label_of(field, 'actual_start')}」不能早于合同签订日期 {signed.isoformat()}"]}})
