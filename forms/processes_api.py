"""Schemas of the process API's answers: the versions of each process (which one is current),
what a deploy did, making a version current (analysts); the procedures a user may start,
a started instance, the instances a user started, and a task's or start event's form (the
OpenAPI document shows them)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.models import STATUS_LABELS, InstanceStatus

OUTCOMES = ("created", "unchanged", "reactivated")

STATUS_TEXT = "；".join(f"{status}：{label}" for status, label in STATUS_LABELS.items())
"""An instance's statuses and their labels, for the document."""


class VersionOut(Schema):
    version = fields.Integer()
    name = fields.String(allow_none=True)
    file_name = fields.String()
    content_hash = fields.String()
    deployed_at = fields.String(metadata={"format": "date-time"})
    deployed_by = fields.String(allow_none=True)
    activated_at = fields.String(metadata={"format": "date-time"})
    running_instances = fields.Integer()
    current = fields.Boolean(metadata={"description": "新启动的实例使用的版本（每个流程恰有一个）"})


class ProcessOut(Schema):
    key = fields.String()
    current_version = fields.Integer()
    versions = fields.List(fields.Nested(VersionOut), metadata={"description": "新版本在前"})


class DeployedOut(Schema):
    key = fields.String()
    version = fields.Integer(metadata={"description": "内容与上传文件相同的版本"})
    outcome = fields.String(validate=validate.OneOf(OUTCOMES), metadata={
        "description": "created：新版本，成为当前版本；unchanged：与当前版本相同，未产生新版本；"
                       "reactivated：与早先的某个版本相同，该版本重新成为当前版本"})
    created = fields.Boolean(metadata={"description": "outcome 为 created"})
    before = fields.Integer(allow_none=True, metadata={"description": "部署前的当前版本"})
    message = fields.String()


class DeployOut(Schema):
    deployed = fields.List(fields.Nested(DeployedOut))


class ActivatedOut(Schema):
    key = fields.String()
    version = fields.Integer()
    current = fields.Boolean(metadata={"description": "总为 true：该版本现为当前版本"})
    changed = fields.Boolean(metadata={"description": "false：该版本此前已是当前版本"})
    before = fields.Integer(metadata={"description": "此前的当前版本"})
    message = fields.String()


class FormOut(Schema):
    key = fields.String(allow_none=True,
                        metadata={"description": "表单的 formKey（无表单时为 null）"})
    kind = fields.String(validate=validate.OneOf(("marshmallow", "form-js", "json-schema", "none")),
                         metadata={"description": "marshmallow：系统表单；form-js、json-schema："
                                                  "随流程部署的表单；none：没有表单，提交 {}"})
    schema = fields.Dict(metadata={"description": "表单数据的 JSON Schema（2020-12）"})
    document = fields.Dict(allow_none=True, metadata={
        "description": "随流程部署的表单文档（form-js 或 JSON Schema），系统表单为 null"})


class StartableOut(Schema):
    key = fields.String()
    name = fields.String(allow_none=True)
    version = fields.Integer(metadata={"description": "启动时使用的当前版本"})
    lane = fields.String(metadata={"description": "开始事件所在泳道"})
    has_start_form = fields.Boolean()
    start_form = fields.String(allow_none=True, metadata={"description": "开始表单的 formKey"})


class StartedOut(Schema):
    instance_id = fields.Integer()
    business_key = fields.String(metadata={"description": "流程标识-年月日-6 位随机字符"})
    process = fields.String()
    version = fields.Integer()
    message = fields.String()



class StartedInstanceOut(Schema):
    instance_id = fields.Integer()
    business_key = fields.String(allow_none=True, metadata={
        "description": "业务编号：办理其他事项启动的为“流程标识-年月日-6 位随机字符”，"
                       "申请的流程为 application-申请编号"})
    process = fields.String(metadata={"description": "流程标识（BPMN 流程 id）"})
    process_name = fields.String(allow_none=True, metadata={"description": "流程（事项）名称"})
    version = fields.Integer(metadata={"description": "实例运行的流程版本"})
    status = fields.String(validate=validate.OneOf([s.value for s in InstanceStatus]),
                           metadata={"description": STATUS_TEXT})
    status_label = fields.String(metadata={"description": "状态的中文名称"})
    started_at = fields.DateTime(metadata={"description": "发起时间（UTC）"})
    ended_at = fields.DateTime(allow_none=True,
                               metadata={"description": "结束时间（UTC），未结束为 null"})
    current_tasks = fields.List(fields.String(), metadata={
        "description": "当前环节：实例正在等待办理的用户任务名称，按产生先后；"
                       "等待系统处理、期限或消息，或已结束时为空列表"})
