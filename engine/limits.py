"""How much a diagram's expression may compute: sizes, and time.

Every limit is checked before the value it guards is built (the evaluator estimates a
result's size from its operands), so a refused expression costs next to nothing. Time is a
deadline the evaluator looks at before each syntax node it evaluates; the sizes keep every
single step between two looks (one operator, one builtin call) to a few milliseconds, so the
look is never late by much. ``time_limit`` lets the engine bound a whole step.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from typing import Any

import simpleeval

MAX_SOURCE = 2000
"""Longest expression or script accepted, in characters."""

MAX_NODES = 300
"""Most syntax nodes in one expression or script."""

MAX_INT_BITS = 4096
"""Largest integer an arithmetic step may produce."""

MAX_EXPONENT = 1000
"""Largest exponent of ``**`` (and digits ``round`` may round an integer to)."""

MAX_DATA_DEPTH = 64
"""Deepest nesting of lists and dicts in a value a script stores."""

MAX_STRING = 100_000
"""Longest string an expression may build, in characters."""

MAX_ITEMS = 10_000
"""Most elements of a list, tuple, set or dict an expression builds, or a builtin (``sorted``,
``list``, ``sum``, ``max``, ...) takes; a string given to one counts its characters."""

MAX_SIZE = 1_000_000
"""Largest value an expression may build, measured as its text (``repr``) would be, with the
values it holds several times (``[x] * 100``) counted each time: the state stores it so."""

MAX_ITERATIONS = 100_000
"""Most iterations of the comprehensions in one evaluation, nested ones included."""

MAX_SECONDS = 1.0
"""Longest one evaluation may run; ``time_limit`` may make it shorter."""


class LimitExceeded(simpleeval.InvalidExpression):
    """An expression would build too much, or ran out of time; the message names the limit."""


_deadline: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "expression_deadline", default=None)


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Evaluations inside end within ``seconds`` from now (or by an earlier enclosing limit)."""
    limit = (time.monotonic() + max(seconds, 0.0), seconds)
    outer = _deadline.get()
    token = _deadline.set(limit if outer is None or limit[0] < outer[0] else outer)
    try:
        yield
    finally:
        _deadline.reset(token)


def deadline() -> tuple[float, float]:
    """When an evaluation starting now must end (``time.monotonic``), and the limit in
    seconds that sets it, for the message."""
    own = (time.monotonic() + MAX_SECONDS, MAX_SECONDS)
    outer = _deadline.get()
    return outer if outer is not None and outer[0] < own[0] else own


def timed_out(seconds: float) -> LimitExceeded:
    return LimitExceeded(f"表达式运行超时（超过 {seconds:.3g} 秒）")


def check_string(length: int) -> None:
    if length > MAX_STRING:
        raise LimitExceeded(f"字符串过长（超过 {MAX_STRING} 个字符）")


def check_items(count: int) -> None:
    if count > MAX_ITEMS:
        raise LimitExceeded(f"列表、集合或字典过大（超过 {MAX_ITEMS} 个元素）")


def check_size(size: int) -> None:
    if size > MAX_SIZE:
        raise LimitExceeded(f"数据过大（写成文字超过 {MAX_SIZE} 个字符）")


def check_input(value: Any) -> None:
    """A builtin about to iterate, sort or hash ``value``: its length and its size."""
    if isinstance(value, str):
        check_items(len(value))
    elif isinstance(value, list | tuple | dict | set | frozenset):
        check_items(len(value))
        check_size(measure(value))


def check_int(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise LimitExceeded(f"整数过大（超过 {MAX_INT_BITS} 位）")


_CONTAINERS = (list, tuple, set, frozenset)
_SCALARS = {bool: 5, float: 25, type(None): 4}


def measure(value: Any, limit: int = MAX_SIZE) -> int:
    """An upper bound of ``len(repr(value))``; counting stops soon after passing ``limit``.

    The cost is that of walking the value (never more than about ``limit`` elements), so it
    is called where building or comparing the value costs as much anyway; the walk looks at
    the clock of the evaluation it serves every few thousand elements.
    """
    if type(value) in _SCALARS:
        return _SCALARS[type(value)]
    if type(value) is str:
        return _str_size(value)
    ends = _deadline.get()
    total, pending, visits = 0, [value], 0
    while pending and total <= limit:
        total += _size_of(pending.pop(), pending)
        visits += 1
        if not visits % 256 and ends is not None and time.monotonic() > ends[0]:
            raise timed_out(ends[1])
    return total


def _size_of(item: Any, pending: list[Any]) -> int:
    """The length of ``item``'s own text; the items it holds join ``pending``."""
    if type(item) in _SCALARS:
        return _SCALARS[type(item)]
    if isinstance(item, str):
        return _str_size(item)
    if isinstance(item, int):
        return item.bit_length() // 3 + 2
    if isinstance(item, _CONTAINERS):
        flat = _flat_size(item)
        if flat is None:
            pending.extend(item)
        return 2 + 2 * len(item) + (flat or 0)
    if isinstance(item, dict):
        keys, values = _flat_size(item), _flat_size(item.values())
        if keys is None or values is None:
            pending.extend(item)
            pending.extend(item.values())
        return 2 + 4 * len(item) + (keys or 0) + (values or 0)
    return 100  # a date, a duration, a UUID: a short text


def _flat_size(items: Any) -> int | None:
    """The size of a container's elements if they are all numbers or all strings, counted at
    C speed (a list of 10,000 numbers in about 0.2 ms); None otherwise."""
    kinds = set(map(type, items))
    if kinds <= _SCALARS.keys():
        return 25 * len(items)
    if kinds == {int}:
        return sum(map(int.bit_length, items)) // 3 + 2 * len(items)
    if kinds == {str}:
        return sum(map(_str_size, items))
    return None


def _str_size(text: str) -> int:
    """``len(repr(text))`` at most: quotes, escaped backslashes and quotes, or ``\\U...``."""
    if text.isprintable():
        return len(text) + 2 + text.count("\\") + text.count("'")
    return 10 * len(text) + 2


def text_size(value: Any, limit: int = MAX_SIZE) -> int:
    """An upper bound of ``len(str(value))``."""
    return len(value) if isinstance(value, str) else measure(value, limit)
