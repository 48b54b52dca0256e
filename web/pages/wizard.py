"""The new-application wizard: kind, then project (find one of mine or enter a new one), then
the stages this kind and category take; every step is saved, so closing the browser loses
nothing. Opening the application runs every form and rule check of the API."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from engine.db import db
from forms.html import parse, render
from forms.project import ProjectHeader
from forms.stages import STAGE_NAMES
from registry import applications as apps
from registry import drafts, jurisdictions, rules
from registry.models import Kind, Project, Role, StageRecord
from registry.queries import stage_records, visible_projects
from registry.rules import RuleViolation

from . import bp, dossier, portal, session
from .pages_util import int_arg

STEPS = ("kind", "project", "stages")


@bp.route("/applications/new", methods=["GET", "POST"])
@session.signed_in(Role.ENTERPRISE)
def new_application() -> Any:
    draft = drafts.draft_of(session.user())
    step = request.args.get("step") or _first_open(draft)
    if step not in STEPS or (step != "kind" and "kind" not in draft):
        step = "kind"
    if request.method == "POST" and request.form.get("action") == "discard":
        drafts.discard(session.user())
        flash("草稿已清除", "ok")
        return redirect(url_for("pages.new_application"))
    return {"kind": _kind, "project": _project, "stages": _stages}[step](draft)


def _first_open(draft: dict[str, Any]) -> str:
    if "kind" not in draft:
        return "kind"
    return "stages" if "project_id" in draft or "project" in draft else "project"


def _go(step: str) -> Any:
    return redirect(url_for("pages.new_application", step=step))


def _kind(draft: dict[str, Any]) -> Any:
    if request.method == "POST":
        kind = request.form.get("kind", "")
        if kind not in {k.value for k in Kind}:
            flash("请选择申请类型", "error")
        else:
            if kind != draft.get("kind"):
                draft = {"kind": kind}
            drafts.save(session.user(), draft)
            return _go("project")
    return render_template("wizard_kind.html", draft=draft, step="kind")


def _mine(number: str = "") -> list[Project]:
    query = visible_projects(session.user())
    if number:
        query = query.where(Project.project_number.contains(number) | Project.name.contains(
            number))
    return list(db.session.scalars(query.order_by(Project.id.desc()).limit(50)))


def _project(draft: dict[str, Any]) -> Any:
    errors: dict[str, Any] = {}
    header = draft.get("project") or {}
    if request.method == "POST":
        choice = request.form.get("project_id", "")
        if choice and choice != "new":
            found = db.session.scalar(visible_projects(session.user()).where(
                Project.id == int_arg(choice))) if int_arg(choice) else None
            if found is None:
                flash("「项目」不在您单位参建的项目中", "error")
            else:
                draft = {"kind": draft["kind"], "project_id": found.id}
                drafts.save(session.user(), draft)
                return _go("stages")
        elif draft["kind"] not in (Kind.INTAKE, Kind.BACKFILL):
            flash("勘误和等级调整须选择已入库的项目", "error")
        else:
            header, errors = _header_input()
            draft = {"kind": draft["kind"], "project": header,
                     "general_number": request.form.get(GENERAL, "").strip()}
            drafts.save(session.user(), draft)
            errors = {**_outside_chongqing(header), **errors}
            try:
                ProjectHeader().load(header)
                if not errors:
                    return _go("stages")
            except ValidationError as exc:
                errors = {**exc.messages, **errors}  # type: ignore[dict-item]
            flash("项目信息有误，请按提示修改（已保存草稿）：" + "；".join(portal.flatten(errors)),
                  "error")
    search = request.args.get("q", "").strip()
    form = ProjectHeader()
    form.fields.pop("general_project_id")  # asked as the general project's number instead
    general_error = errors.get("general_project_id")
    return render_template("wizard_project.html", draft=draft, step="project",
                           projects=_mine(search), q=search,
                           header_form=render(form, header, errors, prefix="project-"),
                           general_error="；".join(general_error) if isinstance(
                               general_error, list) else None,
                           new_open=bool(errors) or bool(header))


def _outside_chongqing(header: dict[str, Any]) -> dict[str, list[str]]:
    """R-SCOPE-1 on the location at once (opening the application checks it again), as
    the field's error."""
    try:
        rules.check_scope(header.get("location_code", ""), jurisdictions.table(), "", {})
    except RuleViolation as exc:
        return {"location_code": [str(exc)]} if header.get("location_code") else {}
    return {}


GENERAL = "project-general_project_number"
"""A sub-contract names its general contract by the project number people know."""


def _header_input() -> tuple[dict[str, Any], dict[str, Any]]:
    """The posted project header, the general project's number resolved to its id."""
    header = parse(ProjectHeader(), request.form, prefix="project-")
    header.pop("general_project_id", None)
    number = request.form.get(GENERAL, "").strip()
    if not number:
        return header, {}
    general = db.session.scalar(sa.select(Project.id).filter_by(project_number=number[:16]))
    if general is None:
        return header, {"general_project_id": [f"「总承包项目编号」{number} 不存在或尚未入库"]}
    return {**header, "general_project_id": general}, {}


def stages_for(kind: str, project: Project | None, category: str) -> list[str]:
    """The stages a unit enters for this kind: the rules' list for intake and backfill, the
    project's existing unlocked ones for a correction, in the order of a project's life."""
    if kind == Kind.CORRECTION and project is not None:
        have = set(db.session.scalars(sa.select(StageRecord.stage).where(
            StageRecord.project_id == project.id, StageRecord.from_permit_system.is_(False),
            StageRecord.used_for_qualification.is_(False))))
        return [s for s in STAGE_NAMES if s in have]
    allowed = next((stages for (c, k), stages in rules.UNIT_STAGES.items()
                    if c == category and k == kind), set())
    return [s for s in STAGE_NAMES if s in allowed]


def _stages(draft: dict[str, Any]) -> Any:
    kind = draft["kind"]
    project = db.session.get(Project, draft["project_id"]) if "project_id" in draft else None
    category = project.category if project else (draft.get("project") or {}).get("category", "")
    if kind == Kind.GRADE_ADJUST:
        return _grade(draft, project)
    names = stages_for(kind, project, category)
    data: dict[str, Any] = draft.get("stages") or {}
    errors: dict[str, Any] = {}
    if kind == Kind.CORRECTION and project is not None and not data:
        data = {r["stage"]: r["payload"] for r in stage_records(project.id)
                if r["stage"] in names}
    if request.method == "POST":
        data = portal.stage_input(names)
        draft["stages"] = data
        drafts.save(session.user(), draft)
        if request.form.get("action") == "save":
            flash("草稿已保存，可随时回来继续填写", "ok")
        else:
            opened, errors = _open(draft, data)
            if opened is not None:
                return opened
    locked = dossier.stage_tables({r["stage"]: r["payload"] for r in stage_records(project.id)
                                   if r["from_permit_system"]}) if project else []
    return render_template("wizard_stages.html", draft=draft, step="stages", project=project,
                           forms=portal.stage_forms(names, data, errors), locked=locked,
                           correction=kind == Kind.CORRECTION)


def _open(draft: dict[str, Any], stages: dict[str, Any],
          target_grade: str | None = None) -> tuple[Any, dict[str, Any]]:
    """Open the application from the draft: a redirect to it, or the errors by stage."""
    if not stages:
        flash("请至少填写一个环节的信息", "error")
        return None, {}
    try:
        opened = apps.open_application(session.user(), draft["kind"], stages,
                                       project_id=draft.get("project_id"),
                                       project=draft.get("project"), target_grade=target_grade)
    except apps.FormInvalid as exc:
        stages_wrong = exc.messages.get("stages") or {}
        where = [STAGE_NAMES.get(k, k) for k in stages_wrong] + portal.flatten(
            {k: v for k, v in exc.messages.items() if k != "stages"})
        flash("提交的数据有误，请按提示修改：" + "；".join(where), "error")
        return None, stages_wrong
    except (RuleViolation, apps.NotAllowed, apps.NotFound) as exc:
        flash(str(exc), "error")
        return None, {}
    drafts.discard(session.user())
    flash("申请已创建（草稿）：请上传申报材料，核对后提交", "ok")
    return redirect(url_for("pages.application", application_id=opened.id)), {}


def _grade(draft: dict[str, Any], project: Project | None) -> Any:
    records = [r for r in stage_records(project.id) if r["grade"] in rules.NEXT_GRADE] \
        if project else []
    if request.method == "POST":
        stage, target = request.form.get("stage", ""), request.form.get("target_grade", "")
        draft.update(stage=stage, target_grade=target)
        drafts.save(session.user(), draft)
        if not stage:
            flash("请选择要调整等级的环节", "error")
        else:
            opened, _errors = _open(draft, {stage: {}}, target)
            if opened is not None:
                return opened
    return render_template("wizard_grade.html", draft=draft, step="stages", project=project,
                           records=records, stage_names=STAGE_NAMES)
