"""Schemas of the monthly sampling's API (R-SUP-2): the month to start, and the draw as it
stands (the OpenAPI document shows them; the start's form on the pages loads the same one)."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates

from engine.clock import now
from registry.calendar import BEIJING

from .base import FormSchema

PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
EARLIEST = "2000-01"


def last_month() -> str:
    """The newest month that has ended (Beijing time): the latest one that may be sampled."""
    first = now().replace(tzinfo=UTC).astimezone(BEIJING).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def period_problem(period: str) -> str | None:
    """Why ``period`` cannot be sampled, in words for people; None if it can."""
    if not PERIOD.fullmatch(period):
        return "「抽查月份」格式应为 YYYY-MM，例如 2026-10"
    if period < EARLIEST:
        return f"「抽查月份」不能早于 {EARLIEST}"
    latest = last_month()
    if period > latest:
        return f"「抽查月份」应为已结束的月份，最晚为 {latest}（{period} 尚未结束）"
    return None


class MonthlySamplingIn(FormSchema):
    """Start the monthly sampling of a month that has ended."""

    period = fields.String(required=True, metadata={
        "label": "抽查月份", "description": "已结束的月份，格式 YYYY-MM（北京时间）",
        "example": "2026-10", "pattern": PERIOD.pattern})

    @validates("period")
    def check_period(self, value: str, **_kwargs: Any) -> None:
        problem = period_problem(value)
        if problem:
            raise ValidationError(problem)


class DrawnEntryOut(Schema):
    application_id = fields.Integer(metadata={"description": "被抽中的入库或补录申请"})
    kind = fields.String(allow_none=True, metadata={"description": "intake 或 backfill"})
    project_id = fields.Integer(allow_none=True)
    project_number = fields.String(allow_none=True)
    project_name = fields.String(allow_none=True)


class DistrictDrawOut(Schema):
    scope = fields.String(metadata={"description": "区县区划代码"})
    name = fields.String(metadata={"description": "区县名称"})
    population_size = fields.Integer(metadata={"description": "该区县当月入库、补录项目数"})
    sample_size = fields.Integer(metadata={"description": "抽取数 ceil(10%)"})
    seed = fields.String(metadata={"description": "抽取种子（A-5：可据此复核）"})
    population = fields.List(fields.Integer(), metadata={"description": "总体（申请编号）"})
    drawn_at = fields.DateTime()
    drawn = fields.List(fields.Nested(DrawnEntryOut))


class SamplingInstanceOut(Schema):
    id = fields.Integer()
    status = fields.String()
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    started_by = fields.String(allow_none=True)


DRAW_STATUSES = ["drawing", "drawn", "error", "suspended", "terminated"]


class MonthlySamplingOut(Schema):
    """A month's sampling: ``status`` is ``drawing`` (with no districts yet) until the draw
    job has run, then ``drawn``."""

    period = fields.String()
    status = fields.String(metadata={"enum": DRAW_STATUSES})
    status_label = fields.String()
    instance = fields.Nested(SamplingInstanceOut)
    population_size = fields.Integer()
    sample_size = fields.Integer()
    open_checks = fields.Integer(metadata={"description": "尚待核实的抽中项目数"})
    districts = fields.List(fields.Nested(DistrictDrawOut))


class MonthlySamplingSummaryOut(Schema):
    period = fields.String()
    status = fields.String(metadata={"enum": DRAW_STATUSES})
    status_label = fields.String()
    instance = fields.Nested(SamplingInstanceOut)
    districts = fields.Integer(metadata={"description": "有入库、补录的区县数"})
    population_size = fields.Integer()
    sample_size = fields.Integer()
