"""月度抽查 (R-SUP-2): the months started, the form that starts one (last month by
default), and a month's draw per district; for the city and ops, like the API."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

import engine
from forms.html import parse, render
from forms.sampling_api import MonthlySamplingIn, last_month
from handlers.sampling import monthly_periods, monthly_report
from handlers.schedule import start_monthly_sampling
from registry.models import Role

from . import bp, labels, session
from .ops import STATUSES

SAMPLERS = (Role.CITY, Role.OPS, Role.ADMIN)


@bp.route("/sampling/monthly", methods=["GET", "POST"])
@session.signed_in(*SAMPLERS)
def sampling_months() -> Any:
    data: dict[str, Any] = {"period": last_month()}
    errors: Any = {}
    status = 200
    if request.method == "POST":
        data = parse(MonthlySamplingIn(), request.form)
        try:
            period = str(MonthlySamplingIn().load(data)["period"])
        except ValidationError as exc:
            errors, status = exc.messages, 422
            flash("提交的数据有误，请按提示修改", "error")
        else:
            _instance, started = start_monthly_sampling(period, session.user().username)
            flash(f"已启动 {period} 月度抽查" if started
                  else f"{period} 月度抽查此前已启动，未重复启动", "ok")
            return redirect(url_for("pages.sampling_month", period=period))
    return render_template("sampling_months.html", months=monthly_periods(), statuses=STATUSES,
                           form=render(MonthlySamplingIn(), data, errors)), status


@bp.get("/sampling/monthly/<period>")
@session.signed_in(*SAMPLERS)
def sampling_month(period: str) -> Any:
    report = monthly_report(period)
    if report is None:
        raise engine.NotFound(f"{period} 的月度抽查尚未启动")
    return render_template("sampling_month.html", report=report, statuses=STATUSES,
                           kinds=labels.KINDS)
