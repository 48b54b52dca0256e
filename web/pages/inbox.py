"""The reviewer's inbox and task page: filters, claim and unclaim, the application beside a
checklist, documents uploaded with the decision, the task's form for everything else."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from markupsafe import Markup

import engine
from engine import queries
from engine.clock import now
from engine.db import db
from engine.models import Definition, Instance, UserTask
from engine.state import data_of
from forms.codes import REVIEW_ITEMS
from forms.html import parse, render
from lifecycle import application_id_of, keys
from lifecycle import forms as task_forms
from lifecycle import tasks as work
from lifecycle.guards import ATTACHMENT_OF_FORM
from registry import applications as apps
from registry import deadlines, jurisdictions
from registry.calendar import Calendar
from registry.models import (
    Application,
    Complaint,
    Inspection,
    Objection,
    Project,
    PublicityNotice,
    Role,
    User,
)
from registry.rules import RuleViolation

from . import bp, dossier, session
from .pages_util import int_arg, posted_form_data

REVIEWERS = (Role.DISTRICT, Role.CITY, Role.ENTERPRISE)
PROCESSES = {"intake": "入库", "backfill": "补录", "correction": "勘误", "grade_adjust": "等级调整",
             "publicity_and_push": "公示与推送", "monthly_sampling": "月度抽查",
             "key_inspection": "重点检查"}
UPLOAD_KIND = ATTACHMENT_OF_FORM
"""Task forms whose ``attachment_id`` is a document uploaded on the task page."""


def _subjects(tasks: list[UserTask]) -> dict[int, Application]:
    """The application each task's instance works on, by instance id."""
    keys = {i: key for i, (key, _name) in _procedures(tasks).items()}
    by_application = {i: application_id_of(k) for i, k in keys.items()}
    wanted = {a: i for i, a in by_application.items() if a is not None}
    rows = db.session.scalars(sa.select(Application).where(
        Application.id.in_(wanted))).all() if wanted else []
    return {wanted[a.id]: a for a in rows}


def _procedures(tasks: list[UserTask]) -> dict[int, tuple[str | None, str]]:
    """Each task's instance's business key and procedure name, by instance id."""
    ids = {t.instance_id for t in tasks}
    rows = db.session.execute(sa.select(
        Instance.id, Instance.business_key, sa.func.coalesce(Definition.name, Definition.key))
        .join(Definition, Definition.id == Instance.definition_id)
        .where(Instance.id.in_(ids))).all() if ids else []
    return {i: (key, name) for i, key, name in rows}


def _inspected_projects(tasks: list[UserTask]) -> dict[int, Project]:
    """The project each key inspection's task inspects (R-SUP-7), by instance id: read off
    the instances' business keys, one query."""
    wanted = {keys.inspection_id_of(key): i for i, (key, _name) in _procedures(tasks).items()}
    wanted.pop(None, None)
    rows = db.session.execute(sa.select(Inspection.id, Project).join(
        Project, Project.id == Inspection.project_id).where(
        Inspection.id.in_(wanted))).all() if wanted else []
    return {wanted[i]: project for i, project in rows}


def due_text(task: UserTask, calendar: Calendar) -> tuple[str, bool]:
    """The due date with the working days left (A-8), and whether the task is overdue."""
    deadline = deadlines.describe(task.due_at, calendar)
    return (deadline.text, deadline.overdue) if deadline else ("无期限", False)


@bp.get("/tasks")
@session.signed_in(*REVIEWERS)
def tasks() -> Any:
    user = session.user()
    group, scope = work.group_of(user), work.user_scope(user)
    args = request.args
    page = int_arg(args.get("page")) or 1
    found = list(queries.inbox(
        group or "", scope or "", assignee=user.username if args.get("mine") else None,
        form_key=args.get("form_key") or None,
        process=args.get("process") if args.get("process") in PROCESSES else None,
        due_before=now() if args.get("overdue") else None,
        area=(args.get("jurisdiction") or None) if user.role == Role.CITY else None,
        page=page, per_page=25, order="due" if args.get("order") == "due" else "created"))
    calendar = deadlines.around_today()
    subjects = _subjects(found)  # one query for the page's applications
    procedures = _procedures(found)
    rows = [(t, subjects.get(t.instance_id), procedures.get(t.instance_id),
             *due_text(t, calendar)) for t in found]
    return render_template("tasks.html", rows=rows, args=args, processes=PROCESSES,
                           forms=FORM_TITLES, page=page,
                           districts=jurisdictions.table() if user.role == Role.CITY else None,
                           suspended=work.suspended_instances({t.instance_id for t in found}),
                           inspected=_inspected_projects(found))


FORM_TITLES = {"review": "逐项核实", "amendment": "修改或撤回", "objection_ruling": "异议处理",
               "formal_document": "正式公文上报", "ministry_request": "报部勘误申请",
               "ministry_reply": "部复函登记", "sampling_result": "抽查核查",
               "inspection": "重点检查", "grade_decision": "等级核实"}


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@session.signed_in(*REVIEWERS)
def task(task_id: str) -> Any:
    user = session.user()
    row, done = _opened(task_id, user)
    subject = _subjects([row]).get(row.instance_id)
    data, errors, status = {}, {}, 200
    form = task_forms.of_task(row)
    suspended = bool(work.suspended_instances({row.instance_id}))
    if request.method == "POST":
        try:
            data = _posted(form)
            if done is not None:  # someone was first: say so, keep what was entered
                raise engine.Conflict(done)
            work.check_workable(row)  # before the form's checks and any upload is stored
            if row.form_key in UPLOAD_KIND:
                data = _with_document(row, subject, user, data)
            work.complete(row, data, user)
            flash(f"“{row.name}”已办理", "ok")
            return redirect(url_for("pages.tasks"))
        except apps.FormInvalid as exc:
            errors, status = exc.messages, 422
            flash("提交的数据有误，请按提示修改", "error")
        except RuleViolation as exc:  # e.g. R-IB-2: a checklist that leaves an item out
            flash(str(exc), "error")
            status = 422
        except (apps.NotAllowed, engine.Conflict, engine.InvalidState,
                engine.StepFailed) as exc:
            flash(f"{str(exc).rstrip('。')}。已填写的内容保留在下方", "error")
            status = 409
        suspended = bool(work.suspended_instances({row.instance_id}))
    inspected = _inspected_projects([row]).get(row.instance_id)
    return render_template("task.html", task=row, d=dossier.build(subject) if subject else None,
                           form=_form(row, form, subject, data, errors), forms=FORM_TITLES,
                           objections=_objections(subject), upload=row.form_key in UPLOAD_KIND,
                           deployed_form=form.kind if form.product is None else None,
                           instance_data=None if subject else _instance_data(row),
                           deadline=deadlines.describe(row.due_at), suspended=suspended,
                           done=done, inspected=inspected), status


def _opened(task_id: str, user: User) -> tuple[UserTask, str | None]:
    """The task ``user`` may work, and why it can no longer be done (someone was first) when
    a form is posted to it: the page then shows what was entered with the refusal."""
    try:
        return work.visible_task(task_id, user), None
    except engine.Conflict as exc:
        row = db.session.get(UserTask, task_id)
        if request.method != "POST" or row is None:
            raise
        return row, str(exc)


def _posted(form: task_forms.Form) -> dict[str, Any]:
    """The posted data: the product form's fields, or a deployed form's submission as JSON in
    the field ``form_data`` (what formview.js puts there from form-js)."""
    if form.product is not None:
        return parse(form.product(), request.form)
    return posted_form_data()


def _form(row: UserTask, form: task_forms.Form, subject: Application | None,
          data: dict[str, Any], errors: dict[str, Any]) -> Any:
    if form.product is None:  # form-js renders it in the browser
        return Markup(render_template("_deployed_form.html", form=form, data=data,
                                      errors=errors))
    schema = form.product()
    if row.form_key == "review" and subject is not None:
        items = [*subject.stages, "attachments"]
        given = {i.get("item"): i for i in data.get("items", []) if isinstance(i, dict)}
        given_errors = errors.get("items")
        row_errors: dict[Any, Any] = given_errors if isinstance(given_errors, dict) else {}
        return Markup(render_template("_review.html", items=[
            (n, item, REVIEW_ITEMS.get(item, item), given.get(item, {}), row_errors.get(n, {}))
            for n, item in enumerate(items)], comment=data.get("comment", ""), errors=errors))
    if row.form_key in UPLOAD_KIND:
        schema.fields.pop("attachment_id")
    return render(schema, data, errors)


def _with_document(row: UserTask, subject: Application | None, user: User,
                   data: dict[str, Any]) -> dict[str, Any]:
    """Store the document posted with the form and put its id in the form's data."""
    sent = request.files.get("document")
    if subject is None or sent is None or not sent.filename:
        raise apps.FormInvalid({"document": ["「公文附件」必填：请上传文件"]})
    # the form first: a refused form stores no document
    task_forms.task_form(row.form_key or "").load({**data, "attachment_id": "0"})
    stored = apps.add_authority_document(subject, user, UPLOAD_KIND[row.form_key or ""],
                                         sent.read(), sent.filename)
    return {**data, "attachment_id": str(stored.id)}


def _objections(subject: Application | None) -> list[Objection]:
    if subject is None:
        return []
    return list(db.session.scalars(sa.select(Objection).join(
        PublicityNotice, PublicityNotice.id == Objection.notice_id).where(
        PublicityNotice.application_id == subject.id).order_by(Objection.id)))


TRIGGERS = {"complaint": "投诉举报", "sample": "抽查不合格"}


def _instance_data(row: UserTask) -> list[tuple[str, Any]]:
    """What a task without an application (sampling, inspection) shows of its subject."""
    instance = db.session.get(Instance, row.instance_id)
    if instance is None:
        return []
    data = data_of(instance.state)
    key, name = _procedures([row]).get(row.instance_id, (None, ""))
    shown: list[tuple[str, Any]] = [("事项", name)] + ([("业务编号", key)] if key else [])
    project = db.session.get(Project, data["project_id"]) if isinstance(
        data.get("project_id"), int) else None
    if project is not None:
        shown += [("项目", f"{project.name}（{project.project_number or '未编号'}）"),
                  ("项目所在地", jurisdictions.name_of(project.location_code))]
    if data.get("trigger") in TRIGGERS:
        shown.append(("检查原因", TRIGGERS[data["trigger"]]))
    inspection = db.session.get(Inspection, data["inspection_id"]) if isinstance(
        data.get("inspection_id"), int) else None
    complaint = db.session.get(Complaint, inspection.complaint_id) if inspection and \
        inspection.complaint_id else None
    if complaint is not None:
        shown.append(("投诉举报内容", complaint.content))
    if data.get("period"):
        shown.append(("抽查期间", data["period"]))
    return shown


@bp.post("/tasks/<task_id>/claim")
@session.signed_in(*REVIEWERS)
def claim(task_id: str) -> Any:
    return _hold(task_id, take=True)


@bp.post("/tasks/<task_id>/unclaim")
@session.signed_in(*REVIEWERS)
def unclaim(task_id: str) -> Any:
    return _hold(task_id, take=False)


def _hold(task_id: str, take: bool) -> Any:
    user = session.user()
    row = work.visible_task(task_id, user)
    try:
        (engine.claim if take else engine.unclaim)(row.id, user.username)
        flash("已认领，他人将看到由您办理" if take else "已取消认领", "ok")
    except (engine.Conflict, engine.InvalidState) as exc:
        flash(str(exc), "error")
    back = session.local_path(request.form.get("back"))
    return redirect(back or url_for("pages.task", task_id=row.id))

