"""办理其他事项 (issue 17): the procedures analysts deployed that the signed-in user may start,
what they started (我发起的, paged), and a procedure's start page (its start form rendered by
form-js, or a plain confirmation)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

import engine
from lifecycle import keys, starts
from registry.applications import FormInvalid

from . import bp, session
from .pages_util import int_arg, posted_form_data

PER_PAGE = 20
"""Rows of 我发起的 per page."""


@bp.get("/start")
@session.signed_in()
def start_list() -> Any:
    user = session.user()
    page = int_arg(request.args.get("page")) or 1
    found = starts.started(user, offset=(page - 1) * PER_PAGE, limit=PER_PAGE + 1)
    return render_template("start_list.html", startable=starts.startable(user),
                           started=with_applications(found[:PER_PAGE]), page=page,
                           more=len(found) > PER_PAGE)


def with_applications(rows: list[Any]) -> list[tuple[Any, int | None]]:
    """Each started instance with the application whose procedure it is (None for others):
    its row links to the application's page."""
    return [(row, keys.application_id_of(row.business_key)) for row in rows]


@bp.route("/start/<key>", methods=["GET", "POST"])
@session.signed_in()
def start(key: str) -> Any:
    """Show or post the start form. May raise engine.NotFound (404), NotAllowed (403, another
    role's procedure) and engine.Conflict (409, a product procedure); a refused submission is
    shown again with its data and the fields' problems (422)."""
    user = session.user()
    found = starts.allowed(key, user)
    form = starts.form_of(found)
    data: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        try:
            data = posted_form_data() if form is not None else {}
            started = starts.start(key, data, user)
            flash(f"已提交“{found.definition.name or key}”，业务编号 {started.business_key}",
                  "ok")
            return redirect(url_for("pages.start_list"))
        except FormInvalid as exc:
            errors, status = exc.messages, 422
            flash("提交的数据有误，请按提示修改", "error")
        except engine.StepFailed as exc:
            flash(str(exc), "error")
            status = 422
    return render_template("start.html", entry=found, form=form, data=data,
                           errors=errors), status
