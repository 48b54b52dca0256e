"""Schemas of the JSON API's requests and answers (the OpenAPI document is generated from
them; stage data and task forms are validated by their own schemas in this package)."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_dump, validate

from engine.db import db
from engine.faults import explain
from engine.models import Instance, InstanceStatus
from registry import deadlines

from .base import FormSchema


class SignIn(FormSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"label": "用户名"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=256),
                             load_only=True, metadata={"label": "密码"})


class UserOut(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    organisation_id = fields.Integer(allow_none=True)
    jurisdiction_code = fields.String(allow_none=True)


class Token(Schema):
    token = fields.String()
    expires_in = fields.Integer()
    user = fields.Nested(UserOut)


class ApplicationIn(FormSchema):
    kind = fields.String(required=True, validate=validate.OneOf(
        ["intake", "backfill", "correction", "grade_adjust"],
        error="「申请类型」应为 intake、backfill、correction 或 grade_adjust"),
        metadata={"label": "申请类型"})
    project_id = fields.Integer(allow_none=True, validate=validate.Range(
        min=1, max=2**31 - 1, error="「已有项目」不存在"), metadata={"label": "已有项目"})
    project = fields.Dict(allow_none=True, metadata={"label": "新项目"})
    stages = fields.Dict(required=True, metadata={"label": "各环节数据"})
    target_grade = fields.String(allow_none=True, validate=validate.OneOf(["B", "A"]),
                                 metadata={"label": "目标等级"})


class AttachmentOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    display_name = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    created_at = fields.DateTime()


class TaskOut(Schema):
    id = fields.String()
    name = fields.String()
    element_id = fields.String()
    form_key = fields.String(allow_none=True)
    candidate_group = fields.String(allow_none=True)
    scope = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    instance_id = fields.Integer()
    working_days_left = fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "working days after today up to the last day (A-8); negative: the "
                       "working days it is overdue by; null without a due date"})
    overdue = fields.Boolean(dump_only=True)
    due_text = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "the due date as people read it: 12月15日（剩 3 个工作日）, "
                       "12月15日（已超期 2 个工作日）"})
    suspended = fields.Boolean(dump_only=True, metadata={
        "description": "its procedure is suspended by ops: shown, but completing it is "
                       "refused (409) until it is resumed"})

    @post_dump(pass_original=True)
    def _deadline(self, data: dict[str, Any], task: Any, **_: Any) -> dict[str, Any]:
        deadline = deadlines.describe(getattr(task, "due_at", None))
        instance = db.session.get(Instance, task.instance_id)
        return {**data, "working_days_left": deadline and deadline.working_days_left,
                "overdue": bool(deadline and deadline.overdue),
                "due_text": deadline and deadline.text,
                "suspended": instance is not None and instance.status == InstanceStatus.SUSPENDED}


class EventOut(Schema):
    kind = fields.String()
    element_id = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ApplicationAmend(FormSchema):
    stages = fields.Dict(required=True, metadata={"label": "各环节数据"})


class ApplicationOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String(metadata={"description": "draft, submitted, returned, in_publicity, "
                                     "objection, pushing, push_failed, approved, rejected, "
                                     "withdrawn"})
    status_label = fields.String(metadata={"description": "the status in Chinese"})
    project_id = fields.Integer()
    project_name = fields.Function(lambda a: a.project.name)
    project_number = fields.Function(lambda a: a.project.project_number)
    stages = fields.List(fields.String())
    data = fields.Dict()
    target_grade = fields.String(allow_none=True)
    rounds = fields.Integer()
    instance_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentOut), dump_default=list)
    open_tasks = fields.List(fields.Nested(TaskOut), dump_default=list)
    history = fields.List(fields.Nested(EventOut), dump_default=list)
    last_review = fields.Dict(allow_none=True, dump_default=None, metadata={
        "description": "the last item-by-item review: at, by, decision, items, comment, "
                       "reasons by item, and the applicant's amendment_note"})


class Query(FormSchema):
    """A query string: messages in Chinese; parameters it does not know are ignored (a
    cache buster, a link's tracking tag), not refused."""

    class Meta:
        unknown = EXCLUDE


class Page(Query):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000),
                          metadata={"label": "页码"})
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100),
                              metadata={"label": "每页条数"})


class TaskQuery(Page):
    form_key = fields.String(validate=validate.Length(max=64), metadata={"label": "表单"})
    process = fields.String(validate=validate.OneOf(
        ["intake", "backfill", "correction", "grade_adjust", "publicity_and_push",
         "monthly_sampling", "key_inspection"]), metadata={"label": "流程"})
    mine = fields.Boolean(load_default=False, metadata={"label": "只看我认领的"})
    overdue = fields.Boolean(load_default=False, metadata={"label": "只看已超期的"})
    jurisdiction = fields.String(validate=validate.Length(max=12),
                                 metadata={"label": "项目所在区县（区划代码）"})


class NoticeOut(Schema):
    id = fields.Integer()
    title = fields.String()
    published = fields.Dict()
    opened_at = fields.DateTime()
    closes_at = fields.DateTime()
    status = fields.String()


class InstanceQuery(Page):
    status = fields.String(validate=validate.OneOf(
        ["running", "waiting", "completed", "error", "suspended", "terminated"]),
        metadata={"label": "状态"})
    process = fields.String(validate=validate.Length(max=200), metadata={"label": "流程"})
    business_key = fields.String(validate=validate.Length(max=200),
                                 metadata={"label": "业务编号"})
    has_incident = fields.Boolean(metadata={"label": "有故障"})


class Reason(FormSchema):
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=500), metadata={"label": "原因"})


class RequiredReason(FormSchema):
    """An ops operation that must say why (a retry): the reason goes into the history."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"label": "原因"})


class Modification(FormSchema):
    """An instance moved back to an element it passed (ops): why, and the service tasks
    (element ids) that the move may cancel before they completed."""

    target = fields.String(required=True, validate=validate.Length(min=1, max=200),
                           metadata={"label": "目标环节"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"label": "原因"})
    skip = fields.List(fields.String(validate=validate.Length(max=200)), load_default=list,
                       validate=validate.Length(max=100), metadata={"label": "确认跳过的系统环节"})


class IncidentOut(Schema):
    id = fields.Integer()
    element_id = fields.String()
    cause = fields.Function(lambda incident: explain(incident.error).cause)
    error = fields.Function(lambda incident: explain(incident.error).detail)
    attempts = fields.Integer()
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)


class ProjectQuery(Page):
    number = fields.String(validate=validate.Length(max=16), metadata={"label": "项目编号"})


class StageRecordOut(Schema):
    stage = fields.String()
    contract_key = fields.String()
    grade = fields.String(allow_none=True)
    source = fields.String()
    version = fields.Integer()
    from_permit_system = fields.Boolean()
    used_for_qualification = fields.Boolean()
    marked_false = fields.Boolean()
    payload = fields.Dict()


class ProjectOut(Schema):
    id = fields.Integer()
    project_number = fields.String(allow_none=True)
    name = fields.String()
    category = fields.String()
    sector = fields.String(allow_none=True)
    location_code = fields.String()
    city_managed = fields.Boolean()
    managing_code = fields.String(allow_none=True)
    on_national_platform = fields.Boolean()
    general_project_id = fields.Integer(allow_none=True)
    stages = fields.List(fields.Nested(StageRecordOut), dump_default=list)


class NotificationOut(Schema):
    id = fields.Integer()
    title = fields.String()
    link = fields.String(allow_none=True)
    created_at = fields.DateTime()
