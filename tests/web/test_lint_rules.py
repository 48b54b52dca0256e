"""The modeler's lint rules (web/assets/modeler/rules/) say what the server says: each diagram
below is broken in one way, linted by ``node web/assets/modeler/lint-cli.mjs`` with the catalog
the editing page gives, and validated by the server; the lint's (element id, message) pairs are
the server's problems, word for word. The procedures as shipped raise no lint problem.

No business rule (R-…) is concerned: these are the engine's executability checks.
Skipped without ``node`` or without the front-end packages (``make install``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import engine
from engine.parsed import Extras
from engine.validation import validate
from registry import demo
from tests.conftest import BPMN, test_catalog
from tests.processes.helpers import deploy_processes
from tests.web.test_pages import csrf, sign_in

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "web" / "assets" / "modeler" / "lint-cli.mjs"
PROCESSES = ROOT / "processes"
FORMS = ROOT / "tests" / "forms"

Found = list[tuple[str, str]]


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (ROOT / "node_modules" / "bpmnlint").is_dir():
        pytest.skip("the front-end packages are not installed (make install)")
    return node


def page_options(catalog: engine.Catalog) -> dict[str, Any]:
    """What the editing page (pages.model_edit) gives the rules in #modeler-options."""
    return {"operations": sorted(catalog.operations), "form_keys": sorted(catalog.form_keys),
            "messages": sorted(catalog.messages), "groups": sorted(catalog.lanes),
            "lane_aliases": catalog.lane_aliases, "declared_lanes": {}}


def lint(text: str, options: dict[str, Any], tmp_path: Path) -> Found:
    diagram, catalog = tmp_path / "diagram.bpmn", tmp_path / "catalog.json"
    diagram.write_text(text, encoding="utf-8")
    catalog.write_text(json.dumps(options, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run([_node(), str(CLI), str(diagram), str(catalog)], capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert all(p["id"] is not None for p in found), found  # no rule failed
    return sorted((p["id"], p["message"]) for p in found)


LIBRARY = [(path.stem, path.name, path.read_bytes(), Extras({}, {}))
           for path in sorted(PROCESSES.glob("*.bpmn"))]
"""The procedures as deployed before (a call activity of intake calls publicity_and_push)."""


def server(text: str, catalog: engine.Catalog, name: str = "diagram.bpmn") -> Found:
    """The server's problems for the diagram checked alone, as on the editing page."""
    return sorted((p.element_id, p.message)
                  for p in validate([(name, text.encode())], catalog, LIBRARY).problems)


def edit(text: str, *changes: tuple[str, str]) -> str:
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return text


def source(name: str) -> str:
    path = PROCESSES / name if (PROCESSES / name).exists() else BPMN / name
    return path.read_text(encoding="utf-8")


AMEND_FORM = '<spiffworkflow:property name="formKey" value="amendment"/>'
AMEND_DUE = '<spiffworkflow:property name="dueIn" value="P15D"/>'
SCRIPT_REVIEW = (('<bpmn:userTask id="Task_Review" name="审核申请">',
                  '<bpmn:scriptTask id="Task_Review" name="审核申请">'),
                 ("</bpmn:userTask>", "<bpmn:script>reviewed = True</bpmn:script>\n"
                                      "    </bpmn:scriptTask>"))
COUNT_TASK = """<bpmn:scriptTask id="Task_Count" name="记录退回次数">
      <bpmn:incoming>Flow_Return</bpmn:incoming>
      <bpmn:outgoing>Flow_Again</bpmn:outgoing>
      <bpmn:script>rounds = rounds + 1 if rounds else 1</bpmn:script>
    </bpmn:scriptTask>"""


def _sub_process(inner: str) -> str:
    """Task_Count of loop.bpmn as a sub-process around ``inner`` (its second element)."""
    return ('<bpmn:subProcess id="Task_Count" name="记录退回次数">\n'
            "<bpmn:incoming>Flow_Return</bpmn:incoming><bpmn:outgoing>Flow_Again</bpmn:outgoing>\n"
            '<bpmn:startEvent id="Sub_Start"/>' + inner + '<bpmn:endEvent id="Sub_End"/>\n'
            '<bpmn:sequenceFlow id="Sub_1" sourceRef="Sub_Start" targetRef="Sub_Task"/>\n'
            '<bpmn:sequenceFlow id="Sub_2" sourceRef="Sub_Task" targetRef="Sub_End"/>\n'
            "</bpmn:subProcess>")


COUNTING = """<bpmn:process id="counting" name="计数" isExecutable="true">
    <bpmn:startEvent id="Counting_Start"/>
    <bpmn:scriptTask id="Counting_Task" name="计数">
      <bpmn:script>rounds = 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="Counting_End"/>
    <bpmn:sequenceFlow id="Counting_1" sourceRef="Counting_Start" targetRef="Counting_Task"/>
    <bpmn:sequenceFlow id="Counting_2" sourceRef="Counting_Task" targetRef="Counting_End"/>
  </bpmn:process>
</bpmn:definitions>"""

LINKED = """<bpmn:intermediateThrowEvent id="Event_GoBack" name="回到复核">
      <bpmn:incoming>Flow_Again</bpmn:incoming><bpmn:linkEventDefinition name="again"/>
    </bpmn:intermediateThrowEvent>
    <bpmn:intermediateCatchEvent id="Event_Back" name="复核">
      <bpmn:outgoing>Flow_Back</bpmn:outgoing><bpmn:linkEventDefinition name="again"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_Back" sourceRef="Event_Back" targetRef="Task_Review"/>
  </bpmn:process>"""

RETRY = """<bpmn:boundaryEvent id="Event_Failed" name="计数出错" attachedToRef="Task_Count">
      <bpmn:outgoing>Flow_Retry</bpmn:outgoing><bpmn:errorEventDefinition/>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="Flow_Retry" sourceRef="Event_Failed" targetRef="Gateway_Returned"/>
  </bpmn:process>"""

START_FORM = ('<bpmn:startEvent id="Event_Start" name="申请开始">',
              '<bpmn:startEvent id="Event_Start" name="申请开始"><bpmn:extensionElements>'
              '<spiffworkflow:properties><spiffworkflow:property name="formKey" value="{}"/>'
              "</spiffworkflow:properties></bpmn:extensionElements>")

Change = Callable[[str], str]


def replacing(*changes: tuple[str, str]) -> Change:
    return lambda text: edit(text, *changes)


def without_operator(text: str) -> str:
    return re.sub(r"(<bpmn:serviceTask[^>]*>)\s*<bpmn:extensionElements>.*?"
                  r"</bpmn:extensionElements>", r"\1", text, flags=re.S)


RECEIVE = (('<bpmn:intermediateCatchEvent id="Event_Reply" name="收到答复">',
            '<bpmn:receiveTask id="Event_Reply" name="收到答复" messageRef="Message_Reply">'),
           ('<bpmn:messageEventDefinition id="MessageDef_Reply" messageRef="Message_Reply"/>\n'
            "    </bpmn:intermediateCatchEvent>", "</bpmn:receiveTask>"),
           ('name="reply"', 'name="answer"'))
SPIFF_FORM = '<spiffworkflow:property name="formJsonSchemaFilename" value="{}"/>'
CALL = ('<bpmn:callActivity id="Task_Count" name="记录退回次数" calledElement="counting">'
        "<bpmn:incoming>Flow_Return</bpmn:incoming><bpmn:outgoing>Flow_Again</bpmn:outgoing>"
        "</bpmn:callActivity>")
SUB_SCRIPT = ('<bpmn:scriptTask id="Sub_Task"><bpmn:script>rounds = 1</bpmn:script>'
              "</bpmn:scriptTask>")
INCLUSIVE = (('<bpmn:exclusiveGateway id="Gateway_Returned" name="是否退回?" default="Flow_Done">',
              '<bpmn:inclusiveGateway id="Gateway_Returned" name="是否退回?">'),
             ("</bpmn:exclusiveGateway>", "</bpmn:inclusiveGateway>"))

BROKEN: dict[str, tuple[str, Change, str]] = {
    # name: (diagram, the break, what the problem says)
    "gateway default dropped": (
        "intake.bpmn", replacing((' default="Flow_Approved"', "")), "既没有条件也不是默认分支"),
    "two defaults dropped, one unnamed gateway": (
        "intake.bpmn", replacing((' default="Flow_ToDistrict"', ""),
                                 (' default="Flow_Withdraw"', ""),
                                 (' name="是否重新提交?"', ""), (' name="撤回"', "")),
        "既没有条件也不是默认分支"),
    "inclusive gateway without default": (
        "loop.bpmn", replacing(*INCLUSIVE), "既没有条件也不是默认分支"),
    "unknown operation": (
        "intake.bpmn", replacing(('id="registry.apply_entry"', 'id="registry.nowhere"')),
        "未知的服务操作"),
    "service task without operation": ("flow.bpmn", without_operator, "没有指定服务操作"),
    "user task without formKey": (
        "intake.bpmn", replacing((AMEND_FORM, "")), "用户任务没有指定表单"),
    "unknown form of a user task": (
        "intake.bpmn", replacing((AMEND_FORM, AMEND_FORM.replace("amendment", "amendment_v2"))),
        "未知的表单"),
    "unknown form of a start event": (
        "flow.bpmn", replacing((START_FORM[0], START_FORM[1].format("no_such_start_form"))),
        "未知的表单"),
    "unknown spiff-arena form file": (
        "intake.bpmn", replacing((AMEND_FORM, SPIFF_FORM.format("amend.json"))), "未知的表单"),
    "unknown message of a catch event": (
        "publicity_and_push.bpmn", replacing(('name="objection"', 'name="answer"')), "未知的消息"),
    "unknown message of a boundary event": (
        "correction.bpmn", replacing(('name="ministry_reply"', 'name="ministry_answer"')),
        "未知的消息"),
    "unnamed message": (
        "flow.bpmn", replacing(('<bpmn:message id="Message_Reply" name="reply"/>',
                                '<bpmn:message id="Message_Reply"/>')),
        "未知的消息“Message_Reply”"),
    "unknown message of a receive task": ("flow.bpmn", replacing(*RECEIVE), "未知的消息"),
    "user task outside a lane": (
        "intake.bpmn", replacing(("<bpmn:flowNodeRef>Task_DistrictReview</bpmn:flowNodeRef>", "")),
        "不在任何泳道中"),
    "unknown lane name": (
        "intake.bpmn", replacing(('name="区县住建主管部门"', 'name="财务科"')),
        "没有对应的办理角色"),
    "lane without a name": (
        "intake.bpmn", replacing(('<bpmn:lane id="Lane_City" name="市住建委">',
                                  '<bpmn:lane id="Lane_City">')),
        "泳道“Lane_City”"),
    "script-task loop": ("loop.bpmn", replacing(*SCRIPT_REVIEW), "没有等待环节"),
    "loop through a link": (
        "loop.bpmn", replacing(*SCRIPT_REVIEW,
                               ('sourceRef="Task_Count" targetRef="Task_Review"',
                                'sourceRef="Task_Count" targetRef="Event_GoBack"'),
                               ("</bpmn:process>", LINKED)),
        "没有等待环节"),
    "loop through a sub-process that does not wait": (
        "loop.bpmn", replacing(*SCRIPT_REVIEW, (COUNT_TASK, _sub_process(SUB_SCRIPT))),
        "没有等待环节"),
    "loop through a call of a process that does not wait": (
        "loop.bpmn", replacing(*SCRIPT_REVIEW, (COUNT_TASK, CALL),
                               ("</bpmn:process>\n</bpmn:definitions>",
                                "</bpmn:process>\n  " + COUNTING)),
        "没有等待环节"),
    "loop through a boundary event": (
        "loop.bpmn", replacing(("</bpmn:process>", RETRY)), "没有等待环节"),
    "shipped loop without a wait state": ("endless.bpmn", replacing(), "没有等待环节"),
    "reserved id of an end event": (
        "loop.bpmn", replacing(('"Event_End"', '"End"'), (">Event_End<", ">End<")), "引擎保留名"),
    "reserved ids of a task and a lane": (
        "loop.bpmn", replacing(('"Task_Count"', '"Count.EndJoin"'),
                               (">Task_Count<", ">Count.EndJoin<"),
                               ('id="Lane_Reviewer"', 'id="Root"')),
        "引擎保留名"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_the_lint_says_what_the_server_says(case: str, tmp_path: Path) -> None:
    name, breaking, said = BROKEN[case]
    text = breaking(source(name))
    catalog = test_catalog()
    expected = server(text, catalog)
    assert any(said in message for _, message in expected), expected
    assert lint(text, page_options(catalog), tmp_path) == expected


DUE = ["15D", "P1W2D", "P1DT", "PT", "P1.5.2D", "P1.5DT1H", "P²D", "P①D", " P5D", "5 天", "",
       "P", "p15d", "P15DP", "P1.5D", "P1,5D", "P٣D", "P½T1H", "PT1H30M", "P1Y2M3DT4H5M6S",
       "P2W", "P5T1H"]


@pytest.mark.parametrize("due", DUE)
def test_a_time_limit_is_a_duration_for_the_lint_as_for_the_server(due: str,
                                                                    tmp_path: Path) -> None:
    """SpiffWorkflow's parser decides the server's answer, lenient and strict in its own ways
    ("P" and "P15DP" pass, "P1W2D" does not): the lint ports it rather than guess."""
    text = edit(source("intake.bpmn"), (AMEND_DUE, AMEND_DUE.replace("P15D", due)))
    catalog = test_catalog()
    expected = server(text, catalog)
    assert all("dueIn" in message for _, message in expected), expected
    assert lint(text, page_options(catalog), tmp_path) == expected


ONE_WAY = """<bpmn:sequenceFlow id="Flow_Return" name="退回" sourceRef="Gateway_Returned" \
targetRef="Task_Count">
      <bpmn:conditionExpression>decision == "return"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>"""
THROWN = (('<bpmn:intermediateCatchEvent id="Event_Reply"',
           '<bpmn:intermediateThrowEvent id="Event_Reply"'),
          ("</bpmn:intermediateCatchEvent>\n    <bpmn:endEvent",
           "</bpmn:intermediateThrowEvent>\n    <bpmn:endEvent"),
          ('name="reply"', 'name="x"'))

KEPT: dict[str, tuple[str, Change]] = {
    "lane named by a role's id": (
        "intake.bpmn", replacing(('name="区县住建主管部门"', 'name="district_reviewer"'))),
    "spiff-arena form file the system has": (
        "intake.bpmn", replacing((AMEND_FORM, SPIFF_FORM.format("amendment")))),
    "loop waiting in a sub-process": (
        "loop.bpmn", replacing(*SCRIPT_REVIEW,
                               (COUNT_TASK, _sub_process('<bpmn:manualTask id="Sub_Task"/>')))),
    "thrown message nothing delivers": ("flow.bpmn", replacing(*THROWN)),
    "gateway with one way out": (
        "loop.bpmn", replacing((' default="Flow_Done"', ""),
                               ("<bpmn:outgoing>Flow_Return</bpmn:outgoing>", ""),
                               (ONE_WAY, ""))),
}


@pytest.mark.parametrize("case", list(KEPT))
def test_what_the_server_accepts_the_lint_accepts(case: str, tmp_path: Path) -> None:
    name, changing = KEPT[case]
    text = changing(source(name))
    catalog = test_catalog()
    assert server(text, catalog) == []
    assert lint(text, page_options(catalog), tmp_path) == []


def test_forms_and_lanes_deployed_with_the_diagram_count_for_both(tmp_path: Path) -> None:
    """An edit is deployed with its version's forms and deployment.json, which the page lists
    (form_keys, declared_lanes): known to the lint as to the server."""
    text = edit((BPMN / "self_check.bpmn").read_text(encoding="utf-8"),
                ('name="district_reviewer"', 'name="区县审核科"'))
    forms = [(name, (FORMS / name).read_bytes())
             for name in ("self_check.form", "self_check_review.form")]
    manifest = ("deployment.json", json.dumps({"lanes": {"区县审核科": "district_reviewer"}},
                                              ensure_ascii=False).encode())
    catalog = test_catalog()
    options = page_options(catalog)
    deployed = validate([("self_check.bpmn", text.encode()), *forms, manifest], catalog)
    assert deployed.problems == []
    options["form_keys"] += [name for name, _ in forms]
    options["declared_lanes"] = {"区县审核科": "district_reviewer"}
    assert lint(text, options, tmp_path) == []
    alone = server(text, catalog)  # without them, both name the forms and the lane
    assert len(alone) == 3
    assert lint(text, page_options(catalog), tmp_path) == alone


@pytest.mark.parametrize("path", sorted(PROCESSES.glob("*.bpmn")), ids=lambda p: p.name)
def test_the_procedures_raise_no_lint_problem(path: Path, tmp_path: Path) -> None:
    catalog = test_catalog()
    assert lint(path.read_text(encoding="utf-8"), page_options(catalog), tmp_path) == []


def test_the_procedures_are_valid_together() -> None:
    files = [(p.name, p.read_bytes()) for p in sorted(PROCESSES.glob("*.bpmn"))]
    assert validate(files, test_catalog()).problems == []


@pytest.mark.parametrize("path", sorted(BPMN.glob("*.bpmn")), ids=lambda p: p.name)
def test_each_lint_problem_of_the_test_diagrams_is_one_the_server_names(
        path: Path, tmp_path: Path) -> None:
    """The server may say more (a called process missing, a form written for Camunda that the
    upload lacks); the lint says nothing the server does not."""
    text = path.read_text(encoding="utf-8")
    catalog = test_catalog()
    found = lint(text, page_options(catalog), tmp_path)
    assert set(found) <= set(server(text, catalog, path.name))


def test_the_editing_page_gives_the_rules_the_catalog_the_server_checks_with(
        app: Flask, tmp_path: Path) -> None:
    """The options in #modeler-options against the page's own check (/models/validate.json):
    a lane named by a role's id is known to both, an unknown lane is named by both alike."""
    deploy_processes()
    demo.load()
    client = app.test_client()
    sign_in(client, "fenxi")
    page = client.get("/models/edit").get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="modeler-options">(.*?)</script>',
                      page, re.S)
    assert found
    options = json.loads(found.group(1))
    assert options["lane_aliases"] == engine.catalog().lane_aliases
    for lane, problems in (("district_reviewer", 0), ("财务科", 1)):
        text = edit(source("intake.bpmn"), ('name="区县住建主管部门"', f'name="{lane}"'))
        answer = client.post("/models/validate.json", data={
            "csrf_token": csrf(client, "/models/edit"), "file_name": "intake.bpmn",
            "xml": text}).get_json()
        said = sorted((p["element_id"], p["message"]) for p in answer["problems"])
        assert len(said) == problems
        assert lint(text, options, tmp_path) == said
