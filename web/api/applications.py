"""``/api/v1/applications``: open, upload, submit, withdraw, read; each for its own people."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from engine import queries
from engine.db import db
from forms.api import ApplicationIn, ApplicationOut, AttachmentOut, Page
from registry import applications as apps
from registry.models import Application, Attachment, User
from registry.queries import visible_applications
from web import workflow

from .auth import signed_in, signed_in_user

blp = Blueprint("applications", __name__, url_prefix="/api/v1/applications",
                description="申请：入库、补录、勘误、等级调整")


def visible(application_id: int, user: User) -> Application:
    """The application if ``user`` may see it, else NotFound (never a hint that it exists)."""
    application = db.session.scalar(
        visible_applications(user).where(Application.id == application_id))
    if application is None:
        raise apps.NotFound(f"申请 {application_id} 不存在")
    return application


def detail(application: Application) -> Application:
    """The application with its attachments, open tasks and history attached for dumping."""
    shown: Any = application
    shown.attachments = db.session.scalars(
        sa.select(Attachment).filter_by(application_id=application.id)).all()
    shown.open_tasks, shown.history = [], []
    if application.instance_id is not None:
        shown.open_tasks = queries.open_tasks(application.instance_id)
        shown.history = queries.history(application.instance_id)
    return application


@blp.route("")
class Applications(MethodView):
    @signed_in
    @blp.arguments(Page, location="query")
    @blp.response(200, ApplicationOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """The applications the caller may see, newest first."""
        query = visible_applications(signed_in_user()).order_by(Application.id.desc())
        page, per_page = args["page"], args["per_page"]
        return db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()

    @signed_in
    @blp.arguments(ApplicationIn)
    @blp.response(201, ApplicationOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Open a draft application; 422 names the field or the rule (R-…) that refuses it."""
        return apps.open_application(signed_in_user(), data["kind"], data["stages"],
                                     project_id=data.get("project_id"),
                                     project=data.get("project"),
                                     target_grade=data.get("target_grade"))


@blp.get("/<int(max=2147483647):application_id>")
@signed_in
@blp.response(200, ApplicationOut)
def get_application(application_id: int) -> Any:
    """One application with its attachments, open tasks and history."""
    return detail(visible(application_id, signed_in_user()))


@blp.post("/<int(max=2147483647):application_id>/attachments")
@signed_in
@blp.response(201, AttachmentOut)
@blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["kind", "file"],
    "properties": {"kind": {"type": "string"}, "file": {"type": "string", "format": "binary"}}}}}})
def upload(application_id: int) -> Any:
    """Upload one file (PDF, OFD, JPEG, PNG, checked by content) of a given kind."""
    upload = request.files.get("file")
    if upload is None:
        raise apps.FormInvalid({"file": ["「文件」必填"]})
    return apps.add_attachment(application_id, signed_in_user(), request.form.get("kind", ""),
                               upload.read(), upload.filename)


@blp.post("/<int(max=2147483647):application_id>/submit")
@signed_in
@blp.response(200, ApplicationOut)
def submit(application_id: int) -> Any:
    """Submit a draft: its procedure starts."""
    return detail(workflow.submit(application_id, signed_in_user()))


@blp.post("/<int(max=2147483647):application_id>/withdraw")
@signed_in
@blp.response(200, ApplicationOut)
def withdraw(application_id: int) -> Any:
    """Withdraw a draft (a returned application is withdrawn from its amendment task)."""
    application = apps.get_own(application_id, signed_in_user())
    if application.instance_id is not None:
        raise apps.NotAllowed("流程进行中的申请请在“修改或撤回申请”任务中撤回")
    return detail(apps.withdraw(application_id, signed_in_user()))
