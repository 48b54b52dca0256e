"""The restricted evaluator: what diagrams may compute, and what they may not."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import ExpressionError
from engine.expressions import check_expression, check_script, evaluate, execute, unstorable

HOSTILE = [
    "__import__('os').system('id')",
    "open('/etc/passwd').read()",
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "eval('1')",
    "exec('x=1')",
    "getattr(x, '__class__')",
    "x.__dict__",
    "lambda: 1",
    "x.get('a')",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_expressions_are_refused_statically(source: str) -> None:
    assert check_expression(source) is not None


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_expressions_are_refused_at_run_time(source: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(source, {"x": {"a": 1}})


@pytest.mark.parametrize("source", ["9**9**9", "10**100000", "'a' * 10**9", "[1] * 10**9",
                                    "2**1000 * 2**1000 * 2**1000 * 2**1000 * 2**1000"])
def test_expressions_that_would_hang_or_exhaust_memory_fail_fast(source: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(source, {})


@pytest.mark.parametrize(("source", "names", "expected"), [
    ("decision == 'approve'", {"decision": "approve"}, True),
    ("level in ('district', 'city')", {"level": "city"}, True),
    ("len(items) >= 2 and items[0] > 1", {"items": [2, 3]}, True),
    ("project.grade if project else 'D'", {"project": {"grade": "B"}}, "B"),
    ("max(1, round(n * 0.1 + 0.49))", {"n": 25}, 3),
    ("f'{a}-{b}'", {"a": 1, "b": 2}, "1-2"),
])
def test_ordinary_expressions_evaluate(source: str, names: dict, expected: object) -> None:
    assert evaluate(source, names) == expected


def test_undefined_name_names_the_variable() -> None:
    with pytest.raises(ExpressionError, match="未定义的变量 missing"):
        evaluate("missing == 1", {})


def test_scripts_assign_new_values_only() -> None:
    data = {"a": 1}
    execute("b = a + 1\nc = b * 2", data)
    assert data == {"a": 1, "b": 2, "c": 4}
    assert check_script("import os") is not None
    assert check_script("a.x = 1") is not None
    assert check_script("for i in x: pass") is not None
    assert check_script("y = open('f')") is not None


def test_overlong_source_is_refused() -> None:
    assert "过长" in (check_expression("1 + " * 1000 + "1") or "")


@pytest.mark.parametrize("source", ["len", "[1, len]", "{'f': abs}", "len if x else str"])
def test_a_function_used_as_a_value_is_refused_statically(source: str) -> None:
    assert "只能调用" in (check_expression(source) or "")
    assert "只能调用" in (check_script(f"y = {source}") or "")


@pytest.mark.parametrize(("script", "reason"), [
    ("y = 'a'.upper", "upper 是函数或类型"),
    ("y = {(1, 2): 3}", "字典的键只能是文字或数字"),
    ("y = [{'a': set(x)}]", "集合不能保存"),
    ("y = x.keys", "是函数或类型"),
])
def test_a_script_value_that_cannot_be_stored_fails_at_run_time(script: str,
                                                                reason: str) -> None:
    data: dict = {"x": {"a": 1}}
    before = dict(data)
    with pytest.raises(ExpressionError, match=reason) as refused:
        execute(script, data)
    assert "变量 y" in str(refused.value)
    assert data == before  # nothing assigned


def test_storable_values_and_their_limits() -> None:
    from datetime import datetime, timedelta

    assert unstorable({"a": [1, 2.5, None, True, "文字"], "b": (1, 2), 3: "x"}) is None
    assert unstorable([datetime(2026, 1, 1), timedelta(days=1)]) is None
    assert unstorable("😀") is None and unstorable("\ud800") is not None
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    assert "嵌套过深" in (unstorable(deep) or "")
    assert "不是数据" in (unstorable(object()) or "")
