"""The forms of user tasks: what reviewers, inspectors and the public fill in."""

from __future__ import annotations

from typing import Any

from marshmallow import post_load, validates_schema

from registry.jurisdictions import table as jurisdictions

from . import codes
from .base import FormSchema, code, day, fail, flag, items, text

DECISIONS = {"pass": "通过", "problem": "有问题"}


class ReviewItem(FormSchema):
    item = code("核实事项", codes.REVIEW_ITEMS)
    result = code("核实结果", DECISIONS)
    reason = text("问题说明", required=False, max_len=1000, multiline=True)

    @validates_schema
    def reason_for_problem(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("result") == "problem" and not (data.get("reason") or "").strip():
            raise fail("reason", "问题说明", "核实结果为“有问题”时必须说明原因")


class Review(FormSchema):
    """Item-by-item review (逐一核实, R-IB-2, A-4): any problem returns the application."""

    items = items("逐项核实", ReviewItem, min_items=1)
    comment = text("审核意见", required=False, max_len=2000, multiline=True)

    @post_load
    def decide(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        problems = [i for i in data["items"] if i["result"] == "problem"]
        return {**data, "decision": "return" if problems else "approve"}


class Amendment(FormSchema):
    """The unit's answer to a return: amend and resubmit, or withdraw (A-4)."""

    action = code("处理方式", {"resubmit": "修改后重新提交", "withdraw": "撤回申请"})
    note = text("说明", required=False, max_len=2000, multiline=True)


class Objection(FormSchema):
    """An objection raised on the public board during publicity (A-3)."""

    name = text("异议人姓名或单位", max_len=100)
    contact = text("联系电话", max_len=30, pattern=r"^[0-9+\-() ]{5,30}$",
                   pattern_hint="应为电话号码")
    content = text("异议内容", max_len=5000, multiline=True)


class ObjectionRuling(FormSchema):
    """The authority's ruling on an objection (A-3)."""

    decision = code("处理结果", {"uphold": "异议成立，退回申请单位",
                                 "dismiss": "异议不成立，继续推送"})
    reason = text("处理理由（异议人凭查询码可见）", max_len=2000, multiline=True)


class FormalDocument(FormSchema):
    """A district's formal document (正式公文) reporting to the city, with its commitment."""

    document_number = text("公文文号", max_len=100)
    issued_on = day("发文日期")
    commitment = flag("承诺对申报材料的真实性、准确性负责")
    attachment_id = text("公文附件", max_len=64)

    @validates_schema
    def must_commit(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("commitment") is not True:
            raise fail("commitment", "承诺", "上报市住房城乡建委须作出承诺（R-SUP-5）")


class MinistryRequest(FormSchema):
    """The city's written correction request to the Ministry (R-COR-5)."""

    document_number = text("申请文号", max_len=100)
    issued_on = day("发文日期")
    attachment_id = text("申请文件附件", max_len=64)


class MinistryReply(FormSchema):
    """The Ministry's reply to a correction request (R-COR-5)."""

    agreed = flag("住房城乡建设部是否同意勘误")
    reply_number = text("复函文号", max_len=100)
    replied_on = day("复函日期")
    attachment_id = text("复函附件", max_len=64)
    note = text("备注", required=False, max_len=2000, multiline=True)


class SamplingResult(FormSchema):
    """The city's check of a sampled item (R-SUP-2, R-SUP-6)."""

    passed = flag("抽查是否合格")
    findings = text("抽查发现", required=False, max_len=5000, multiline=True)

    @validates_schema
    def findings_if_failed(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("passed") is False and not (data.get("findings") or "").strip():
            raise fail("findings", "抽查发现", "抽查不合格时必须写明问题")


class Inspector(FormSchema):
    name = text("姓名", max_len=50)
    staff_number = text("工作证号", max_len=50)


class Inspection(FormSchema):
    """A key inspection (重点检查, R-SUP-7): on site, at least two inspectors."""

    inspectors = items("检查人员", Inspector, min_items=2)
    inspected_on = day("检查日期")
    on_site = flag("是否实地核查")
    result = code("检查结论", {"genuine": "信息属实", "false": "确认造假（虚假项目）"})
    findings = text("检查情况", max_len=5000, multiline=True)

    @validates_schema
    def distinct_inspectors(self, data: dict[str, Any], **_kwargs: Any) -> None:
        numbers = [i["staff_number"] for i in data.get("inspectors", [])]
        if len(set(numbers)) < len(numbers):
            raise fail("inspectors", "检查人员", "同一人员不能重复填写")


class Complaint(FormSchema):
    """A complaint or report of fraud (投诉举报) from the public board."""

    project_number = text("项目编号", required=False, max_len=32)
    project_name = text("项目名称", max_len=200)
    location_code = code("所在区县", {c: title for c, (title, _kind) in jurisdictions().items()},
                         required=False)
    content = text("投诉举报内容", max_len=5000, multiline=True)
    name = text("投诉人姓名", required=False, max_len=50)
    contact = text("联系电话", required=False, max_len=30, pattern=r"^[0-9+\-() ]{5,30}$",
                   pattern_hint="应为电话号码")

    @post_load
    def normalise_number(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        """A number as people write it (spaces, lower case) is stored as the platform's."""
        number = "".join((data.get("project_number") or "").split()).upper()
        if len(number) > 16:
            raise fail("project_number", "项目编号", "去掉空格后不能超过 16 个字符")
        return {**data, "project_number": number or None}


class GradeDecision(FormSchema):
    """The authority's verification of a grade adjustment (R-GA-3..5)."""

    approved = flag("核实是否通过")
    reason = text("核实意见", max_len=2000, multiline=True)


TASK_FORMS: dict[str, type[FormSchema]] = {
    "review": Review, "amendment": Amendment, "objection": Objection,
    "objection_ruling": ObjectionRuling, "formal_document": FormalDocument,
    "ministry_request": MinistryRequest, "ministry_reply": MinistryReply,
    "sampling_result": SamplingResult,
    "inspection": Inspection, "complaint": Complaint, "grade_decision": GradeDecision,
}
"""Form keys that diagrams may name on user tasks."""
