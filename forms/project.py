"""The header of a project entered with its first application (intake or backfill)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate, validates_schema

from registry import jurisdictions

from . import codes
from .base import PROJECT_NUMBER, FormSchema, code, fail, flag, text, unless
from .stages import BasicInfo, Permit

CATEGORIES = {"HM": "房屋建筑和市政工程总承包", "OI": "其他行业工程总承包",
              "SUB": "专业承包（分包）"}
PARTY_ROLES = {"建设单位": "建设单位", "勘察": "勘察单位", "设计": "设计单位", "施工": "施工单位",
               "监理": "监理单位", "专业承包/分包": "专业承包/分包单位"}


def jurisdiction(label: str, *, required: bool = True, checked: bool = True) -> fields.String:
    """A Chongqing jurisdiction's code, chosen on the page from the table grouped by kind
    (区, 县, 功能区). ``checked``: the form refuses a code not in the table (else a rule does,
    as R-SCOPE-1 for the project's location)."""
    names = {c: name for c, (name, _kind) in jurisdictions.table().items()}
    field = text(label, required=required, max_len=12)
    if checked:
        field.validators.append(validate.OneOf(list(names),
                                               error=f"「{label}」不在区划代码表中: {{input}}"))
    field.metadata = {**field.metadata, "choices": names,
                      "choice_groups": jurisdictions.grouped()}
    return field


class ProjectHeader(FormSchema):
    project_number = text("项目编号", required=False, pattern=PROJECT_NUMBER,
                          pattern_hint="应为 16 位数字")
    name = text("项目名称")
    category = code("项目类别", CATEGORIES)
    sector = code("项目分类", codes.PROJECT_CATEGORIES)
    location_code = jurisdiction("项目所在地", checked=False)  # R-SCOPE-1 checks it
    city_managed = flag("是否市管项目")
    managing_code = unless(jurisdiction("管理区县", required=False), "city_managed",
                           "非市管项目", "A-7")
    general_project_id = fields.Integer(required=False, allow_none=True, strict=False,
                                        validate=validate.Range(min=1, max=2**31 - 1,
                                                                error="「总承包项目」不存在"),
                                        metadata={"label": "总承包项目"})
    role = code("本单位在项目中的角色", PARTY_ROLES)

    @validates_schema
    def consistent(self, data: dict[str, Any], **_kwargs: Any) -> None:
        hm = data.get("sector") in codes.HM_CATEGORIES
        if data.get("category") == "HM" and not hm:
            raise fail("sector", "项目分类",
                       "房屋建筑和市政工程的项目分类应为房屋建筑工程或市政工程")
        if data.get("category") == "OI" and hm:
            raise fail("sector", "项目分类", "其他行业工程不能选房屋建筑工程或市政工程（R-CAT-2）")
        if data.get("category") == "SUB" and not data.get("general_project_id"):
            raise fail("general_project_id", "总承包项目", "专业承包（分包）项目须指明总承包项目")
        if data.get("city_managed") and data.get("managing_code"):
            raise fail("managing_code", "管理区县", "市管项目不属于区县管理（A-7）")


class PermitFeed(FormSchema):
    """What the permit-issuing system (施工许可核发系统) pushes of an HM project (R-HM-2)."""

    project_number = text("项目编号", pattern=PROJECT_NUMBER, pattern_hint="应为 16 位数字")
    name = text("项目名称")
    sector = code("项目分类", {k: codes.PROJECT_CATEGORIES[k] for k in codes.HM_CATEGORIES})
    location_code = text("项目所在地（区划代码）", max_len=12)
    city_managed = flag("是否市管项目")
    managing_code = text("管理区县（区划代码）", required=False, max_len=12)
    basic = fields.Nested(BasicInfo, required=True, metadata={"label": "基本信息"})
    permit = fields.Nested(Permit, required=True, metadata={"label": "施工许可"})
