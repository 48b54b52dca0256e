"""Code tables of the stage forms (labels after the national project data standard).

Each table maps a code to its Chinese label; forms store the code and show the label.
"""

from __future__ import annotations

PROJECT_CATEGORIES = {
    "01": "房屋建筑工程", "02": "市政工程", "03": "公路工程", "04": "水运工程",
    "05": "水利工程", "06": "通信工程", "07": "铁路工程", "08": "矿山工程",
    "09": "电力工程", "10": "冶金工程", "11": "石油化工工程", "12": "机电工程",
    "99": "其他",
}
"""项目分类: 01-02 are housing & municipal (HM); 03-12 the other industries (OI, R-CAT-2)."""

CONSTRUCTION_NATURES = {
    "001": "新建", "002": "改建", "003": "扩建", "004": "迁建", "005": "恢复",
    "006": "装饰装修", "099": "其他",
}
"""建设性质."""

TENDER_CLASSES = {
    "001": "勘察", "002": "设计", "003": "施工", "004": "监理", "005": "工程总承包",
    "006": "专业承包", "007": "货物", "099": "其他",
}
"""招标类型."""

TENDER_METHODS = {"001": "公开招标", "002": "邀请招标", "003": "直接发包", "099": "其他"}
"""招标方式."""

CONTRACT_TYPES = {
    "100": "施工总承包", "200": "专业承包（分包）", "300": "勘察", "400": "设计",
    "500": "监理", "600": "工程总承包", "700": "劳务分包", "999": "其他",
}
"""合同类别."""

STAFF_DUTIES = {
    "01": "项目负责人", "02": "技术负责人", "03": "勘察负责人", "04": "设计负责人",
    "05": "总监理工程师", "06": "施工员", "07": "质量员", "08": "安全员", "99": "其他",
}
"""项目人员岗位."""

REVIEW_ITEMS = {
    "basic": "基本信息", "bidding": "招投标", "contract": "合同登记",
    "drawing_review": "施工图审查", "permit": "施工许可", "completion": "竣工验收",
    "performance": "业绩指标", "attachments": "申报材料",
}
"""What a reviewer checks item by item: the stages and the uploaded materials."""

HM_CATEGORIES = frozenset({"01", "02"})
"""Project categories of housing & municipal general contracting (R-CAT-1)."""
