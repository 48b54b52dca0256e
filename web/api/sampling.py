"""``/api/v1/sampling/monthly``: the city and ops start a month's sampling (R-SUP-2) and read
its draw."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint, abort
from marshmallow import ValidationError

from forms.sampling_api import (
    MonthlySamplingIn,
    MonthlySamplingOut,
    MonthlySamplingSummaryOut,
)
from handlers.sampling import monthly_periods, monthly_report
from handlers.schedule import start_monthly_sampling
from registry.applications import NotFound
from registry.models import Role

from .auth import signed_in_user
from .auth_roles import roles

blp = Blueprint("sampling", __name__, url_prefix="/api/v1/sampling",
                description="监督：月度抽查（R-SUP-2）")

SAMPLERS = (Role.CITY, Role.OPS, Role.ADMIN)
"""Who may start and read the monthly sampling."""


def report(period: str) -> dict[str, Any]:
    found = monthly_report(period)
    if found is None:
        raise NotFound(f"{period} 的月度抽查尚未启动")
    return found


def _period() -> str:
    """The request's month, validated; 422 naming ``period`` otherwise."""
    body: Any = request.get_json(silent=True)
    try:
        data = MonthlySamplingIn().load(body)
    except ValidationError as exc:
        errors: Any = exc.messages
        problems = errors.get("period") if isinstance(errors, dict) else None
        message = problems[0] if problems else "提交的数据有误，请按提示修改"
        abort(422, message=message, errors=errors)
    return str(data["period"])


@blp.post("/monthly")
@roles(*SAMPLERS)
@blp.doc(requestBody={"required": True,
                      "content": {"application/json": {"schema": MonthlySamplingIn}}})
@blp.response(201, MonthlySamplingOut, description="已启动该月抽查")
@blp.alt_response(200, schema=MonthlySamplingOut, description="该月抽查此前已启动：返回同一抽查")
def start_monthly() -> Any:
    """Start the sampling of a month that has ended, once: a second call (or one racing the
    first) answers the same sampling with 200. Until the draw job has run, ``status`` is
    ``drawing`` and ``districts`` is empty."""
    period = _period()
    _instance, started = start_monthly_sampling(period, signed_in_user().username)
    return report(period), 201 if started else 200


@blp.get("/monthly")
@roles(*SAMPLERS)
@blp.response(200, MonthlySamplingSummaryOut(many=True))
def list_monthly() -> Any:
    """The months whose sampling was started, newest first."""
    return monthly_periods()


@blp.get("/monthly/<period>")
@roles(*SAMPLERS)
@blp.response(200, MonthlySamplingOut)
def get_monthly(period: str) -> Any:
    """A month's sampling: where its draw stands and, once drawn, per district the
    population, the sample size ceil(10%), the seed and the drawn entries."""
    return report(period)
