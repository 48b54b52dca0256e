"""FEEL (Camunda 8) expressions, translated and run by the restricted evaluator."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import dialects, feel
from engine.errors import ExpressionError
from engine.expressions import check_expression, evaluate
from engine.syntax import MAX_DEPTH

from .dialect_checks import assert_only_expression_errors

DATA: dict[str, Any] = {
    "approved": True, "rejected": False, "amount": 1500, "status": "ok", "decision": "同意",
    "items": [1, 2], "nothing": None, "order": {"amount": 3, "customer": {"vip": True}},
    "s": "hello", "审批结果": "通过",
}

CASES = [
    ("=approved", True),
    ("=missing", None),  # null: the flow is not taken
    ("=amount > 1000 and status = \"ok\"", True),
    ("=amount > 1000 and status = \"no\"", False),
    ("=amount < 1000 or status != \"no\"", True),
    ("=amount >= 1500 and amount <= 1500", True),
    ("=not(approved)", False),
    ("=not(rejected)", True),
    ("=not(missing)", None),
    ("=nothing != null", False),
    ("=missing = null", True),
    ("=null = null", True),
    ("=amount = null", False),
    ("=missing > 3", None),
    ("=missing + 1", None),
    ("=decision in [\"同意\",\"通过\"]", True),
    ("=decision in [\"驳回\"]", False),
    ("=missing in [1, 2]", False),
    ("=decision in (\"同意\", \"通过\")", True),
    ("=decision in \"同意\"", True),
    ("=2 in items", True),
    ("=count(items) > 0", True),
    ("=count(missing) > 0", None),
    ("=amount in [1..10]", False),
    ("=amount in [1000..1500]", True),
    ("=amount in [1000..1500)", False),
    ("=amount in (1500..2000]", False),
    ("=amount in ]1000..2000[", True),
    ("=amount in < 2000", True),
    ("=amount between 1000 and 2000", True),
    ("=missing between 1 and 2", None),
    ("=if approved then \"y\" else \"n\"", "y"),
    ("=if missing then \"y\" else \"n\"", "n"),
    ("=order.amount * 2", 6),
    ("=order.customer.vip", True),
    ("=order.missing.deep > 3", None),
    ("=string length(s)", 5),
    ("=contains(s, \"ell\")", True),
    ("=starts with(s, \"he\")", True),
    ("=starts with(s, \"lo\")", False),
    ("=ends with(s, \"lo\")", True),
    ("=ends with(s, \"\")", True),
    ("=ends with(\"o\", s)", False),
    ("=list contains(items, 2)", True),
    ("=sum(items) + abs(-3)", 6),
    ("=min(items) < max(3, 4)", True),
    ("=string(amount)", "1500"),
    ("=-amount + 2 ** 3", -1492),
    ("=(amount - 500) / 2", 500.0),
    ("=审批结果 = \"通过\"", True),
    ("=\"a\\\"b\\n\\u4e2d\"", 'a"b\n中'),
    ("=\"__import__('os')\"", "__import__('os')"),
    ("=[1, 2, \"x\"]", [1, 2, "x"]),
    ("=true and not(false)", True),
    ("=approved and missing", None),
    ("amount > 1000", True),  # without its "="
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_feel_translates_and_evaluates_as_camunda_would(source: str, expected: Any) -> None:
    python = feel.translate(source)
    assert check_expression(python) is None
    assert evaluate(python, DATA) == expected


def test_the_dispatcher_finds_the_dialect() -> None:
    assert dialects.detect(" =a") == "feel"
    assert dialects.detect("${a}") == dialects.detect("#{a}") == "juel"
    assert dialects.detect("a == 1") == "python"
    assert dialects.to_engine("a == 1", "python") == "a == 1"
    assert dialects.to_engine("=a", "feel") == "data_get('a')"
    with pytest.raises(ExpressionError, match="未知的表达式语言"):
        dialects.to_engine("a", "spel")


def test_a_long_realistic_condition_stays_within_the_evaluator_limits() -> None:
    source = ("=amount > 1000 and status = \"ok\" and decision in [\"同意\",\"通过\"] "
              "and nothing = null and count(items) > 1 and order.customer.vip")
    assert evaluate(feel.translate(source), DATA) is True


REFUSED = [
    ("=a.__class__", "下划线"),
    ("=_secret", "下划线"),
    ("=upper case(s)", "upper case"),
    ("=lower case(s) = \"x\"", "大小写"),
    ("=date(\"2020-01-01\") < today()", "日期时间"),
    ("=@\"2020-01-01\"", "日期时间"),
    ("=for x in items return x", "for 循环"),
    ("=some x in items satisfies x > 1", "some"),
    ("={a: 1}", "上下文"),
    ("=items[1]", "下标"),
    ("=items[item > 1]", "下标"),
    ("=s instance of string", "instance of"),
    ("=order.get(\"x\")", "方法调用"),
    ("=T(java.lang.Runtime)", "函数 T"),
    ("=substring(s, 1)", "可用的函数有"),
    ("=count(list: items)", "命名参数"),
    ("='abc'", "双引号"),
    ("=\"abc", "缺少结束引号"),
    ("=1e999", "过大"),
    ("=" + "9" * 1500, "过大"),
    ("=" + "(" * 10_000 + "1" + ")" * 10_000, "过长"),
    ("=" + "(" * 900 + "1" + ")" * 900, "嵌套过深"),
    ("=" + "-" * 1500 + "1", "嵌套过深"),
    ("=", "是空的"),
    ("=a +", "意外地结束"),
    ("=a ; b", "无法识别"),
    ("=amount in [1..", "意外地结束"),
    ("=" + " and ".join(f"v{i} > {i}" for i in range(60)), "翻译后过长"),
    ("=" + " and ".join(f"v{i} > {i}" for i in range(25)), "不被接受"),
]


@pytest.mark.parametrize(("source", "message"), REFUSED)
def test_unsupported_and_hostile_feel_is_refused_with_a_message(source: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message) as caught:
        feel.translate(source)
    assert str(caught.value).startswith("FEEL 表达式")


def test_nesting_within_the_limit_is_fine() -> None:
    depth = MAX_DEPTH - 2
    assert evaluate(feel.translate("=" + "(" * depth + "1" + ")" * depth), {}) == 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_random_text_only_ever_raises_expression_error(text: str) -> None:
    for source in (text, "=" + text):
        assert_only_expression_errors(feel.translate, source)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", ".", "[", "]", "(", ")", "..", "\"x\"", "1", "and",
                                 "or", "not", "in", "between", "if", "then", "else", "=",
                                 "<", "+", "null", " ", "count", ","]),
                max_size=30))
def test_random_feel_tokens_only_ever_raise_expression_error(parts: list[str]) -> None:
    assert_only_expression_errors(feel.translate, "=" + " ".join(parts))
