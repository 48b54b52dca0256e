"""``/api/v1/projects``: the projects the caller may see, with stage records and grades."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from engine.db import db
from forms.api import ProjectOut, ProjectQuery
from registry import applications as apps
from registry.models import Project
from registry.queries import stage_records, visible_projects

from .auth import signed_in, signed_in_user

blp = Blueprint("projects", __name__, url_prefix="/api/v1/projects", description="项目")


@blp.get("")
@signed_in
@blp.arguments(ProjectQuery, location="query")
@blp.response(200, ProjectOut(many=True))
def list_projects(args: dict[str, Any]) -> Any:
    query = visible_projects(signed_in_user()).order_by(Project.id)
    if args.get("number"):
        query = query.where(Project.project_number == args["number"])
    page, per_page = args["page"], args["per_page"]
    return db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()


@blp.get("/<int(max=2147483647):project_id>")
@signed_in
@blp.response(200, ProjectOut)
def get_project(project_id: int) -> Any:
    """One project with its stage records (grade, source, locks, current data)."""
    project = db.session.scalar(visible_projects(signed_in_user()).where(Project.id == project_id))
    if project is None:
        raise apps.NotFound(f"项目 {project_id} 不存在")
    shown: Any = project
    shown.stages = stage_records(project.id)
    return project
