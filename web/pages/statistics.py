"""统计 (issue 19): the dashboard of the city's and each district's statistics, its charts
(ECharts, served from ``node_modules``) each above the table of its numbers, and each table
as an Excel download with the filters applied. The numbers are ``registry.statistics``'s."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, render_template, request, url_for

from registry import jurisdictions
from registry import statistics as st
from registry.models import LABELS

from ..downloads import SANDBOX
from . import bp, session
from .vendor import available

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _query() -> tuple[st.Query, list[str]]:
    try:
        return st.parse(request.args, session.user())
    except st.Forbidden as exc:
        abort(403, description=str(exc))


def charts(tables: dict[str, st.Table]) -> dict[str, dict[str, Any]]:
    """What each chart draws: the tables' rows arranged by category and series (the numbers
    are the tables', nothing is added up here)."""
    by_status = tables["applications_by_status"].rows
    districts = list(dict.fromkeys(r["district_name"] for r in by_status))
    statuses = list(dict.fromkeys(r["status"] for r in by_status))
    counts = {(r["district_name"], r["status"]): r["count"] for r in by_status}
    task_rows, duration_rows = tables["tasks"].rows, tables["durations"].rows
    sampling_rows = tables["sampling"].rows
    return {
        "applications": {"categories": districts, "stack": True, "unit": "件",
                         "series": [{"name": LABELS.get(s, s),
                                     "data": [counts.get((d, s), 0) for d in districts]}
                                    for s in statuses]},
        "tasks": {"categories": [r["district_name"] for r in task_rows], "unit": "项",
                  "series": [{"name": "待办", "data": [r["open"] for r in task_rows]},
                             {"name": "已超期", "data": [r["overdue"] for r in task_rows]}]},
        "durations": {"categories": [r["district_name"] for r in duration_rows],
                      "unit": "工作日",
                      "series": [{"name": "平均", "data": [r["average"] for r in duration_rows]},
                                 {"name": "90 分位", "data": [r["p90"] for r in duration_rows]}]},
        "sampling": {"categories": [f"{r['period']} {r['district_name']}"
                                    for r in sampling_rows], "unit": "%", "floor": st.FLOOR,
                     "series": [{"name": "覆盖率",
                                 "data": [r["coverage"] for r in sampling_rows]}]},
    }


@bp.get("/statistics")
@session.signed_in(*st.READERS)
def statistics() -> Any:
    q, problems = _query()
    for message in problems:
        flash(message, "error")
    tables = st.compute(q)
    return render_template(
        "statistics.html", q=q, tables=tables, charts=charts(tables),
        districts=jurisdictions.table(), echarts=available("echarts"),
        exports={key: _export(key, q) for key in tables}), 400 if problems else 200


def _export(key: str, q: st.Query) -> str:
    params: dict[str, Any] = {"table": key, **q.params()}
    return url_for("pages.statistics_xlsx", **params)


@bp.get("/statistics.xlsx")
@session.signed_in(*st.READERS)
def statistics_xlsx() -> Any:
    key = request.args.get("table", "")
    if key not in st.TABLES:
        abort(404, description="没有这张统计表")
    q, problems = _query()
    if problems:
        abort(400, description="；".join(problems))
    response = Response(st.workbook(st.TABLES[key](q), q), mimetype=XLSX)
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"statistics-{key}-{q.start}-{q.end}.xlsx")
    response.headers["Content-Security-Policy"] = SANDBOX
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
