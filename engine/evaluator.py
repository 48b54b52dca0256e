"""simpleeval's evaluator, with a deadline at every node and a size check before every build.

What it adds to ``simpleeval.EvalWithCompoundTypes``:

- the clock: before each node it evaluates, it compares ``time.monotonic()`` with the deadline
  of engine.limits (about 0.1 µs a node);
- the operators that build (``+``, ``*``, ``%``, ``**``), the displays (``[a, b]``), the
  comprehensions and the f-strings estimate what they would build and refuse it first;
- calls reach only engine.functions' checked functions, and a callable passed to one (a
  ``key=``) must be one of them: a method (``"x".ljust``, ``xs.append``) is never called.

simpleeval's walk of every node's result for forbidden functions is left out: calls never
reach a value, and values come from the task data, which holds none.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable
from time import monotonic
from typing import Any

import simpleeval

from . import limits
from .formats import formatted_size, percent_size
from .functions import CALLABLE, GUARDED, WITH_NAMES

_SEQUENCES = (str, list, tuple)


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, str) and isinstance(b, str):
        limits.check_string(len(a) + len(b))
    elif isinstance(a, _SEQUENCES[1:]) and isinstance(b, _SEQUENCES[1:]):
        limits.check_items(len(a) + len(b))
        limits.check_size(limits.measure([a, b]))
    return a + b


def _mult(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, _SEQUENCES):
        a, b = b, a
    if isinstance(a, _SEQUENCES) and isinstance(b, int):
        _check_repeat(a, b)
    elif isinstance(a, int) and isinstance(b, int):  # the product has this many bits, or one more
        limits.check_int(a.bit_length() + b.bit_length() - 1)
        product = a * b
        limits.check_int(product.bit_length())
        return product
    return a * b


def _check_repeat(sequence: str | list[Any] | tuple[Any, ...], times: int) -> None:
    times = max(times, 0)
    if isinstance(sequence, str):
        limits.check_string(len(sequence) * times)
    elif times:
        limits.check_items(len(sequence) * times)
        limits.check_size(limits.measure(sequence, limits.MAX_SIZE // times) * times)


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, str):
        limits.check_string(percent_size(a, b))
    return a % b


def _pow(a: Any, b: Any) -> Any:
    if isinstance(b, int | float) and abs(b) > limits.MAX_EXPONENT:
        raise limits.LimitExceeded(f"指数过大（超过 {limits.MAX_EXPONENT}）")
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        limits.check_int(int(b * math.log2(abs(a))) + 1)
    return a**b


def _refuse(*_args: Any) -> Any:
    raise simpleeval.FeatureNotAvailable("不支持移位运算")


OPERATORS: dict[type[ast.AST], Callable[..., Any]] = {
    **simpleeval.DEFAULT_OPERATORS,
    ast.Add: _add, ast.Mult: _mult, ast.Mod: _mod, ast.Pow: _pow,
    ast.LShift: _refuse, ast.RShift: _refuse,
}

_CONVERSIONS: dict[int, Callable[[Any], str]] = {ord("s"): str, ord("r"): repr, ord("a"): ascii}

_HANDLERS = {
    ast.Expr: "_eval_expr", ast.Name: "_eval_name", ast.Constant: "_eval_constant",
    ast.UnaryOp: "_eval_unaryop", ast.BinOp: "_eval_binop", ast.BoolOp: "_eval_boolop",
    ast.Compare: "_eval_compare", ast.IfExp: "_eval_ifexp", ast.Call: "_eval_call",
    ast.keyword: "_eval_keyword", ast.Subscript: "_eval_subscript",
    ast.Attribute: "_eval_attribute", ast.Slice: "_eval_slice",
    ast.JoinedStr: "_eval_joinedstr", ast.FormattedValue: "_eval_formattedvalue",
    ast.Dict: "_eval_dict", ast.Tuple: "_eval_tuple", ast.List: "_eval_list",
    ast.Set: "_eval_set", ast.ListComp: "_eval_comprehension",
    ast.SetComp: "_eval_comprehension", ast.DictComp: "_eval_comprehension",
}


class Evaluator(simpleeval.EvalWithCompoundTypes):
    """One evaluation's evaluator: its deadline is fixed when it is made."""

    def __init__(self, names: dict[str, Any]) -> None:  # simpleeval's would undo GUARDED
        self.operators = OPERATORS
        self.functions: dict[str, Callable[..., Any]] = {**GUARDED, **{
            name: functools.partial(function, names) for name, function in WITH_NAMES.items()}}
        self.names = names
        self.allowed_attrs = None
        self.ATTR_INDEX_FALLBACK = simpleeval.ATTR_INDEX_FALLBACK
        self.nodes = {kind: getattr(self, name) for kind, name in _HANDLERS.items()}
        self._ends, self._seconds = limits.deadline()
        self._scopes: list[dict[str, Any]] = []
        self._iterations = 0

    def _eval(self, node: ast.AST) -> Any:
        if monotonic() > self._ends:
            raise limits.timed_out(self._seconds)
        try:
            handler = self.nodes[type(node)]
        except KeyError:
            raise simpleeval.FeatureNotAvailable(f"不支持的语法: {type(node).__name__}") from None
        return handler(node)

    def _eval_name(self, node: ast.Name) -> Any:
        for scope in reversed(self._scopes):
            if node.id in scope:
                return scope[node.id]
        return super()._eval_name(node)

    def _eval_call(self, node: ast.Call) -> Any:
        function = self.functions.get(node.func.id) if isinstance(node.func, ast.Name) else None
        if function is None:
            raise simpleeval.FeatureNotAvailable(f"不允许调用的函数: {ast.unparse(node.func)}")
        args = [self._eval(arg) for arg in node.args]
        kwargs = dict(self._eval(keyword) for keyword in node.keywords)
        for value in (*args, *kwargs.values()):
            if callable(value) and id(value) not in CALLABLE:
                raise simpleeval.FeatureNotAvailable(
                    f"只能把允许的函数（如 len、str）传给函数，不能传入 "
                    f"{getattr(value, '__name__', type(value).__name__)}")
        return function(*args, **kwargs)

    def _eval_list(self, node: ast.List) -> Any:
        return _built(super()._eval_list(node))

    def _eval_tuple(self, node: ast.Tuple) -> Any:
        return _built(super()._eval_tuple(node))

    def _eval_set(self, node: ast.Set) -> Any:
        return _built(super()._eval_set(node))

    def _eval_dict(self, node: ast.Dict) -> Any:
        return _built(super()._eval_dict(node))

    def _eval_joinedstr(self, node: ast.JoinedStr) -> str:
        parts = [str(self._eval(value)) for value in node.values]
        limits.check_string(sum(len(part) for part in parts))
        return "".join(parts)

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> str:
        value = self._eval(node.value)
        if node.conversion in _CONVERSIONS:
            limits.check_string(_converted_size(value, node.conversion))
            value = _CONVERSIONS[node.conversion](value)
        spec = self._eval(node.format_spec) if node.format_spec else ""
        limits.check_string(formatted_size(value, spec))
        return format(value, spec)

    def _eval_comprehension(self, node: ast.ListComp | ast.SetComp | ast.DictComp) -> Any:
        collected = _Collected(node)
        self._scopes.append({})
        try:
            self._generate(node, 0, collected)
        finally:
            self._scopes.pop()
        return collected.value

    def _generate(self, node: ast.ListComp | ast.SetComp | ast.DictComp, index: int,
                  collected: _Collected) -> None:
        generator = node.generators[index]
        for item in self._eval(generator.iter):
            self._iterations += 1
            if self._iterations > limits.MAX_ITERATIONS:
                raise limits.LimitExceeded(f"推导式循环次数过多（超过 {limits.MAX_ITERATIONS} 次）")
            _bind(generator.target, item, self._scopes[-1])
            if generator.ifs and not all(self._eval(test) for test in generator.ifs):
                continue
            if index + 1 < len(node.generators):
                self._generate(node, index + 1, collected)
            elif isinstance(node, ast.DictComp):
                collected.add(self._eval(node.key), self._eval(node.value))
            else:
                collected.add(self._eval(node.elt))


def _converted_size(value: Any, conversion: int) -> int:
    """The longest ``str(value)``, ``repr(value)`` or ``ascii(value)`` can be (!s, !r, !a)."""
    if conversion == ord("s"):
        return limits.text_size(value, limits.MAX_STRING)
    return limits.measure(value, limits.MAX_STRING) * (10 if conversion == ord("a") else 1)


def _built(value: Any) -> Any:
    limits.check_items(len(value))
    limits.check_size(limits.measure(value))
    return value


def _bind(target: ast.expr, value: Any, scope: dict[str, Any]) -> None:
    """Assign a comprehension's item to its target, unpacking as Python does."""
    if isinstance(target, ast.Name):
        scope[target.id] = value
        return
    if not isinstance(target, ast.Tuple | ast.List):
        raise simpleeval.FeatureNotAvailable(f"不支持的循环变量: {ast.unparse(target)}")
    try:
        count = len(value)
    except TypeError:
        raise TypeError(f"{type(value).__name__} 类型的值不能拆开赋给 "
                        f"{ast.unparse(target)}") from None
    if count != len(target.elts):
        raise ValueError(f"循环变量 {ast.unparse(target)} 需要 {len(target.elts)} 个值，"
                         f"得到 {count} 个")
    for name, item in zip(target.elts, value, strict=True):
        _bind(name, item, scope)


class _Collected:
    """What a comprehension builds, its size counted as each element comes."""

    def __init__(self, node: ast.AST) -> None:
        self.value: Any = {} if isinstance(node, ast.DictComp) else (
            set() if isinstance(node, ast.SetComp) else [])
        self.size = 2

    def add(self, *item: Any) -> None:
        """Add an element (or a dict's key and value) if the result stays within the limits."""
        for part in item:
            self.size += limits.measure(part, limits.MAX_SIZE - self.size) + 2
        if self.size > limits.MAX_SIZE or len(self.value) >= limits.MAX_ITEMS:
            limits.check_size(self.size)
            limits.check_items(len(self.value) + 1)
        if type(self.value) is list:
            self.value.append(item[0])
        elif type(self.value) is set:
            self.value.add(item[0])
        else:
            self.value[item[0]] = item[1]
