"""The guide's rules as functions: each refuses with the rule id and a Chinese reason.

They read what they need from their arguments and never write; callers run them before
writing anything, so a refusal leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from forms.stages import STAGE_NAMES

from .models import Category, Kind, Project, StageRecord

INTAKE_FROM = date(2024, 1, 1)
"""R-SCOPE-1: intake covers projects undertaken from this day."""

BACKFILL_COMPLETED_BY = date(2023, 12, 31)
"""R-BF-1: backfill covers projects whose completion acceptance is on or before this day."""

UNIT_STAGES = {
    (Category.HM, Kind.INTAKE): {"bidding", "contract", "drawing_review", "completion",
                                 "performance"},
    (Category.HM, Kind.BACKFILL): {"basic", "bidding", "contract", "drawing_review",
                                   "completion", "performance"},
    (Category.OI, Kind.INTAKE): {"basic", "bidding", "contract", "drawing_review", "completion",
                                 "performance"},
    (Category.OI, Kind.BACKFILL): {"basic", "bidding", "contract", "drawing_review",
                                   "completion", "performance"},
    (Category.SUB, Kind.INTAKE): {"contract", "completion", "performance"},
    (Category.SUB, Kind.BACKFILL): {"contract", "completion", "performance"},
}
"""Which stages units enter, by category and kind (R-HM-1..3, R-OI-1, R-SUB-1)."""

GENERAL_STAGES = ("basic", "bidding", "contract", "completion")
"""R-SUB-2: what must exist for the general contract before a sub-contractor enters its own."""

NEXT_GRADE = {"D": "B", "B": "A"}
"""R-GA-2: grades rise one step at a time."""

REQUIRED_ATTACHMENTS = {
    Kind.INTAKE: ("report", "commitment", "application_form", "evidence"),
    Kind.BACKFILL: ("report", "commitment", "application_form", "evidence"),
    Kind.CORRECTION: ("report", "commitment", "application_form", "evidence"),
    Kind.GRADE_ADJUST: ("report", "commitment", "application_form", "evidence"),
}
"""R-IB-1, R-COR-3, R-GA-3/5: the uploads each kind needs before it can be submitted."""


class RuleViolation(Exception):
    """A refusal by one of the guide's rules."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        self.reason = message
        super().__init__(f"{message}（{rule}）")


def _why_not_entered(category: str, kind: str, stage: str) -> tuple[str, str]:
    if category == Category.HM and stage in ("basic", "permit") and kind == Kind.INTAKE:
        return "R-HM-2", ("房屋建筑和市政工程的基本信息、施工许可信息由施工许可核发系统"
                          "自动推送，企业无需录入")
    if category == Category.HM and stage == "permit":
        return "R-HM-3", "房屋建筑和市政工程的施工许可环节信息由施工许可核发系统推送，企业不能补录"
    if category == Category.OI:
        return "R-OI-1", ("其他行业工程由参建单位录入基本信息、招投标、合同登记、施工图审查、"
                          "竣工验收、业绩指标")
    return "R-SUB-1", "专业承包（分包）单位只录入合同登记、竣工验收、业绩指标环节"


def check_unit_stages(category: str, kind: str, stages: Iterable[str]) -> None:
    """R-HM-1..3, R-OI-1, R-SUB-1: a unit enters only its category's stages."""
    allowed = UNIT_STAGES[(Category(category), Kind(kind))]
    for stage in stages:
        if stage not in allowed:
            rule, why = _why_not_entered(category, kind, stage)
            raise RuleViolation(rule, f"不能录入“{stage}”环节: {why}")


def check_not_locked(records: Iterable[StageRecord]) -> None:
    """R-HM-2: stage records pushed by the permit-issuing system are not entered by units."""
    for record in records:
        if record.from_permit_system:
            raise RuleViolation("R-HM-2", f"“{record.stage}”环节信息来自施工许可核发系统，"
                                          "不能由企业修改")


def check_scope(location_code: str, jurisdictions: Collection[str], kind: str,
                stages: dict[str, dict[str, Any]]) -> None:
    """R-SCOPE-1: the project lies in Chongqing; intake is for projects of 2024 on."""
    if location_code not in jurisdictions:
        raise RuleViolation("R-SCOPE-1", f"项目所在地“{location_code}”不是重庆市的区县或功能区")
    completed = stages.get("completion", {}).get("actual_completion")
    if kind == Kind.INTAKE and completed and completed < INTAKE_FROM:
        raise RuleViolation("R-SCOPE-1", "入库适用于 2024年1月1日 起承建的项目；"
                            "2023年12月31日前已竣工验收的项目请申请补录")


def check_backfill(project: Project | None, stages: dict[str, dict[str, Any]], today: date,
                   deadline: date) -> None:
    """R-BF-2 (the deadline, from configuration) and R-BF-1 (completed by 2023, not in yet)."""
    if today > deadline:
        raise RuleViolation("R-BF-2", f"补录已于 {deadline.isoformat()} 截止")
    completed = stages.get("completion", {}).get("actual_completion")
    if completed is None:
        raise RuleViolation("R-BF-1", "补录须填写竣工验收环节（实际竣工验收日期）")
    if completed > BACKFILL_COMPLETED_BY:
        raise RuleViolation("R-BF-1", "补录仅适用于 2023年12月31日前已竣工验收的项目")
    if project is not None and project.on_national_platform:
        raise RuleViolation("R-BF-1", "该项目已入库，不能补录")


def check_general_contract(general: Project, general_stages: Collection[str]) -> None:
    """R-SUB-2: without the general contract on the national platform, its basic, bidding,
    contract and completion stages must be entered before the sub-contractor's own."""
    if general.on_national_platform:
        return
    missing = [s for s in GENERAL_STAGES if s not in general_stages]
    if missing:
        raise RuleViolation("R-SUB-2", "全国平台无总承包项目信息，须先由参建单位录入总承包的"
                            f"{'、'.join(missing)}环节信息")


def check_correctable(records: Iterable[StageRecord]) -> None:
    """R-COR-1 (only data on the national platform) and R-COR-2 (not data used for a
    qualification application)."""
    for record in records:
        if record.grade is None:
            raise RuleViolation("R-COR-1", f"“{record.stage}”环节尚未进入全国平台，无需勘误")
        if record.used_for_qualification:
            raise RuleViolation("R-COR-2", f"“{record.stage}”环节信息已用于资质申报，不能勘误")


def check_grade_step(project: Project, record: StageRecord, target: str) -> None:
    """R-GA-1 (per stage, on the national platform) and R-GA-2 (one step at a time; the
    direct D→A only for city-managed projects)."""
    if record.grade is None:
        raise RuleViolation("R-GA-1", f"“{record.stage}”环节尚未进入全国平台，不能调整等级")
    if NEXT_GRADE.get(record.grade) == target:
        return
    if record.grade == "D" and target == "A" and project.city_managed:
        return
    if record.grade == "D" and target == "A":
        raise RuleViolation("R-GA-2", "区县管项目须逐级提升: 先由 D 级调整为 B 级")
    raise RuleViolation("R-GA-2", f"不能由 {record.grade} 级调整为 {target} 级")


def check_attachments(kind: str, category: str, present: Collection[str]) -> None:
    """R-IB-1 / R-COR-3 / R-GA-3: the required uploads; R-OI-2: OI needs the authenticity
    letter."""
    labels = {"report": "报告", "commitment": "企业承诺书", "application_form": "企业申请表",
              "evidence": "佐证材料"}
    missing = [labels[k] for k in REQUIRED_ATTACHMENTS[Kind(kind)] if k not in present]
    if missing:
        rule = {"correction": "R-COR-3", "grade_adjust": "R-GA-3"}.get(kind, "R-IB-1")
        raise RuleViolation(rule, f"缺少申报材料: {'、'.join(missing)}")
    if category == Category.OI and kind in (Kind.INTAKE, Kind.BACKFILL) \
            and "authenticity_letter" not in present:
        raise RuleViolation("R-OI-2", "其他行业工程须上传项目信息真实性确认函")


def check_stage_data(kind: str, category: str, data: dict[str, Any]) -> None:
    """R-IB-1 / R-COR-3: an application carries the data it is about: at least one stage,
    none of them blank (a grade adjustment names its stage and carries no data)."""
    if kind == Kind.GRADE_ADJUST:
        return
    filled = {stage for stage, payload in (data or {}).items()
              if any(v not in (None, "", [], {}) for v in (payload or {}).values())}
    rule = "R-COR-3" if kind == Kind.CORRECTION else "R-IB-1"
    if not filled:
        allowed = UNIT_STAGES.get((Category(category), Kind(kind)), set(STAGE_NAMES))
        names = "、".join(STAGE_NAMES[s] for s in STAGE_NAMES if s in allowed)
        raise RuleViolation(rule, f"申报信息为空：请至少填写一个环节（可填：{names}）")
    blank = [STAGE_NAMES.get(s, s) for s in data if s not in filled]
    if blank:
        raise RuleViolation(rule, f"环节信息为空：{'、'.join(blank)}，请填写或删去")


def check_review_items(stages: Collection[str], items: Iterable[str]) -> None:
    """R-IB-2: a review verifies every item of the application: each of its stages and its
    materials, each once, and nothing that is not in it."""
    wanted = [*sorted(stages), "attachments"]
    given = list(items)
    names = {**STAGE_NAMES, "attachments": "申报材料"}
    missing = [names.get(i, i) for i in wanted if i not in given]
    extra = sorted({names.get(i, i) for i in given if i not in wanted})
    twice = sorted({names.get(i, i) for i in given if given.count(i) > 1})
    if missing:
        raise RuleViolation("R-IB-2", f"逐项核实须覆盖申请的每一项，缺少：{'、'.join(missing)}")
    if extra:
        raise RuleViolation("R-IB-2", f"核实事项不属于本申请：{'、'.join(extra)}")
    if twice:
        raise RuleViolation("R-IB-2", f"核实事项重复：{'、'.join(twice)}")


def check_party(organisation_id: int, parties: Collection[int]) -> None:
    """An enterprise acts only for projects it takes part in (R-ROLE-1)."""
    if organisation_id not in parties:
        raise RuleViolation("R-ROLE-1", "贵单位不是该项目的参建单位，不能为其申报")
