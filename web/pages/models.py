"""The analysts' console: procedures and their versions, a version's diagram and XML, a diff
between versions by element, upload (diagrams with their forms, or a zip of them) or edit in
the browser (bpmn-js modeler; forms are designed in model_forms), validation with each problem
shown on its element, deploy, making an earlier version current again (rollback), and moving
running instances to another version."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import sqlalchemy as sa
from flask import flash, jsonify, redirect, render_template, request, url_for

import engine
from engine import queries
from engine.activation import current_versions
from engine.bundle import files_of
from engine.db import db
from engine.definitions import check
from engine.models import Definition, Instance, InstanceStatus
from engine.package import MAX_FILES, expand_all
from engine.problems import Problem
from registry import audit, deployments
from registry.models import Role

from . import bp, session
from .pages_util import int_arg
from .vendor import built

ANALYSTS = (Role.ANALYST, Role.ADMIN)
ENDED = (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED)


def _version(key: str, version: int) -> Definition:
    found = db.session.scalar(sa.select(Definition).filter_by(key=key, version=version))
    if found is None:
        raise engine.NotFound(f"流程 {key} 没有版本 {version}")
    return found


@bp.get("/models")
@session.signed_in(*ANALYSTS)
def models() -> Any:
    grouped: dict[str, list[tuple[Definition, int]]] = {}
    for definition, running in queries.versions():
        grouped.setdefault(definition.key, []).append((definition, running))
    return render_template("models.html", grouped=grouped, current=current_versions())


@bp.get("/models/<key>/<int(max=2147483647):version>")
@session.signed_in(*ANALYSTS)
def model_version(key: str, version: int) -> Any:
    definition = _version(key, version)
    others = db.session.scalars(sa.select(Definition).filter_by(key=key).order_by(
        Definition.version.desc())).all()
    running = db.session.scalars(sa.select(Instance).where(
        Instance.definition_id == definition.id, Instance.status.not_in(ENDED)).order_by(
        Instance.id.desc()).limit(500)).all()
    return render_template("model_version.html", definition=definition, others=others,
                           running=running, latest=others[0],
                           current=current_versions().get(key))


@bp.post("/models/<key>/<int(max=2147483647):version>/activate")
@session.signed_in(*ANALYSTS)
def model_activate(key: str, version: int) -> Any:
    """Make this version the one new instances start (raises NotFound for an unknown one)."""
    done = deployments.activate(key, version, session.user().username)
    if done.changed:
        flash(f"已将 v{version} 设为当前版本（此前为 v{done.before}）：新启动的实例使用此版本，"
              "运行中的实例继续使用原版本。", "ok")
    else:
        flash(f"v{version} 已是当前版本，未作更改。", "ok")
    return redirect(url_for("pages.model_version", key=key, version=version))


@bp.get("/models/<key>/diff")
@session.signed_in(*ANALYSTS)
def model_diff(key: str) -> Any:
    old = _version(key, int_arg(request.args.get("from")) or 0)
    new = _version(key, int_arg(request.args.get("to")) or 0)
    return render_template("model_diff.html", old=old, new=new, changes=engine.diff(old, new),
                           ready=built("differ"))


def _posted_files() -> list[tuple[str, bytes]]:
    """Uploaded files, or the XML the modeler or the check page posts as text fields; the
    modeler's edit of a version (``base``) goes with that version's forms and declared lanes,
    unless a file of the same name was posted with it."""
    files = [(f.filename or "upload.bpmn", f.read()) for f in request.files.getlist("file")
             if f.filename]
    names, texts = request.form.getlist("file_name"), request.form.getlist("xml")
    files += [(name or "diagram.bpmn", text.encode()) for name, text in zip(names, texts,
                                                                        strict=False) if text]
    base = db.session.get(Definition, int_arg(request.form.get("base")) or 0)
    if base is not None and files:
        posted = {PurePosixPath(name.replace("\\", "/")).name for name, _ in files}
        files += [f for f in files_of(base.forms, base.lanes) if f[0] not in posted]
    return files[:MAX_FILES]


def _uploaded() -> tuple[list[tuple[str, bytes]], list[Problem]]:
    """The upload page's files, each zip as its members, and what could not be read."""
    return expand_all(_posted_files())


def _problems(files: list[tuple[str, bytes]],
              unreadable: list[Problem] | None = None) -> list[dict[str, Any]]:
    found = (unreadable or []) + (check(files, engine.catalog()).problems if files else [])
    return [{"file": p.file, "line": p.line, "element_id": p.element_id,
             "element_name": p.element_name, "message": p.message, "text": str(p)}
            for p in found]


def _shown(files: list[tuple[str, bytes]]) -> list[tuple[str, str]]:
    """The files as text for the page (a diagram first: it is the one drawn)."""
    texts = [(name, content.decode("utf-8", "replace")) for name, content in files]
    return sorted(texts, key=lambda f: not f[0].lower().endswith((".bpmn", ".xml")))


@bp.route("/models/upload", methods=["GET", "POST"])
@session.signed_in(*ANALYSTS)
def model_upload() -> Any:
    if request.method == "GET":
        return render_template("model_upload.html", files=[], problems=None)
    files, unreadable = _uploaded()
    if not files and not unreadable:
        flash("请选择要上传的文件", "error")
        return redirect(url_for("pages.model_upload"))
    return render_template("model_upload.html", problems=_problems(files, unreadable),
                           files=_shown(files))


@bp.post("/models/validate.json")
@session.signed_in(*ANALYSTS)
def model_validate_json() -> Any:
    """The modeler's check: the same problems as ``cqpi validate``, as JSON."""
    files = _posted_files()
    return jsonify({"problems": _problems(files) if files else [
        {"file": "", "line": None, "element_id": "", "element_name": "", "message": "没有内容",
         "text": "没有内容"}]})


@bp.post("/models/deploy")
@session.signed_in(*ANALYSTS)
def model_deploy() -> Any:
    files = _posted_files()
    user = session.user()
    try:
        outcomes = deployments.deploy(files, user.username)
    except engine.DefinitionInvalid as exc:
        flash(f"校验未通过，未部署：共 {len(exc.problems)} 个问题", "error")
        return render_template("model_upload.html", problems=[
            {"element_id": p.element_id, "text": str(p)} for p in exc.problems],
            files=_shown(files)), 422
    made = [f"{o.key} v{o.version}" for o in outcomes if o.created]
    if made:
        flash("已部署：" + "，".join(made) + "。运行中的实例继续使用原版本。", "ok")
    for o in outcomes:
        if not o.created:
            flash(f"{o.key}：{deployments.said(o)}", "ok")
    first = outcomes[0]
    return redirect(url_for("pages.model_version", key=first.key, version=first.version))


@bp.get("/models/edit")
@session.signed_in(*ANALYSTS)
def model_edit() -> Any:
    definition = db.session.get(Definition, int_arg(request.args.get("definition")) or 0)
    catalog = engine.catalog()
    own_forms = {name for key, stored in ((definition.forms or {}) if definition else {}).items()
                 for name in (key, stored["id"], PurePosixPath(stored["file"]).name)}
    declared = (definition.lanes or {}) if definition else {}
    return render_template("model_edit.html", definition=definition, ready=built("modeler"),
                           groups=sorted(catalog.lanes), operations=sorted(catalog.operations),
                           form_keys=sorted(catalog.form_keys | own_forms),
                           messages=sorted(catalog.messages),
                           lane_aliases=catalog.lane_aliases, declared_lanes=declared)


@bp.post("/models/<key>/migrate")
@session.signed_in(*ANALYSTS)
def model_migrate(key: str) -> Any:
    target = _version(key, int_arg(request.form.get("to")) or 0)
    ids = sorted({int(v) for v in request.form.getlist("instance") if v.isdigit()})
    if not ids:
        flash("请先勾选要迁移的实例", "error")
        return redirect(request.referrer or url_for("pages.models"))
    results = engine.migrate(ids, target.id, actor=session.user().username)
    moved = [r.instance_id for r in results if r.ok]
    refused = [f"实例 {r.instance_id}：{r.reason}" for r in results if not r.ok]
    if moved:
        audit.record(session.user().username, "instances_migrated", f"process:{key}",
                     {"to_version": target.version, "instances": moved})
        db.session.commit()
        flash(f"已将 {len(moved)} 个实例迁移到 v{target.version}", "ok")
    for reason in refused:
        flash(reason, "error")
    return redirect(request.referrer or url_for("pages.models"))
