"""JUEL (Camunda 7) expressions, translated and run by the restricted evaluator."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import dialects, juel
from engine.errors import ExpressionError
from engine.expressions import check_expression, evaluate

from .dialect_checks import assert_only_expression_errors

DATA: dict[str, Any] = {
    "approved": True, "a": "x", "b": 5, "reasons": [], "amount": 1500, "zero": 0,
    "order": {"amount": 3, "items": [{"n": 1}]}, "nothing": None, "name": "",
}

CASES = [
    ("${approved}", True),
    ("${!approved}", False),
    ("#{not approved}", False),
    ("${a == 'x' && b > 3}", True),
    ('${a eq "x" and b lt 3}', False),
    ("${a != 'x' || b >= 5}", True),
    ("${a ne 'x' or b ge 6}", False),
    ("${b <= 5 && b le 4}", False),
    ("${empty reasons}", True),
    ("${empty name}", True),
    ("${empty nothing}", True),
    ("${empty zero}", False),
    ("${not empty a}", True),
    ("${amount gt 1000}", True),
    ("${nothing > 3}", False),
    ("${nothing == null}", True),
    ("${null != b}", True),
    ("${b div 2}", 2.5),
    ("${b / 2}", 2.5),
    ("${b mod 2}", 1),
    ("${b % 3}", 2),
    ("${-b + 2 * 3}", 1),
    ("${(b - 1) * 2}", 8),
    ("${approved ? 'yes' : 'no'}", "yes"),
    ("${b > 9 ? 1 : b > 4 ? 2 : 3}", 2),
    ("${order.amount}", 3),
    ("${order['amount'] + 1}", 4),
    ("${order.items[0].n}", 1),
    ("${order.missing}", None),
    ("${order.items[7]}", None),
    ("${true && !false}", True),
    ("${1.5e2}", 150.0),
    ("${'it\\'s'}", "it's"),
    ("${'__import__(\"os\").system(\"id\")'}", '__import__("os").system("id")'),
    ("  ${ approved }  ", True),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_juel_translates_and_evaluates_as_camunda_would(source: str, expected: Any) -> None:
    python = juel.translate(source)
    assert check_expression(python) is None
    assert evaluate(python, DATA) == expected
    assert dialects.to_engine(source, dialects.detect(source)) == python


def test_a_missing_variable_fails_clearly() -> None:
    with pytest.raises(ExpressionError, match="未定义的变量 missing"):
        evaluate(juel.translate("${missing == 1}"), DATA)


REFUSED = [
    ("${a.__class__}", "下划线"),
    ("${a['__class__']}", None),  # a key, never an attribute: allowed (and just None)
    ("${_secret}", "下划线"),
    ("${execution.getVariable('x')}", "请直接写变量名 x"),
    ("${execution.processInstanceId}", "Camunda 对象 execution"),
    ("${execution}", "Camunda 对象 execution"),
    ("${myBean.approve(order)}", "方法调用 myBean.approve"),
    ("${T(java.lang.Runtime).getRuntime().exec('id')}", "函数调用 T"),
    ("${fn:contains(a, 'x')}", "函数调用 fn"),
    ("${a instanceof b}", "instanceof"),
    ("${'abc}", "缺少结束引号"),
    ("${a} and ${b}", "只能有一个"),
    ("approved", "须写成"),
    ("${len}", "同名"),
    ("${class}", "同名"),
    ("${1e999}", "过大"),
    ("${" + "9" * 1500 + "}", "过大"),
    ("${" + "(" * 10_000 + "1" + ")" * 10_000 + "}", "过长"),
    ("${" + "(" * 900 + "1" + ")" * 900 + "}", "嵌套过深"),
    ("${" + "!" * 1500 + "a}", "嵌套过深"),
    ("${a = 1}", "无法识别"),
    ("${a +}", "意外地结束"),
    ("${}", "意外地结束"),
]


@pytest.mark.parametrize(("source", "message"), REFUSED)
def test_unsupported_and_hostile_juel_is_refused_with_a_message(
        source: str, message: str | None) -> None:
    if message is None:
        assert evaluate(juel.translate(source), DATA) is None
        return
    with pytest.raises(ExpressionError, match=message) as caught:
        juel.translate(source)
    assert str(caught.value).startswith("JUEL 表达式")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_random_text_only_ever_raises_expression_error(text: str) -> None:
    for source in (text, "${" + text + "}"):
        assert_only_expression_errors(juel.translate, source)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", ".", "[", "]", "(", ")", "'x'", "1", "&&", "!",
                                 "empty", "?", ":", "==", "+", "null", " ", "__class__"]),
                max_size=30))
def test_random_juel_tokens_only_ever_raise_expression_error(parts: list[str]) -> None:
    assert_only_expression_errors(juel.translate, "${" + "".join(parts) + "}")
