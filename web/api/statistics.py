"""``GET /api/v1/statistics``: the tables of the statistics dashboard (issue 19) as JSON, in
the reader's scope, from ``registry.statistics`` like the page and its Excel exports."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from registry import statistics as st

from .auth import signed_in_user
from .auth_roles import roles

blp = Blueprint("statistics", __name__, url_prefix="/api/v1/statistics",
                description="统计：申请、待办、办理时长、月度抽查覆盖率（issue 19）")


class ColumnOut(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True, metadata={"description": "列名（中文）"})


class TableOut(Schema):
    title = fields.String(required=True)
    note = fields.String(required=True, metadata={"description": "统计口径：所计为何"})
    columns = fields.List(fields.Nested(ColumnOut), required=True)
    rows = fields.List(fields.Dict(), required=True,
                       metadata={"description": "每行：编码（district, kind, status…）及其中文名"
                                                "（*_name, *_label）与数字"})


class StatisticsOut(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    district = fields.String(allow_none=True, required=True,
                             metadata={"description": "区县编码，city 为市管；null 为全部"})
    tables = fields.Dict(keys=fields.String(), values=fields.Nested(TableOut), required=True,
                         metadata={"description": "applications, applications_by_status, "
                                                  "tasks, durations, sampling"})


PARAMETERS = [
    {"in": "query", "name": "from", "schema": {"type": "string", "format": "date"},
     "description": "起始日期（北京时间，含），默认今年 1 月 1 日"},
    {"in": "query", "name": "to", "schema": {"type": "string", "format": "date"},
     "description": "截止日期（含），默认今天"},
    {"in": "query", "name": "district", "schema": {"type": "string"},
     "description": "区县编码或 city（仅市级；区县审核人员只能看本区县，指定其他区县为 403）"},
]


@blp.get("")
@roles(*st.READERS)
@blp.doc(parameters=PARAMETERS)
@blp.response(200, StatisticsOut)
def statistics() -> Any:
    """The dashboard's tables for the period and district asked (422 with a Chinese message
    for a malformed date or district)."""
    try:
        q, problems = st.parse(request.args, signed_in_user())
    except st.Forbidden as exc:
        abort(403, message=str(exc))
    if problems:
        abort(422, message="；".join(problems))
    tables = st.compute(q)
    return {"from_": q.start, "to": q.end, "district": q.district,
            "tables": {key: table.as_json() for key, table in tables.items()}}
