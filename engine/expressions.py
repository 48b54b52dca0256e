"""The restricted evaluator for everything a diagram computes.

Diagrams are data uploaded by analysts, so their conditions, timer expressions, service
parameters and small assignment scripts never reach ``eval``/``exec``. They are checked
statically at deploy time (``check_expression``, ``check_script``) and evaluated at run time
by simpleeval with an allow-list of functions, no dunder or private attribute access and
bounded sizes. A script is a sequence of ``name = expression`` lines and nothing else.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

import simpleeval
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .errors import ExpressionError

MAX_SOURCE = 2000
"""Longest expression or script accepted, in characters."""

MAX_NODES = 300
"""Most syntax nodes in one expression or script."""

MAX_INT_BITS = 4096
"""Largest integer an arithmetic step may produce."""

MAX_EXPONENT = 1000
"""Largest exponent of ``**``."""


def _days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "str": str, "int": int, "float": float, "bool": bool,
    "abs": abs, "round": round, "min": min, "max": max, "sum": sum,
    "any": any, "all": all, "sorted": sorted, "list": list, "dict": dict,
    "set": set, "tuple": tuple, "days": _days,
}

CONSTANTS = {"True": True, "False": False, "None": None}

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.Module, ast.Assign, ast.Expr, ast.Name, ast.Load, ast.Store,
    ast.Constant, ast.Attribute, ast.Subscript, ast.Slice, ast.Call, ast.keyword,
    ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot, ast.IfExp, ast.List, ast.Tuple, ast.Dict, ast.Set,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.comprehension, ast.JoinedStr,
    ast.FormattedValue,
)


def _limit_int(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise simpleeval.NumberTooHigh("整数过大")
    return value


def _pow(a: Any, b: Any) -> Any:
    if abs(b) > MAX_EXPONENT:
        raise simpleeval.NumberTooHigh(f"指数过大: {b}")
    return _limit_int(simpleeval.safe_power(a, b))


def _mult(a: Any, b: Any) -> Any:
    return _limit_int(simpleeval.safe_mult(a, b))


def _operators() -> dict[type[ast.AST], Callable[..., Any]]:
    ops = dict(simpleeval.DEFAULT_OPERATORS)
    ops[ast.Pow] = _pow
    ops[ast.Mult] = _mult
    ops[ast.LShift] = ops[ast.RShift] = _refuse
    return ops


def _refuse(*_args: Any) -> Any:
    raise simpleeval.FeatureNotAvailable("不支持移位运算")


def _problem_in(tree: ast.AST) -> str | None:
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        return f"表达式过于复杂（超过 {MAX_NODES} 个语法节点）"
    for node in nodes:
        if not isinstance(node, _ALLOWED_NODES):
            return f"不允许的语法: {type(node).__name__}"
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            return f"不允许使用以下划线开头的名称: {node.id}"
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            return f"不允许访问以下划线开头的属性: {node.attr}"
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
        ):
            return f"不允许调用的函数: {ast.unparse(node.func)}"
    return None


def _parse(source: str, mode: str) -> ast.AST:
    if len(source) > MAX_SOURCE:
        raise ExpressionError(f"表达式过长（超过 {MAX_SOURCE} 个字符）")
    try:
        return ast.parse(source.strip(), mode=mode)
    except SyntaxError as exc:
        raise ExpressionError(f"语法错误: {exc.msg}（第 {exc.lineno} 行）") from None


@functools.lru_cache(maxsize=4096)
def check_expression(source: str) -> str | None:
    """Return why ``source`` is not an acceptable expression, or None if it is."""
    try:
        tree = _parse(source, "eval")
    except ExpressionError as exc:
        return str(exc)
    return _problem_in(tree)


@functools.lru_cache(maxsize=1024)
def check_script(source: str) -> str | None:
    """Return why ``source`` is not an acceptable assignment script, or None if it is."""
    try:
        tree = _parse(source, "exec")
    except ExpressionError as exc:
        return str(exc)
    for stmt in tree.body:  # type: ignore[attr-defined]
        if not (
            isinstance(stmt, ast.Assign)
            and all(isinstance(t, ast.Name) for t in stmt.targets)
        ):
            return f"脚本只允许“变量 = 表达式”形式的赋值（第 {stmt.lineno} 行）"
    return _problem_in(tree)


def evaluate(source: str, names: Mapping[str, Any]) -> Any:
    """Evaluate one expression against ``names`` (task data), refusing anything unsafe."""
    problem = check_expression(source)
    if problem:
        raise ExpressionError(f"表达式 {source!r} 被拒绝: {problem}")
    evaluator = simpleeval.EvalWithCompoundTypes(
        operators=_operators(), functions=FUNCTIONS, names={**CONSTANTS, **names}
    )
    try:
        return evaluator.eval(source.strip())
    except simpleeval.NameNotDefined as exc:
        raise ExpressionError(f"表达式 {source!r} 引用了未定义的变量 {exc.name}") from None
    except (simpleeval.InvalidExpression, ArithmeticError, TypeError, ValueError,
            KeyError, IndexError, AttributeError) as exc:
        raise ExpressionError(f"表达式 {source!r} 求值失败: {exc}") from None


def execute(source: str, data: dict[str, Any]) -> None:
    """Run an assignment script: each ``name = expression`` line assigns a new value."""
    problem = check_script(source)
    if problem:
        raise ExpressionError(f"脚本被拒绝: {problem}")
    tree = ast.parse(source.strip(), mode="exec")
    for stmt in tree.body:
        assert isinstance(stmt, ast.Assign)
        value = evaluate(ast.unparse(stmt.value), data)
        for target in stmt.targets:
            assert isinstance(target, ast.Name)
            data[target.id] = value


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script-engine environment, routed through the restricted evaluator."""

    def evaluate(self, expression, context, external_context=None):
        return evaluate(expression, {**(external_context or {}), **context})

    def execute(self, script, context, external_context=None):
        execute(script, context)
        return True

    def call_service(self, context, **kwargs):
        raise ExpressionError("服务任务由作业执行，不在引擎步骤中调用")


def script_engine() -> PythonScriptEngine:
    """A SpiffWorkflow script engine that evaluates only what this module allows."""
    return PythonScriptEngine(environment=RestrictedEnvironment())
