"""The public board, without sign-in: projects under publicity, a notice with its published
data and the objection form (A-3), and the complaint form (R-SUP-7)."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request, url_for

import engine
from engine.db import db
from forms import TASK_FORMS
from forms.html import parse, render
from lifecycle import events
from registry import applications as apps
from registry import checkcodes, publicity
from registry.models import Complaint, Objection, PublicityNotice
from web import workflow
from web.api.public import limit_public_posts

from . import bp, dossier

STATUS_CLASSES = {"open": "status-submitted", "paused": "status-suspended",
                  "stopped": "status-returned"}
"""The badge's colour by the status the public sees (labels.NOTICE_STATUSES)."""


@bp.get("/publicity")
def board() -> Any:
    """Notices open and not yet due, and those paused while an objection is handled (A-3)."""
    return render_template("board.html", notices=publicity.open_notices(),
                           shown=publicity.shown_status, STATUS_CLASSES=STATUS_CLASSES)


@bp.route("/publicity/<int(max=2147483647):notice_id>", methods=["GET", "POST"])
def notice(notice_id: int) -> Any:
    row = db.session.get(PublicityNotice, notice_id)
    if row is None:
        raise apps.NotFound(f"公示 {notice_id} 不存在")
    data, errors, status = {}, {}, 200
    if request.method == "POST":
        limit_public_posts()
        data = parse(TASK_FORMS["objection"](), request.form)
        try:
            objection = events.raise_objection(notice_id, data)
            return filed(objection, "异议已受理：主管部门将核实处理，公示暂停直至处理完毕", "ok",
                         back=url_for("pages.notice", notice_id=notice_id))
        except apps.FormInvalid as exc:
            errors, status = exc.messages, 422
            flash("提交的数据有误，请按提示修改", "error")
        except (apps.NotAllowed, engine.Conflict) as exc:  # paused, ended, stopped; or the
            flash(str(exc), "error")  # procedure no longer waits for objections
            status = 409
    published = row.published or {}
    return render_template("notice.html", notice=row, status=publicity.shown_status(row),
                           STATUS_CLASSES=STATUS_CLASSES,
                           stages=dossier.stage_tables(published.get("stages") or {}),
                           kind=published.get("kind"),
                           form=render(TASK_FORMS["objection"](), data, errors)), status


@bp.route("/complaints", methods=["GET", "POST"])
def complaint() -> Any:
    data, errors, status = dict(request.args), {}, 200
    if request.method == "POST":
        limit_public_posts()
        data = parse(TASK_FORMS["complaint"](), request.form)
        try:
            complaint = workflow.file_complaint(data)
            match = publicity.complaint_match(complaint)
            return filed(complaint, f"投诉举报已受理（编号 {checkcodes.number_of(complaint)}）："
                         f"{match.note}", "ok" if match.project_id is not None or
                         not match.candidates else "error", back=url_for("pages.complaint"))
        except apps.FormInvalid as exc:
            errors, status = exc.messages, 422
            flash("提交的数据有误，请按提示修改", "error")
    return render_template("complaint.html",
                           form=render(TASK_FORMS["complaint"](), data, errors)), status


def filed(row: Complaint | Objection, message: str, category: str, back: str) -> Any:
    """The confirmation of a filing, with its number and its check code shown this once
    (issue 18): the answer to the POST itself, kept by no cache and no redirect's session."""
    page = render_template("filed.html", message=message, category=category, back=back,
                           kind=publicity.FILING_KINDS["complaint" if isinstance(
                               row, Complaint) else "objection"],
                           number=checkcodes.number_of(row), code=checkcodes.issued(row))
    return page, 200, {"Cache-Control": "no-store"}
