"""``/api/v1/applications``: open, amend, upload, submit, withdraw, read; each for its own
people, every move through ``lifecycle``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from engine import queries
from engine.db import db
from forms.api import ApplicationAmend, ApplicationIn, ApplicationOut, AttachmentOut, Page
from lifecycle import reviews, submission
from registry import applications as apps
from registry.models import Application, Attachment, Role, User
from registry.queries import visible_applications

from .auth import signed_in, signed_in_user

blp = Blueprint("applications", __name__, url_prefix="/api/v1/applications",
                description="申请：入库、补录、勘误、等级调整")

ID = "<int(max=2147483647):application_id>"


def visible(application_id: int, user: User) -> Application:
    """The application if ``user`` may see it, else NotFound (never a hint that it exists)."""
    application = db.session.scalar(
        visible_applications(user).where(Application.id == application_id))
    if application is None:
        raise apps.NotFound(f"申请 {application_id} 不存在")
    return application


def detail(application: Application) -> Application:
    """The application with its attachments, open tasks, history and last review attached
    for dumping."""
    shown: Any = application
    shown.attachments = db.session.scalars(
        sa.select(Attachment).filter_by(application_id=application.id)).all()
    shown.open_tasks, shown.history, shown.last_review = [], [], None
    if application.instance_id is not None:
        shown.open_tasks = queries.open_tasks(application.instance_id)
        shown.history = queries.history(application.instance_id)
        shown.last_review = reviews.last_review(shown.history)
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


@blp.route(f"/{ID}")
class OneApplication(MethodView):
    @signed_in
    @blp.response(200, ApplicationOut)
    def get(self, application_id: int) -> Any:
        """One application with its attachments, open tasks, history and last review (the
        reviewer's items and reasons per stage)."""
        return detail(visible(application_id, signed_in_user()))

    @signed_in
    @blp.arguments(ApplicationAmend)
    @blp.response(200, ApplicationOut)
    def patch(self, data: dict[str, Any], application_id: int) -> Any:
        """Replace the stage data of a draft or returned application (A-4), with every check
        of opening it; 409 once it is submitted."""
        return detail(submission.amend(application_id, signed_in_user(), data["stages"]))


@blp.post(f"/{ID}/attachments")
@signed_in
@blp.response(201, AttachmentOut)
@blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["kind", "file"],
    "properties": {"kind": {"type": "string", "description": (
        "enterprise: report, commitment, application_form, evidence, authenticity_letter; "
        "reviewers: formal_document, ministry_request, ministry_reply")},
                   "file": {"type": "string", "format": "binary"}}}}}})
def upload(application_id: int) -> Any:
    """Upload one file (PDF, OFD, JPEG, PNG, checked by content) of a given kind: the
    applicant's materials while it is a draft or returned; a reviewer's formal document
    (公文) or the Ministry's letters for an application in their scope."""
    upload = request.files.get("file")
    if upload is None:
        raise apps.FormInvalid({"file": ["「文件」必填"]})
    user, kind = signed_in_user(), request.form.get("kind", "")
    if user.role in (Role.DISTRICT, Role.CITY):
        return apps.add_authority_document(visible(application_id, user), user, kind,
                                           upload.read(), upload.filename)
    return apps.add_attachment(application_id, user, kind, upload.read(), upload.filename)


def _note() -> str:
    """The optional ``note`` of a resubmission or withdrawal (修改说明), if the body has one."""
    body = request.get_json(silent=True)
    note = body.get("note") if isinstance(body, dict) else None
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise apps.FormInvalid({"note": ["「说明」应为不超过 2000 字的文字"]})
    return note or ""


@blp.post(f"/{ID}/submit")
@signed_in
@blp.response(200, ApplicationOut)
def submit(application_id: int) -> Any:
    """Submit a draft (its procedure starts), or resubmit a returned application (its answer
    to the return); 409 for any other status, or when another request submitted it first."""
    return detail(submission.submit(application_id, signed_in_user(), _note()))


@blp.post(f"/{ID}/withdraw")
@signed_in
@blp.response(200, ApplicationOut)
def withdraw(application_id: int) -> Any:
    """Withdraw a draft, or a returned application instead of amending it (A-4); 409 for an
    application under review, in publicity or decided."""
    return detail(submission.withdraw(application_id, signed_in_user(), _note()))
