"""Validation of uploaded diagrams: every problem is a clear line, never a traceback."""

from __future__ import annotations

import os

import pytest

from engine.validation import validate
from tests.conftest import BPMN, test_catalog

FLOW = (BPMN / "flow.bpmn").read_text()
LOOP = (BPMN / "loop.bpmn").read_text()


def problems(text: str | bytes, name: str = "x.bpmn") -> list[str]:
    content = text.encode() if isinstance(text, str) else text
    return [str(p) for p in validate([(name, content)], test_catalog()).problems]


def test_the_test_diagrams_are_valid() -> None:
    result = validate([("flow.bpmn", FLOW.encode()), ("loop.bpmn", LOOP.encode())],
                      test_catalog())
    assert result.problems == []
    assert sorted(p.key for p in result.processes) == ["flow", "loop"]


def test_malformed_xml_names_the_line() -> None:
    broken = FLOW.replace("</bpmn:userTask>", "</bpmn:userTsk>", 1)
    [line] = problems(broken)
    assert line.startswith("x.bpmn:34: ")
    assert "XML 格式错误" in line


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
  targetNamespace="t"><bpmn:process id="p" name="&lol3;" isExecutable="true"/></bpmn:definitions>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
  targetNamespace="t"><bpmn:process id="p" name="&xxe;" isExecutable="true"/></bpmn:definitions>
"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, XXE])
def test_entity_attacks_are_refused(text: str) -> None:
    [line] = problems(text)
    assert "DOCTYPE" in line or "entity" in line
    assert "root:" not in line and "lollol" not in line


def test_unknown_element_fails_the_schema_with_its_line() -> None:
    odd = FLOW.replace('<bpmn:endEvent id="Event_End"', '<bpmn:frobnicate id="Odd"/>\n'
                       '    <bpmn:endEvent id="Event_End"', 1)
    lines = problems(odd)
    assert lines and all("不符合 BPMN 2.0 规范" in line for line in lines)
    assert any("frobnicate" in line for line in lines)


def test_gateway_branch_without_condition_is_named() -> None:
    text = LOOP.replace('<bpmn:conditionExpression>decision == "return"</bpmn:conditionExpression>',
                        "")
    [line] = problems(text)
    assert "Flow_Return (退回)" in line
    assert "既没有条件也不是默认分支" in line


def test_unknown_service_operator_is_named() -> None:
    [line] = problems(FLOW.replace('id="test.echo"', 'id="test.nowhere"'))
    assert "Task_Publish (发布公示)" in line
    assert "未知的服务操作“test.nowhere”" in line


def test_unknown_form_key_is_named() -> None:
    [line] = problems(FLOW.replace('value="test_form"', 'value="no_such_form"'))
    assert "Task_Enter (填写申请)" in line and "未知的表单“no_such_form”" in line


def test_a_message_nothing_delivers_is_named_on_its_catch_event() -> None:
    [line] = problems(FLOW.replace('name="reply"', 'name="answer"'))
    assert "Event_Reply" in line and "未知的消息“answer”" in line
    assert "objection" in line  # the messages that are delivered are listed


def test_reserved_ids_are_refused() -> None:
    lines = problems(LOOP.replace('"Event_End"', '"End"'))
    assert any("End (结束)" in line and "保留名" in line for line in lines)


@pytest.mark.parametrize("hostile", ["__import__('os').system('touch /tmp/pwned')",
                                     "().__class__.__base__.__subclasses__()",
                                     "open('/etc/passwd').read()"])
def test_hostile_conditions_are_refused_at_validation(hostile: str) -> None:
    text = LOOP.replace('decision == "return"', hostile.replace("'", "&apos;"))
    [line] = problems(text)
    assert "Flow_Return (退回)" in line and "不可用" in line


def test_hostile_timer_expression_is_refused() -> None:
    text = FLOW.replace(">wait</bpmn:timeDuration>", ">open('/etc/passwd')</bpmn:timeDuration>")
    [line] = problems(text)
    assert "Event_Wait (等待期满)" in line


def test_script_with_statements_other_than_assignments_is_refused() -> None:
    text = LOOP.replace("rounds = rounds + 1 if rounds else 1", "import os")
    [line] = problems(text)
    assert "Task_Count (记录退回次数)" in line


def test_utf16_file_is_read_by_its_declaration() -> None:
    text = FLOW.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert problems(text.encode("utf-16")) == []


def test_random_bytes_give_a_problem_not_a_traceback() -> None:
    [line] = problems(os.urandom(2048))
    assert line.startswith("x.bpmn:")


def test_empty_file_and_file_without_process() -> None:
    assert problems(b"")
    empty = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
             'id="d" targetNamespace="t"/>')
    [line] = problems(empty)
    assert "没有可执行的流程" in line


def test_call_activity_to_missing_process_is_reported() -> None:
    text = FLOW.replace(
        '<bpmn:serviceTask id="Task_Publish" name="发布公示">',
        '<bpmn:callActivity id="Task_Call" name="调用公示" calledElement="nowhere">'
        '<bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>'
        '</bpmn:callActivity>\n<bpmn:serviceTask id="Task_Publish" name="发布公示">')
    text = text.replace('targetRef="Task_Publish"', 'targetRef="Task_Call"')
    text = text.replace('sourceRef="Task_Publish"', 'sourceRef="Task_Call"')
    text = text.replace("<bpmn:incoming>Flow_2</bpmn:incoming>\n      <bpmn:outgoing>Flow_3"
                        "</bpmn:outgoing>\n    </bpmn:serviceTask>", "</bpmn:serviceTask>")
    [line] = problems(text)
    assert "Task_Call (调用公示)" in line
    assert "调用的流程“nowhere”不存在" in line


@pytest.mark.parametrize(("script", "reason"), [
    ("rounds = len", "函数 len 只能调用"),
    ("rounds = [1, str]", "函数 str 只能调用"),
    ("rounds = len if rounds else int", "函数 len 只能调用"),
    ("rounds = {'a': 1, 'b': 2}.keys\nx = {1, 2}", "集合"),
    ("rounds = set([1, 2])", "集合"),
    ("rounds = '\\ud800'", "无效字符"),
])
def test_a_script_value_the_engine_cannot_store_is_refused_at_validation(
        script: str, reason: str) -> None:
    """A function, a type or a set is no data: the instance's state could not be stored, so
    the diagram is refused when it is validated, not when someone submits a task."""
    [line] = problems(LOOP.replace("rounds = rounds + 1 if rounds else 1", script))
    assert "Task_Count (记录退回次数)" in line and reason in line


def test_a_function_passed_to_a_function_is_still_allowed() -> None:
    text = LOOP.replace("rounds = rounds + 1 if rounds else 1",
                        "rounds = max([1, 2], key=abs) + len(sorted([3], key=abs))")
    assert problems(text) == []


ENDLESS = (BPMN / "endless.bpmn").read_text()


def test_a_cycle_without_a_wait_state_is_refused_naming_its_elements() -> None:
    """Issue 16: a script task and a gateway whose flow back is always taken validated,
    deployed, and the first submission never returned."""
    [line] = problems(ENDLESS)
    assert "Task_Review (自动复核)" in line
    assert "循环 “自动复核” → “是否退回?”" in line
    assert "没有等待环节" in line


def test_a_cycle_through_a_user_task_is_allowed() -> None:
    assert problems(LOOP) == []


@pytest.mark.parametrize("waiting", [
    '<bpmn:receiveTask id="Task_Wait" name="等待回复" messageRef="Message_Reply"/>',
    '<bpmn:intermediateCatchEvent id="Task_Wait" name="等一天"><bpmn:timerEventDefinition>'
    '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
    '</bpmn:intermediateCatchEvent>',
    '<bpmn:serviceTask id="Task_Wait" name="回显"><bpmn:extensionElements>'
    '<spiffworkflow:serviceTaskOperator id="test.echo"><spiffworkflow:parameters/>'
    '</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>'
    '</bpmn:serviceTask>',
])
def test_any_wait_state_in_the_cycle_makes_it_acceptable(waiting: str) -> None:
    text = _with_step(ENDLESS, waiting).replace(
        "</bpmn:process>", '</bpmn:process><bpmn:message id="Message_Reply" name="reply"/>')
    assert problems(text) == []


def _with_step(text: str, element: str) -> str:
    """``text`` with ``element`` (id Task_Wait) on the flow back of its loop."""
    text = text.replace('sourceRef="Task_Count" targetRef="Task_Review"',
                        'sourceRef="Task_Count" targetRef="Task_Wait"')
    return text.replace("</bpmn:process>", f'{element}<bpmn:sequenceFlow id="Flow_Wait" '
                        'sourceRef="Task_Wait" targetRef="Task_Review"/></bpmn:process>')


def test_a_second_loop_that_avoids_the_wait_is_found() -> None:
    """Taking the waiting elements out first finds a cycle that avoids the one that waits:
    here the flow back may skip the receive task through a second script task."""
    text = _with_step(ENDLESS, '<bpmn:receiveTask id="Task_Wait" name="等待回复" '
                               'messageRef="Message_Reply"/>')
    text = text.replace("</bpmn:process>",
                        '</bpmn:process><bpmn:message id="Message_Reply" name="reply"/>')
    text = text.replace('<bpmn:sequenceFlow id="Flow_Wait"',
                        '<bpmn:scriptTask id="Task_Skip" name="跳过等待"><bpmn:script>x = 1'
                        '</bpmn:script></bpmn:scriptTask><bpmn:sequenceFlow id="Flow_Skip1" '
                        'sourceRef="Task_Count" targetRef="Task_Skip"/><bpmn:sequenceFlow '
                        'id="Flow_Skip2" sourceRef="Task_Skip" targetRef="Task_Review"/>'
                        '<bpmn:sequenceFlow id="Flow_Wait"')
    [line] = problems(text)
    assert "“跳过等待”" in line and "“等待回复”" not in line


def test_a_name_with_line_breaks_keeps_the_problem_on_one_line() -> None:
    """Issue 17: modelers wrap long names; ``cqpi validate``'s format is one line each."""
    text = ENDLESS.replace('name="自动复核"', 'name="自动&#10;复核"')
    [line] = problems(text)
    assert "\n" not in line and "Task_Review (自动 复核)" in line and "“自动 复核”" in line
