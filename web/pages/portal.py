"""The enterprise portal: my applications and projects, an application's page (upload,
submit, amend, withdraw), and the files a person may see."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, send_file, url_for

import engine
from engine.db import db
from forms import STAGES
from forms.html import parse, render
from forms.stages import STAGE_NAMES
from lifecycle import starts, submission
from registry import applications as apps
from registry import attachments as files
from registry.models import Application, AppStatus, Attachment, Role, User
from registry.queries import visible_applications, visible_projects
from registry.rules import RuleViolation

from .. import headers
from . import bp, dossier, session
from .starts import with_applications

ENTERPRISE = (Role.ENTERPRISE,)

LATEST = 5
"""How many of 我发起的 the portal shows (the rest: 办理其他事项)."""


def visible(application_id: int, user: User) -> Application:
    """The application if ``user`` may see it; NotFound (a 404 page) otherwise."""
    found = db.session.scalar(visible_applications(user).where(Application.id == application_id))
    if found is None:
        raise apps.NotFound(f"申请 {application_id} 不存在")
    return found


@bp.get("/portal")
@session.signed_in(*ENTERPRISE)
def portal() -> Any:
    user = session.user()
    mine = db.session.scalars(visible_applications(user).order_by(
        Application.id.desc()).limit(100)).all()
    projects = db.session.scalars(visible_projects(session.user()).limit(200)).all()
    return render_template("portal.html", applications=mine, projects=projects,
                           startable=starts.startable(user),
                           started=with_applications(starts.started(user, limit=LATEST)))


@bp.get("/applications/<int(max=2147483647):application_id>")
@session.signed_in()
def application(application_id: int) -> Any:
    found = visible(application_id, session.user())
    return render_template("application.html", d=dossier.build(found),
                           own=found.applicant_id == session.user().organisation_id)


@bp.post("/applications/<int(max=2147483647):application_id>/attachments")
@session.signed_in(*ENTERPRISE)
def upload(application_id: int) -> Any:
    sent = request.files.get("file")
    try:
        if sent is None or not sent.filename:
            raise apps.FormInvalid({"file": ["「文件」必填：请选择要上传的文件"]})
        row = apps.add_attachment(application_id, session.user(), request.form.get("kind", ""),
                                  sent.read(), sent.filename)
        flash(f"已上传：{row.display_name}", "ok")
    except (apps.FormInvalid, apps.NotAllowed) as exc:
        flash(_message(exc), "error")
    return redirect(url_for("pages.application", application_id=application_id) + "#materials")


@bp.get("/attachments/<int(max=2147483647):attachment_id>")
@session.signed_in()
def attachment(attachment_id: int) -> Any:
    row = db.session.get(Attachment, attachment_id)
    if row is None:
        raise apps.NotFound(f"附件 {attachment_id} 不存在")
    visible(row.application_id, session.user())
    path = files.path_for(apps.settings().data_dir, row.sha256)
    if row.media_type not in files.PREVIEWABLE:
        return send_file(path, mimetype=row.media_type, download_name=row.display_name,
                         as_attachment=True)
    return headers.previewable(send_file(path, mimetype=row.media_type,
                                         download_name=row.display_name))


@bp.post("/applications/<int(max=2147483647):application_id>/submit")
@session.signed_in(*ENTERPRISE)
def submit(application_id: int) -> Any:
    user = session.user()
    again = apps.get_own(application_id, user).status == AppStatus.RETURNED
    try:
        submission.submit(application_id, user, request.form.get("note", ""))
        flash("已重新提交，等待审核" if again else "已提交，等待审核", "ok")
    except (apps.NotAllowed, RuleViolation, engine.Conflict, engine.InvalidState,
            apps.FormInvalid) as exc:
        flash(_message(exc), "error")
    return redirect(url_for("pages.application", application_id=application_id))


@bp.post("/applications/<int(max=2147483647):application_id>/withdraw")
@session.signed_in(*ENTERPRISE)
def withdraw(application_id: int) -> Any:
    try:
        submission.withdraw(application_id, session.user(), request.form.get("note", ""))
        flash("申请已撤回", "ok")
    except (apps.NotAllowed, engine.Conflict, engine.InvalidState) as exc:
        flash(_message(exc), "error")
    return redirect(url_for("pages.application", application_id=application_id))


@bp.route("/applications/<int(max=2147483647):application_id>/edit", methods=["GET", "POST"])
@session.signed_in(*ENTERPRISE)
def edit(application_id: int) -> Any:
    user = session.user()
    found = apps.get_own(application_id, user)
    data, errors = dict(found.data or {}), {}
    if request.method == "POST":
        data = stage_input(list(found.data or {}))
        try:
            submission.amend(application_id, user, data)
            flash("申报信息已修改", "ok")
            return redirect(url_for("pages.application", application_id=application_id))
        except apps.FormInvalid as exc:
            errors = exc.messages.get("stages", exc.messages)
            flash("提交的数据有误，请按提示修改", "error")
        except (RuleViolation, apps.NotAllowed, engine.Conflict) as exc:
            flash(_message(exc), "error")
    d = dossier.build(found)
    return render_template("edit.html", d=d, forms=stage_forms(list(found.data or {}), data,
                                                             errors))


def stage_input(names: list[str]) -> dict[str, Any]:
    """The posted stages among ``names``; a stage left wholly blank is left out."""
    posted = {name: parse(STAGES[name](), request.form, prefix=f"{name}-") for name in names}
    return {name: values for name, values in posted.items()
            if any(v not in (None, "", []) for v in values.values())}


def stage_forms(names: list[str], data: dict[str, Any], errors: dict[str, Any]) -> list[Any]:
    return [(name, STAGE_NAMES[name], render(STAGES[name](), data.get(name),
                                                     errors.get(name), prefix=f"{name}-"))
            for name in names]


def _message(exc: Exception) -> str:
    if isinstance(exc, apps.FormInvalid):
        return "；".join(flatten(exc.messages)) or "提交的数据有误"
    return str(exc)


def flatten(messages: Any) -> list[str]:
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, list):
        return [m for item in messages for m in flatten(item)]
    if isinstance(messages, dict):
        return [m for item in messages.values() for m in flatten(item)]
    return []
