"""How people call the codes the pages show: roles, kinds, statuses, lanes, events."""

from __future__ import annotations

from forms.project import CATEGORIES  # noqa: F401  (re-exported: a project's category)
from registry.attachments import KINDS as ATTACHMENT_KINDS  # noqa: F401  (re-exported)
from registry.models import LABELS

ROLES = {"enterprise": "企业用户", "district_reviewer": "区县审核人员",
         "city_reviewer": "市级审核人员", "ops": "运维人员", "analyst": "流程分析人员",
         "admin": "系统管理员"}

KINDS = {"intake": "入库", "backfill": "补录", "correction": "勘误", "grade_adjust": "等级调整"}

STATUSES = LABELS
"""An application's status (one label per status, shared with the API and the notices)."""

GROUPS = {"参建单位": "申请单位", "区县住建主管部门": "区县住房城乡建设主管部门",
          "市住建委": "市住房城乡建设委员会"}

EVENTS = {"instance_started": "流程启动", "task_completed": "办理完成",
          "job_succeeded": "系统处理完成", "job_failed": "系统处理失败",
          "timer_fired": "期限到达", "message_received": "收到消息",
          "instance_completed": "流程结束", "instance_suspended": "流程暂停",
          "instance_resumed": "流程恢复", "instance_terminated": "流程终止",
          "instance_retried": "重试", "incident_opened": "出现故障",
          "instance_modified": "移动实例",
          "application_opened": "创建申请", "attachment_added": "上传材料",
          "application_submitted": "提交申请", "application_withdrawn": "撤回申请",
          "application_amended": "修改申报信息", "application_returned": "申请被退回",
          "application_in_publicity": "进入公示", "application_objection": "公示收到异议",
          "application_pushing": "开始推送全国平台", "application_push_failed": "推送失败",
          "application_approved": "办结", "application_rejected": "未获同意"}

NOTICE_STATUSES = {"open": "公示中", "paused": "公示暂停（异议处理中）", "due": "公示期满",
                   "closed": "公示结束", "stopped": "公示终止（异议成立）"}
"""A publicity notice as the public sees it (registry.publicity.shown_status; A-1, A-3)."""

ELEMENT_TYPES = {"userTask": "用户任务", "serviceTask": "服务任务", "scriptTask": "脚本任务",
                 "task": "任务", "sequenceFlow": "连线", "exclusiveGateway": "排他网关",
                 "parallelGateway": "并行网关", "inclusiveGateway": "包容网关",
                 "eventBasedGateway": "事件网关", "startEvent": "开始事件", "endEvent": "结束事件",
                 "intermediateCatchEvent": "中间捕获事件", "boundaryEvent": "边界事件",
                 "intermediateThrowEvent": "中间抛出事件", "callActivity": "调用活动",
                 "subProcess": "子流程", "lane": "泳道"}
