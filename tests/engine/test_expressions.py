"""The restricted evaluator: what diagrams may compute, and what they may not."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from engine import limits
from engine.errors import ExpressionError
from engine.expressions import (
    MAX_SECONDS,
    check_expression,
    check_script,
    evaluate,
    execute,
    time_limit,
    unstorable,
)
from engine.formats import formatted_size, percent_size

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
    ("f'{a!r}:{b:>4}:{c:.2f}'", {"a": "x", "b": 7, "c": 2 / 3}, "'x':   7:0.67"),
    ("sorted(names, key=len)[0]", {"names": ["abc", "d"]}, "d"),
    ("[a + b for a, b in pairs if a]", {"pairs": [[1, 2], [0, 5], [3, 4]]}, [3, 7]),
    ("len({n % 3 for n in ns})", {"ns": [1, 2, 3, 4]}, 3),
    ("{k: len(v) for k, v in [('a', 'xy')]}", {}, {"a": 2}),
    ("'%s-%05.1f %(k)s' % {'k': 1} if False else '%s-%05.1f' % (n, 2.5)", {"n": 1},
     "1-002.5"),
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


TEXT = "x" * 99_999
"""A string just under the string limit (``limits.MAX_STRING``)."""

TOO_LONG = f"字符串过长（超过 {limits.MAX_STRING} 个字符）"
TOO_MANY = f"（超过 {limits.MAX_ITEMS} 个元素）"
TOO_BIG = f"数据过大（写成文字超过 {limits.MAX_SIZE} 个字符）"
PASSED_METHOD = "不能传入"


@pytest.mark.parametrize(("source", "names", "limit"), [
    # 59 s before: each sorted(list(s)) took 17 ms, 3,500 times
    ('len([len(sorted(list(s))) for c in "y" * 3500])', {"s": TEXT}, TOO_MANY),
    ('"%020000000d" % 1', {}, TOO_LONG),
    ('"%.20000000f" % 1.5', {}, TOO_LONG),
    ('"%*d" % (20000000, 1)', {}, TOO_LONG),
    ('"%(a)s%(a)s" % {"a": s}', {"s": TEXT}, TOO_LONG),
    ('"%s%s" % (s, s)', {"s": TEXT}, TOO_LONG),
    ('f"{1:020000000}"', {}, TOO_LONG),
    ('f"{1:>{w}}"', {"w": 10**9}, TOO_LONG),
    ('f"{1.5:.{w}f}"', {"w": 200_000}, TOO_LONG),
    ('f"{x!r}"', {"x": [TEXT]}, TOO_LONG),
    ('f"{s}{s}"', {"s": TEXT}, TOO_LONG),
    ('"x" * 200000', {}, TOO_LONG),
    ("s + s", {"s": TEXT}, TOO_LONG),
    ("str([s, s])", {"s": TEXT[:60_000]}, TOO_LONG),
    ("[0] * 20000", {}, TOO_MANY),
    ("list(s)", {"s": TEXT}, TOO_MANY),
    ("sorted(xs)", {"xs": list(range(20_000))}, TOO_MANY),
    ("set(xs) or tuple(xs)", {"xs": list(range(20_000))}, TOO_MANY),
    ("len([a * b for a in xs for b in xs])", {"xs": list(range(150))}, TOO_MANY),
    ("sum([[0] * 6000, [0] * 6000], [])", {}, TOO_MANY),
    ("[[0] * 10000 for c in s]", {"s": TEXT[:200]}, TOO_BIG),  # nested sizes multiply
    ("[x for c in s]", {"x": list(range(5000)), "s": TEXT[:1000]}, TOO_BIG),
    ("[x] * 100", {"x": list(range(5000))}, TOO_BIG),
    ("[s, s, s, s, s, s, s, s, s, s, s]", {"s": TEXT}, TOO_BIG),
    ("round(5, -100000)", {}, "取整位数过大"),
    ('sorted([9999999], key="x".ljust)', {}, PASSED_METHOD),  # "x".ljust(9999999)
    ('max(["a"], key="\\t".expandtabs)', {}, PASSED_METHOD),
    ("sorted(ys, key=ys.append)", {"ys": [1]}, PASSED_METHOD),  # doubles ys at each call
])
def test_what_would_build_too_much_is_refused_naming_the_limit(source: str, names: dict,
                                                                limit: str) -> None:
    with pytest.raises(ExpressionError, match=limit.replace("（", r"\（").replace("）", r"\）")):
        evaluate(source, names)


@pytest.mark.parametrize("source", ['"{:>99999999}".format(1)', '"{x:>99999999}".format_map(d)',
                                    '",".join(xs)', 's.ljust(10**8)', 's.zfill(10**8)',
                                    's.replace("x", s)', '"\\t".expandtabs(10**8)',
                                    "list(range(10**8))"])
def test_methods_and_range_are_not_reachable(source: str) -> None:
    assert "不允许调用的函数" in (check_expression(source) or "")


def test_sizes_just_under_the_limits_are_built() -> None:
    assert len(evaluate('"x" * 100000', {})) == limits.MAX_STRING
    assert len(evaluate("s + 'x'", {"s": TEXT})) == limits.MAX_STRING
    assert len(evaluate('"%099990d" % 1', {})) == 99_990
    assert len(evaluate('f"{1:099990}"', {})) == 99_990
    assert len(evaluate('f"{s!s}"', {"s": "'" * 99_999})) == 99_999  # its repr is longer
    assert len(evaluate("[0] * 10000", {})) == limits.MAX_ITEMS
    assert len(evaluate("sorted(list(s))", {"s": TEXT[:10_000]})) == limits.MAX_ITEMS
    assert len(evaluate("sum([[0] * 5000, [0] * 5000], [])", {})) == limits.MAX_ITEMS
    assert len(evaluate("[[0] * 100 for c in s]", {"s": TEXT[:100]})) == 100
    assert evaluate("round(5, -1000)", {}) == 0


def test_the_comprehension_iterations_are_counted_over_one_evaluation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_ITERATIONS", 100)
    # the outer loop's 9 and the inner loops' 81
    assert evaluate("len([a for a in xs for b in xs])", {"xs": list(range(9))}) == 81
    with pytest.raises(ExpressionError, match="循环次数过多（超过 100 次）"):
        evaluate("[a for a in xs] + [b for b in ys]", {"xs": list(range(50)),
                                                     "ys": list(range(51))})


SLOW = 'len([1 for a in xs for b in xs if str(a) == "x"])'
"""90,000 iterations building nothing: about 0.35 s here, far longer than 0.05 s, within
the iteration and size limits (a list of every pair hit the 10,000-element cap in 0.04 s on
a quiet machine: sooner than the deadline)."""


def test_an_evaluation_past_its_time_limit_fails() -> None:
    with pytest.raises(ExpressionError, match=r"表达式运行超时（超过 0.05 秒）"), \
            time_limit(0.05):
        evaluate(SLOW, {"xs": list(range(300))})


def test_a_script_runs_within_one_time_limit() -> None:
    with pytest.raises(ExpressionError, match="表达式运行超时"), time_limit(0.05):
        execute(f"a = {SLOW}\nb = {SLOW}", {"xs": list(range(300))})


def test_time_limits_nest_keeping_the_earlier_deadline() -> None:
    assert limits.deadline()[1] == MAX_SECONDS
    with time_limit(0.05):
        with time_limit(10):
            assert limits.deadline()[1] == 0.05
        assert limits.deadline()[1] == 0.05
    with time_limit(10):
        assert limits.deadline()[1] == MAX_SECONDS  # an evaluation's own limit is earlier
        with time_limit(0.5):
            assert limits.deadline()[1] == 0.5
        assert limits.deadline()[1] == MAX_SECONDS
    assert limits.deadline()[1] == MAX_SECONDS


def test_a_time_limit_holds_in_its_own_thread_only() -> None:
    seen: list[Any] = []
    with time_limit(0):
        worker = threading.Thread(target=lambda: seen.append(evaluate("1 + 1", {})))
        worker.start()
        worker.join()
        with pytest.raises(ExpressionError, match="运行超时"):
            evaluate("1 + 1", {})
    assert seen == [2]


def test_a_value_size_bounds_its_text() -> None:
    values: list[Any] = ["it's \\ \"q\"", "\x00\U000e0000", 2**4000, -1.5e300, None, True,
                         [{"k": (1, "v")}, {3: [None, 2.5]}], {"a": ["x"] * 5}]
    for value in values:
        assert limits.measure(value) >= max(len(repr(value)), len(str(value)))



@pytest.mark.parametrize(("value", "spec"), [
    (-1e308, ">05,.0f"), (-(2**96), "<#05,.3f"), (0, "-030_b"), (2**200, "_x"), (0.5, ".40%"),
    ("中文'\\", ""), ([1, "a"], ""), (True, "030_b"),
])
def test_a_format_spec_estimate_is_an_upper_bound(value: Any, spec: str) -> None:
    assert formatted_size(value, spec) >= len(format(value, spec))


@pytest.mark.parametrize(("template", "args"), [
    ("%-7.3r|%+020.5f|%#x", ("中文'\\", -1e308, -(2**300))),
    ("%(a)s|%%|%(b)-9.2e", {"a": [1, "b"], "b": 1e300}), ("%(a)s %(a)r", {"a": "x'y"}),
    ("%*.*s|%c", (9, 2, "abc", 65)), ("%s", ([1.5, None],)),
])
def test_a_percent_format_estimate_is_an_upper_bound(template: str, args: Any) -> None:
    assert percent_size(template, args) >= len(template % args)
