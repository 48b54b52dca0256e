"""The restricted evaluator for everything a diagram computes.

Diagrams are data uploaded by analysts, so their conditions, timer expressions, service
parameters and small assignment scripts never reach ``eval``/``exec``. They are checked
statically at deploy time (``check_expression``, ``check_script``) and evaluated at run time
by simpleeval (engine.evaluator) with an allow-list of functions (engine.functions), no
dunder or private attribute access, and the size and time limits of engine.limits. A
script is a sequence of ``name = expression`` lines and nothing else. What a script assigns
and what an expression gives must be data the engine can store in an instance's state (no
function, type or set): refused statically where it can be seen (``len`` used as a value)
and at run time otherwise.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import uuid
from collections.abc import Mapping
from typing import Any

import simpleeval
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .errors import ExpressionError
from .evaluator import Evaluator
from .functions import FUNCTIONS
from .limits import (  # noqa: F401 (re-exported: expressions.time_limit, MAX_STRING, ...)
    MAX_DATA_DEPTH,
    MAX_INT_BITS,
    MAX_ITEMS,
    MAX_ITERATIONS,
    MAX_NODES,
    MAX_SECONDS,
    MAX_SIZE,
    MAX_SOURCE,
    MAX_STRING,
    time_limit,
)

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


def _called_or_passed(tree: ast.AST) -> set[int]:
    """Ids of the nodes that are called, or passed to a call (``sorted(xs, key=len)``)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            ids.add(id(node.func))
            ids.update(id(arg) for arg in node.args)
            ids.update(id(kw.value) for kw in node.keywords)
    return ids


def _problem_in(tree: ast.AST) -> str | None:
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        return f"表达式过于复杂（超过 {MAX_NODES} 个语法节点）"
    called = _called_or_passed(tree)
    return next((problem for node in nodes if (problem := _node_problem(node, called))), None)


def _node_problem(node: ast.AST, called: set[int]) -> str | None:
    problem = None
    if not isinstance(node, _ALLOWED_NODES):
        problem = f"不允许的语法: {type(node).__name__}"
    elif isinstance(node, ast.Name):
        problem = _name_problem(node, called)
    elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        problem = f"不允许访问以下划线开头的属性: {node.attr}"
    elif isinstance(node, ast.Call) and not (
        isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
    ):
        problem = f"不允许调用的函数: {ast.unparse(node.func)}"
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and not _utf8(
            node.value):
        problem = "文字常量含有无效字符（不成对的 Unicode 代理字符），流程无法保存"
    return problem


def _name_problem(node: ast.Name, called: set[int]) -> str | None:
    if node.id.startswith("_"):
        return f"不允许使用以下划线开头的名称: {node.id}"
    if isinstance(node.ctx, ast.Load) and node.id in FUNCTIONS and id(node) not in called:
        return (f"函数 {node.id} 只能调用（如 {node.id}(…)），不能作为值使用：函数不是数据，"
                "流程无法保存")
    return None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_SCALARS = (type(None), bool, int, float)
_STORED_TYPES = (dt.datetime, dt.timedelta, uuid.UUID)
"""Types beyond JSON's that the engine's state serializer stores."""


def unstorable(value: Any, depth: int = 0) -> str | None:
    """Why ``value`` cannot be kept in an instance's state (serialized as JSON), or None."""
    if isinstance(value, _SCALARS + _STORED_TYPES):
        return None
    if isinstance(value, str):
        return None if _utf8(value) else "文字含有无效字符（不成对的 Unicode 代理字符）"
    if isinstance(value, list | tuple | dict):
        return _unstorable_items(value, depth)
    if isinstance(value, set | frozenset):
        return "集合不能保存，请用 sorted(…) 或 list(…) 转为列表"
    if callable(value):
        return f"{getattr(value, '__name__', type(value).__name__)} 是函数或类型，不是数据"
    return f"{type(value).__name__} 类型的值不是数据"


def _unstorable_items(value: list[Any] | tuple[Any, ...] | dict[Any, Any],
                      depth: int) -> str | None:
    if depth >= MAX_DATA_DEPTH:
        return f"数据嵌套过深（超过 {MAX_DATA_DEPTH} 层）"
    keys = list(value) if isinstance(value, dict) else []
    odd = next((k for k in keys if not isinstance(k, (str, *_SCALARS))), None)
    if odd is not None:
        return f"字典的键只能是文字或数字，不能是 {type(odd).__name__}"
    items = list(value.values()) if isinstance(value, dict) else value
    return next((p for v in [*keys, *items] if (p := unstorable(v, depth + 1))), None)


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
        if _is_set(stmt.value):
            return (f"脚本第 {stmt.lineno} 行赋的值是集合，流程无法保存：请用 sorted(…) 或 "
                    "list(…) 转为列表")
    return _problem_in(tree)


def _is_set(node: ast.expr) -> bool:
    """Whether an assigned value is visibly a set (which the state cannot store)."""
    return isinstance(node, ast.Set | ast.SetComp) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "set")


def evaluate(source: str, names: Mapping[str, Any]) -> Any:
    """Evaluate one expression against ``names`` (task data), refusing anything unsafe."""
    problem = check_expression(source)
    if problem:
        raise ExpressionError(f"表达式 {source!r} 被拒绝: {problem}")
    try:
        with time_limit(MAX_SECONDS):
            return Evaluator({**CONSTANTS, **names}).eval(source, _tree(source))
    except simpleeval.NameNotDefined as exc:
        raise ExpressionError(f"表达式 {source!r} 引用了未定义的变量 {exc.name}") from None
    except (simpleeval.InvalidExpression, ArithmeticError, TypeError, ValueError,
            KeyError, IndexError, AttributeError) as exc:
        raise ExpressionError(f"表达式 {source!r} 求值失败: {exc}") from None


@functools.lru_cache(maxsize=4096)
def _tree(source: str) -> ast.AST:
    """The parsed expression (checked first: ``check_expression``), parsed once."""
    return Evaluator.parse(source)


def execute(source: str, data: dict[str, Any]) -> None:
    """Run an assignment script: each ``name = expression`` line assigns a new value; the
    whole script runs within one evaluation's time (``MAX_SECONDS``)."""
    problem = check_script(source)
    if problem:
        raise ExpressionError(f"脚本被拒绝: {problem}")
    with time_limit(MAX_SECONDS):
        _run(ast.parse(source.strip(), mode="exec"), data)


def _run(tree: ast.Module, data: dict[str, Any]) -> None:
    for stmt in tree.body:
        assert isinstance(stmt, ast.Assign)
        value = evaluate(ast.unparse(stmt.value), data)
        names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
        problem = unstorable(value)
        if problem:
            raise ExpressionError(f"脚本第 {stmt.lineno} 行给变量 {'、'.join(names)} 赋的值无法"
                                  f"保存: {problem}")
        for name in names:
            data[name] = value


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script-engine environment, routed through the restricted evaluator."""

    def evaluate(self, expression, context, external_context=None):
        value = evaluate(expression, {**(external_context or {}), **context})
        problem = unstorable(value)  # a service task keeps its parameters in the state
        if problem:
            raise ExpressionError(f"表达式 {expression!r} 的结果无法作为流程数据: {problem}")
        return value

    def execute(self, script, context, external_context=None):
        execute(script, context)
        return True

    def call_service(self, context, **kwargs):
        raise ExpressionError("服务任务由作业执行，不在引擎步骤中调用")


def script_engine() -> PythonScriptEngine:
    """A SpiffWorkflow script engine that evaluates only what this module allows."""
    return PythonScriptEngine(environment=RestrictedEnvironment())
