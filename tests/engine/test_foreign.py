"""Diagrams from Camunda Modeler (Camunda 7 and 8) and spiff-arena, adapted to the engine's
dialect (engine.foreign, issue 17): each mapping, each refusal naming its element, odd input
that never raises, and two Modeler diagrams deployed and run to their end."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any, cast

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine.db import db
from engine.diff import diff
from engine.foreign import adapt
from engine.foreign.tree import xp
from engine.models import Definition, Instance, UserTask
from engine.parsed import Extras
from engine.state import data_of
from engine.validation import parse_xml, validate
from registry import users
from tests.conftest import BPMN, CALLS, test_catalog, work
from tests.web.test_api import login

FORM = ("enterprise_self_check.form", (BPMN / "enterprise_self_check.form").read_bytes())
ROLES = {"enterprise": "参建单位", "district_reviewer": "区县住建主管部门"}

HEAD = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="D" targetNamespace="t">'
        '<bpmn:process id="p" isExecutable="true">')


def _adapted(body: str) -> tuple[Any, list[str]]:
    root, problems = parse_xml("t.bpmn", f"{HEAD}{body}</bpmn:process></bpmn:definitions>"
                               .encode())
    assert root is not None, problems
    found = adapt("t.bpmn", root, ROLES.get)
    return root, [str(p) for p in found]


def _xp(root: Any, path: str) -> list[Any]:
    return xp(root, path)


def _property(root: Any, name: str) -> list[str]:
    return _xp(root, f"//spiffworkflow:property[@name='{name}']/@value")


def _user_task(attrs: str = "", extensions: str = "") -> str:
    inner = f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>" if extensions else ""
    return f'<bpmn:userTask id="T" {attrs}>{inner}</bpmn:userTask>'


@pytest.mark.parametrize(("attrs", "extensions", "key"), [
    ('camunda:formKey="camunda-forms:deployment:self_check.form"', "", "self_check.form"),
    ('camunda:formRef="self_check" camunda:formRefBinding="latest"', "", "self_check"),
    ('camunda:formKey="test_form"', "", "test_form"),
    ("", '<zeebe:formDefinition formId="self_check"/>', "self_check"),
    ("", '<zeebe:formDefinition formKey="camunda-forms:deployment:a.form"/>', "a.form"),
    ("", '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
         'value="check-schema.json"/><spiffworkflow:property name="formUiSchemaFilename" '
         'value="check-uischema.json"/></spiffworkflow:properties>', "check-schema.json"),
])
def test_a_user_tasks_form_becomes_its_form_key(attrs: str, extensions: str, key: str) -> None:
    root, problems = _adapted(_user_task(attrs, extensions))
    assert problems == [] and _property(root, "formKey") == [key]


def test_a_native_form_key_wins_and_adapting_twice_changes_nothing() -> None:
    root, problems = _adapted(
        '<bpmn:userTask id="T" camunda:formKey="camunda-forms:deployment:b.form" '
        'camunda:candidateGroups="enterprise"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formKey" value="a.form"/></spiffworkflow:properties>'
        "</bpmn:extensionElements></bpmn:userTask>")
    again = adapt("t.bpmn", root, ROLES.get)
    assert problems == [] == again and _property(root, "formKey") == ["a.form"]
    assert len(_xp(root, "//bpmn:lane")) == 1 and len(_xp(root, "//bpmn:flowNodeRef")) == 1


@pytest.mark.parametrize(("attrs", "extensions", "lane"), [
    ('camunda:candidateGroups="enterprise"', "", "enterprise"),
    ('camunda:candidateGroups=" enterprise , enterprise "', "", "enterprise"),
    ("", '<zeebe:assignmentDefinition candidateGroups="district_reviewer" assignee="=initiator"'
         "/>", "district_reviewer"),
    ("", '<zeebe:assignmentDefinition candidateGroups="=[&#34;enterprise&#34;]"/>', "enterprise"),
])
def test_candidate_groups_become_the_tasks_lane(attrs: str, extensions: str, lane: str) -> None:
    root, problems = _adapted(_user_task(attrs, extensions))
    assert problems == []
    assert [(n.get("name"), r.text) for n in _xp(root, "//bpmn:lane")
            for r in _xp(n, "bpmn:flowNodeRef")] == [(lane, "T")]


def test_a_candidate_group_moves_the_task_out_of_its_decorative_lane() -> None:
    root, problems = _adapted(
        '<bpmn:laneSet id="S"><bpmn:lane id="L1" name="区里"><bpmn:flowNodeRef>T</bpmn:flowNodeRef>'
        '<bpmn:flowNodeRef>E</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>'
        '<bpmn:startEvent id="E"/><bpmn:userTask id="T" camunda:candidateGroups="enterprise"/>')
    assert problems == []
    lanes = {n.get("name"): [r.text for r in _xp(n, "bpmn:flowNodeRef")]
             for n in _xp(root, "//bpmn:lane")}
    assert lanes == {"区里": ["E"], "enterprise": ["T"]}


def test_a_start_events_form_and_starters_are_read() -> None:
    root, problems = _adapted(
        '<bpmn:startEvent id="S" camunda:formKey="camunda-forms:deployment:start.form"/>'
        '<bpmn:startEvent id="M"><bpmn:messageEventDefinition id="D1"/></bpmn:startEvent>')
    assert problems == [] and _property(root, "formKey") == ["start.form"]
    assert _xp(root, "//bpmn:lane") == []
    process = _xp(root, "//bpmn:process")[0]
    process.set("{http://camunda.org/schema/1.0/bpmn}candidateStarterGroups", "enterprise")
    assert adapt("t.bpmn", root, ROLES.get) == []
    assert [(n.get("name"), [r.text for r in _xp(n, "bpmn:flowNodeRef")])
            for n in _xp(root, "//bpmn:lane")] == [("enterprise", ["S"])]


def test_the_lane_is_what_spiffworkflow_reports_for_the_task() -> None:
    [process] = validate([(n, (BPMN / n).read_bytes()) for n in ["camunda8_self_check.bpmn"]]
                         + [FORM], test_catalog()).processes
    specs = process.specs["spec"]["task_specs"]
    assert specs["Activity_Fill"]["lane"] == "参建单位"
    assert specs["Activity_Review"]["lane"] == "区县住建主管部门"
    assert specs["Activity_Fill"]["extensions"]["properties"] == {
        "formKey": "enterprise_self_check", "dueIn": "P5D"}


@pytest.mark.parametrize(("text", "engine_text"), [
    ("${submitted == true}", "(submitted == True)"),
    ("${!submitted}", "(not submitted)"),
    ("=approved", "data_get('approved')"),
    ("decision == 'yes'", "decision == 'yes'"),
])
def test_conditions_are_translated(text: str, engine_text: str) -> None:
    root, problems = _adapted(
        '<bpmn:sequenceFlow id="F" sourceRef="a" targetRef="b"><bpmn:conditionExpression '
        f'xsi:type="bpmn:tFormalExpression">{text}</bpmn:conditionExpression></bpmn:sequenceFlow>')
    assert problems == [] and _xp(root, "//bpmn:conditionExpression")[0].text == engine_text


@pytest.mark.parametrize(("kind", "text", "engine_text"), [
    ("timeDuration", "PT5M", "'PT5M'"),
    ("timeCycle", "R3/PT10M", "'R3/PT10M'"),
    ("timeDate", "2026-01-01T00:00:00Z", "'2026-01-01T00:00:00Z'"),
    ("timeDuration", '"PT1H"', '"PT1H"'),
    ("timeDuration", "${wait}", "wait"),
])
def test_timers_are_quoted_or_translated(kind: str, text: str, engine_text: str) -> None:
    root, problems = _adapted(
        f'<bpmn:intermediateCatchEvent id="W"><bpmn:timerEventDefinition id="D1"><bpmn:{kind}>'
        f"{text}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")
    assert problems == [] and _xp(root, f"//bpmn:{kind}")[0].text == engine_text


def test_external_tasks_and_job_workers_call_operations_with_their_inputs() -> None:
    root, problems = _adapted(
        '<bpmn:serviceTask id="A" camunda:type="external" camunda:topic="test.echo" '
        'camunda:asyncBefore="true"><bpmn:extensionElements><camunda:inputOutput>'
        '<camunda:inputParameter name="n">${count + 1}</camunda:inputParameter>'
        "</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>"
        '<bpmn:serviceTask id="B"><bpmn:extensionElements><zeebe:taskDefinition type="push"/>'
        '<zeebe:ioMapping><zeebe:input source="=x" target="y"/></zeebe:ioMapping>'
        "</bpmn:extensionElements></bpmn:serviceTask>")
    assert problems == []
    operators = _xp(root, "//spiffworkflow:serviceTaskOperator")
    assert [o.get("id") for o in operators] == ["test.echo", "push"]
    assert [(p.get("id"), p.get("value")) for p in _xp(root, "//spiffworkflow:parameter")] == [
        ("n", "(count + 1)"), ("y", "data_get('x')")]


def test_a_send_task_run_by_a_worker_is_a_service_task() -> None:
    root, problems = _adapted(
        '<bpmn:sendTask id="A" messageRef="M"><bpmn:extensionElements><zeebe:taskDefinition '
        'type="test.echo"/></bpmn:extensionElements></bpmn:sendTask>')
    [task] = _xp(root, "//bpmn:serviceTask")
    assert problems == [] and task.get("messageRef") is None
    assert _xp(task, "bpmn:extensionElements/spiffworkflow:serviceTaskOperator/@id") == [
        "test.echo"]


@pytest.mark.parametrize(("language", "text", "engine_text"), [
    ("https://www.omg.org/spec/DMN/20191111/FEEL/", 'status = "ok"',
     "(data_get('status') == 'ok')"),
    ("feel", "=approved", "data_get('approved')"),
])
def test_a_condition_in_feel_is_read_with_or_without_its_equals_sign(
        language: str, text: str, engine_text: str) -> None:
    root, problems = _adapted(
        '<bpmn:sequenceFlow id="F" sourceRef="a" targetRef="b"><bpmn:conditionExpression '
        f'language="{language}">{text}</bpmn:conditionExpression></bpmn:sequenceFlow>')
    assert problems == [] and _xp(root, "//bpmn:conditionExpression")[0].text == engine_text


def test_a_feel_script_becomes_an_assignment() -> None:
    root, problems = _adapted(
        '<bpmn:scriptTask id="S"><bpmn:extensionElements><zeebe:script expression="=a + 1" '
        'resultVariable="b"/></bpmn:extensionElements></bpmn:scriptTask>')
    assert problems == []
    assert _xp(root, "//bpmn:script")[0].text.startswith("b = ")


def test_a_called_process_id_becomes_called_element() -> None:
    root, problems = _adapted(
        '<bpmn:callActivity id="C"><bpmn:extensionElements><zeebe:calledElement processId="sub" '
        'propagateAllChildVariables="false"/></bpmn:extensionElements></bpmn:callActivity>')
    assert problems == [] and _xp(root, "//bpmn:callActivity")[0].get("calledElement") == "sub"


@pytest.mark.parametrize(("body", "message"), [
    ('<bpmn:serviceTask id="X" camunda:class="org.example.Notify"/>', "Java 委托不受支持"),
    ('<bpmn:serviceTask id="X" camunda:delegateExpression="${notifier}"/>', "Java 委托不受支持"),
    ('<bpmn:serviceTask id="X" camunda:expression="${bean.run()}"/>', "Java 委托不受支持"),
    ('<bpmn:userTask id="X" camunda:formKey="camunda-forms:app:forms/a.form"/>', "应用内的表单"),
    ('<bpmn:userTask id="X" camunda:formKey="app:forms/a.jsf"/>', "应用内的表单"),
    ('<bpmn:userTask id="X" camunda:formKey="embedded:app:forms/a.html"/>', "嵌入式 HTML 表单"),
    ('<bpmn:userTask id="X" camunda:formKey="forms/a.jsf"/>', "JSF/HTML 表单不受支持"),
    ('<bpmn:userTask id="X"><bpmn:extensionElements><camunda:formData><camunda:formField '
     'id="a" type="string"/></camunda:formData></bpmn:extensionElements></bpmn:userTask>',
     "生成式表单"),
    ('<bpmn:userTask id="X" camunda:candidateGroups="enterprise,district_reviewer"/>',
     "不是同一个办理角色"),
    ('<bpmn:userTask id="X" camunda:candidateGroups="${group}"/>', "须是固定的名称"),
    ('<bpmn:userTask id="X" camunda:dueDate="${dateTime().plusDays(2)}"/>', "期限"),
    ('<bpmn:userTask id="X"><bpmn:extensionElements><camunda:taskListener event="create" '
     'class="a.B"/><camunda:executionListener event="end" class="a.C"/>'
     "</bpmn:extensionElements></bpmn:userTask>", "监听器不受支持"),
    ('<bpmn:userTask id="X"><bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter'
     ' name="a">1</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements>'
     "</bpmn:userTask>", "输入输出映射不受支持"),
    ('<bpmn:serviceTask id="X" camunda:type="external" camunda:topic="t"><bpmn:extensionElements>'
     '<camunda:inputOutput><camunda:outputParameter name="a">${b}</camunda:outputParameter>'
     "</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>", "输出映射"),
    ('<bpmn:serviceTask id="X"><bpmn:extensionElements><zeebe:taskDefinition type="=kind"/>'
     "</bpmn:extensionElements></bpmn:serviceTask>", "须是固定的名称"),
    ('<bpmn:businessRuleTask id="X" camunda:decisionRef="d"/>', "DMN"),
    ('<bpmn:scriptTask id="X" scriptFormat="groovy"><bpmn:script>x = 1</bpmn:script>'
     "</bpmn:scriptTask>", "脚本语言 “groovy” 不受支持"),
    ('<bpmn:sequenceFlow id="X" sourceRef="a" targetRef="b"><bpmn:conditionExpression '
     'language="javascript">a == 1</bpmn:conditionExpression></bpmn:sequenceFlow>',
     "表达式语言 “javascript” 不受支持"),
    ('<bpmn:sequenceFlow id="X" sourceRef="a" targetRef="b"><bpmn:conditionExpression '
     'language="feel">Vacation Approval = "Approved"</bpmn:conditionExpression>'
     "</bpmn:sequenceFlow>",
     "不可用"),
    ('<bpmn:sequenceFlow id="X" sourceRef="a" targetRef="b"><bpmn:conditionExpression>'
     "${execution.getVariable('a')}</bpmn:conditionExpression></bpmn:sequenceFlow>", "不可用"),
    ('<bpmn:userTask id="X"><bpmn:multiInstanceLoopCharacteristics camunda:collection="${items}"'
     ' camunda:elementVariable="item"/></bpmn:userTask>', "多实例的集合表达式"),
    ('<bpmn:callActivity id="X" calledElement="s"><bpmn:extensionElements><camunda:in source="a"'
     ' target="b"/></bpmn:extensionElements></bpmn:callActivity>', "调用活动的变量映射"),
])
def test_what_cannot_be_mapped_is_refused_once_on_its_element(body: str, message: str) -> None:
    _, problems = _adapted(body)
    assert len(problems) == 1 and message in problems[0], problems
    assert ": X (-): " in problems[0]


def test_a_refused_element_is_not_named_again_by_the_later_checks() -> None:
    body = '<bpmn:startEvent id="S"/><bpmn:userTask id="X" camunda:formKey="app:a.jsf"/>'
    content = f"{HEAD}{body}</bpmn:process></bpmn:definitions>".encode()
    problems = [p for p in validate([("t.bpmn", content)], test_catalog()).problems
                if p.element_id == "X"]
    assert len(problems) == 1 and "应用内的表单" in problems[0].message


HOSTILE = [
    '<bpmn:userTask id="X" camunda:candidateGroups="=[1, 2]"/>',
    '<bpmn:userTask id="X" camunda:candidateGroups="=["/>',
    '<bpmn:userTask id="X" camunda:candidateGroups=","/>',
    '<bpmn:userTask id="X" camunda:formKey=""/><bpmn:userTask camunda:candidateGroups="a"/>',
    '<bpmn:userTask id="X"><bpmn:extensionElements><zeebe:formDefinition/>'
    "<zeebe:assignmentDefinition/><zeebe:taskSchedule/></bpmn:extensionElements></bpmn:userTask>",
    '<bpmn:serviceTask id="X"><bpmn:extensionElements><zeebe:taskDefinition/><zeebe:ioMapping>'
    '<zeebe:input/><!-- c --></zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>',
    '<bpmn:serviceTask id="X" camunda:type="external"><bpmn:extensionElements>'
    "<camunda:inputOutput><camunda:inputParameter/></camunda:inputOutput>"
    "</bpmn:extensionElements></bpmn:serviceTask>",
    '<bpmn:scriptTask id="X"><bpmn:extensionElements><zeebe:script/></bpmn:extensionElements>'
    "</bpmn:scriptTask>",
    '<bpmn:scriptTask id="X"><bpmn:extensionElements><zeebe:script expression="=(((" '
    'resultVariable="r"/></bpmn:extensionElements></bpmn:scriptTask>',
    '<bpmn:callActivity id="X"><bpmn:extensionElements><zeebe:calledElement/>'
    "</bpmn:extensionElements></bpmn:callActivity>",
    '<bpmn:laneSet><bpmn:lane><bpmn:flowNodeRef/></bpmn:lane></bpmn:laneSet>'
    '<bpmn:userTask id="X" camunda:candidateGroups="enterprise"/>',
    '<bpmn:intermediateCatchEvent id="X"><bpmn:timerEventDefinition><bpmn:timeDuration>'
    '=duration("PT5M")</bpmn:timeDuration></bpmn:timerEventDefinition>'
    "</bpmn:intermediateCatchEvent>",
    '<bpmn:sequenceFlow id="X" sourceRef="a" targetRef="b"><bpmn:conditionExpression>'
    + "${" + "(" * 500 + "}</bpmn:conditionExpression></bpmn:sequenceFlow>",
    '<camunda:executionListener/><zeebe:ioMapping/>',
]


@pytest.mark.parametrize("body", HOSTILE)
def test_odd_foreign_xml_never_raises(body: str) -> None:
    content = f"{HEAD}{body}</bpmn:process></bpmn:definitions>".encode()
    result = validate([("t.bpmn", content)], test_catalog())
    assert all(isinstance(str(p), str) for p in result.problems)
    _adapted(body)


def test_a_deployed_foreign_diagram_is_adapted_again_when_called() -> None:
    name = "camunda7_self_check.bpmn"
    content = (BPMN / name).read_bytes()
    parent = (f'{HEAD}<bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>'
              '<bpmn:callActivity id="C" calledElement="camunda7_self_check"><bpmn:incoming>F1'
              '</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:callActivity>'
              '<bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>'
              '<bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="C"/>'
              '<bpmn:sequenceFlow id="F2" sourceRef="C" targetRef="E"/>'
              "</bpmn:process></bpmn:definitions>").encode()
    library = [("camunda7_self_check", name, content, Extras({}, {}))]
    result = validate([("parent.bpmn", parent)], test_catalog(), library)
    assert result.problems == []
    sub = result.processes[0].specs["subprocess_specs"]["camunda7_self_check"]["task_specs"]
    assert sub["Activity_Fill"]["lane"] == "参建单位"
    assert sub["Activity_Notify"]["operation_name"] == "test.echo"


@pytest.mark.parametrize("name", ["camunda7_self_check.bpmn", "camunda8_self_check.bpmn"])
@pytest.mark.parametrize("submitted", [True, False])
def test_a_modeler_diagram_deploys_over_the_api_and_runs_to_its_end(app: Flask, name: str,
                                                       submitted: bool) -> None:
    users.create_user("analyst", "password-123", "analyst", "流程管理员")
    db.session.commit()
    client = app.test_client()
    answer = client.post("/api/v1/processes", headers=login(client, "analyst"),
                         content_type="multipart/form-data", data={"file": [
                             (io.BytesIO((BPMN / name).read_bytes()), name),
                             (io.BytesIO(FORM[1]), FORM[0])]})
    assert answer.status_code == 201, answer.get_json()
    [deployed] = answer.get_json()["deployed"]
    instance = engine.start(deployed["key"], business_key="ZC-2026-1")
    [fill] = db.session.scalars(sa.select(UserTask).filter_by(instance_id=instance.id))
    assert (fill.candidate_group, fill.element_id) == ("参建单位", "Activity_Fill")
    assert fill.form_key is not None and fill.form_key.startswith("enterprise_self_check")
    assert fill.due_at is not None
    engine.complete_task(fill.id, {"project_name": "滨江花园二期", "amount": 1200,
                                   "submitted": submitted}, actor="qiye01")
    if submitted:
        [review] = db.session.scalars(sa.select(UserTask).filter_by(
            instance_id=instance.id, status="open"))
        assert review.candidate_group == "区县住建主管部门"
        engine.complete_task(review.id, {}, actor="quxian01")
        work(app)
        assert [c["params"] for c in CALLS.seen] == [{"title": "滨江花园二期", "kind": "年度自查"}]
    db.session.expire_all()
    done = db.session.get(Instance, instance.id)
    assert done is not None and done.status == "completed"
    if submitted:
        assert data_of(done.state)["echo"] == {"title": "滨江花园二期", "kind": "年度自查"}


def test_versions_are_compared_as_the_engine_reads_them() -> None:
    content = (BPMN / "camunda7_self_check.bpmn").read_bytes()
    changed = content.replace(b'camunda:candidateGroups="district_reviewer"',
                              b'camunda:candidateGroups="enterprise"')
    old, new = (cast(Definition, SimpleNamespace(key="camunda7_self_check", bpmn=c,
                                                 file_name="camunda7_self_check.bpmn"))
                for c in (content, changed))
    review = next(c for c in diff(old, new) if c.element_id == "Activity_Review")
    assert any("district_reviewer" in d and "enterprise" in d for d in review.details), review


def _embedded(form: str) -> list[tuple[str, bytes]]:
    """camunda8_self_check.bpmn with its form kept inside it, as Modeler wrote before 8.3."""
    text = (BPMN / "camunda8_self_check.bpmn").read_text()
    text = text.replace('formId="enterprise_self_check"',
                        'formKey="camunda-forms:bpmn:userTaskForm_1"')
    text = text.replace('isExecutable="true">', 'isExecutable="true"><bpmn:extensionElements>'
                        f'<zeebe:userTaskForm id="userTaskForm_1">{form}</zeebe:userTaskForm>'
                        "</bpmn:extensionElements>", 1)
    return [("c8.bpmn", text.encode())]


def test_a_form_kept_inside_the_diagram_is_deployed_with_it() -> None:
    result = validate(_embedded(FORM[1].decode()), test_catalog())
    assert result.problems == []
    [process] = result.processes
    assert list(process.forms) == ["userTaskForm_1.form"]
    assert process.forms["userTaskForm_1.form"]["document"]["id"] == "enterprise_self_check"


def test_a_broken_form_inside_the_diagram_is_named() -> None:
    lines = [str(p) for p in validate(_embedded("{not json"), test_catalog()).problems]
    assert len(lines) == 1 and "userTaskForm_1" in lines[0] and "内嵌表单" in lines[0], lines
