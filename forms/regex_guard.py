"""Regular expressions written by analysts: compiled only when they cannot run away.

Python's ``re`` backtracks, so a pattern such as ``(a+)+b`` takes exponential time on a
string of ``a``; there is no timeout to fall back on. A pattern is therefore refused when
its shape is known to blow up, and it only ever runs against a bounded value:

- a repeated group (more than 5 times, or unbounded) that itself holds a repeat of varying
  length or an alternation: ``(a+)+``, ``(a|aa)*``, ``(\\w{1,3}){10,}``;
- a back reference (``(a)\\1``), whose matching is not polynomial at all;
- more than 3 unbounded repeats of a wide class (``.``, ``[^x]``), which stay polynomial but
  of a degree a thousand-character value makes slow (``.*a.*b.*c.*d``);
- more than :data:`MAX_PATTERN` characters, or anything ``re`` cannot compile.

Patterns are searched like JavaScript's ``RegExp.test`` (form-js) and JSON Schema's
``pattern``: unanchored unless the pattern anchors itself, and ``\\d``/``\\w`` match ASCII
only, as in JavaScript.
"""

from __future__ import annotations

import re
import re._constants as sre  # the parsed form is the only way to see a pattern's shape
import re._parser as sre_parse
from functools import lru_cache
from typing import Any

MAX_PATTERN = 500
"""The longest pattern accepted, in characters."""

MAX_INPUT = 1000
"""The longest value a pattern is run against; a longer one is not searched at all."""

SMALL_REPEAT = 5
"""A group repeated at most this many times may hold alternations and varying repeats."""

MAX_WIDE_REPEATS = 3
"""How many unbounded repeats of ``.`` or a negated class one pattern may hold."""

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def problem(pattern: Any) -> str | None:
    """Why ``pattern`` is refused (in Chinese), or None when it is safe to use."""
    if not isinstance(pattern, str):
        return "正则表达式应为字符串"
    if len(pattern) > MAX_PATTERN:
        return f"正则表达式过长（不能超过 {MAX_PATTERN} 个字符）"
    try:
        parsed = sre_parse.parse(pattern, re.ASCII)
        re.compile(pattern, re.ASCII)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        return f"正则表达式无法解析：{exc}"
    return _shape_problem(list(parsed))


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


def search(pattern: str, value: str) -> bool | None:
    """Whether ``value`` matches ``pattern`` (already accepted by :func:`problem`); None when
    ``value`` is longer than :data:`MAX_INPUT` and was not searched."""
    if len(value) > MAX_INPUT:
        return None
    return _compiled(pattern).search(value) is not None


def _shape_problem(items: list[Any]) -> str | None:
    wide = 0
    for op, arg in _walk(items):
        if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
            return "正则表达式不能使用反向引用（如 \\1）"
        if op in _REPEATS:
            low, high, body = arg
            if high > SMALL_REPEAT and _varies(list(body)):
                return ("正则表达式含有嵌套的重复（如 (a+)+ 或 (a|aa)*），"
                        "可能导致校验极慢，请改写为不嵌套的形式")
            if high == sre.MAXREPEAT and _is_wide(list(body)):
                wide += 1
    if wide > MAX_WIDE_REPEATS:
        return f"正则表达式中不限长度的 .* 或 [^…]* 过多（不能超过 {MAX_WIDE_REPEATS} 个）"
    return None


def _walk(items: list[Any]) -> list[tuple[Any, Any]]:
    """Every node of a parsed pattern, without recursion."""
    out: list[tuple[Any, Any]] = []
    stack = [items]
    while stack:
        for op, arg in stack.pop():
            out.append((op, arg))
            stack.extend(list(sub) for sub in _children(op, arg))
    return out


_CHILDREN: dict[Any, Any] = {
    **{op: lambda arg: [arg[2]] for op in _REPEATS},
    sre.SUBPATTERN: lambda arg: [arg[3]],
    sre.BRANCH: lambda arg: list(arg[1]),
    sre.ASSERT: lambda arg: [arg[1]],
    sre.ASSERT_NOT: lambda arg: [arg[1]],
    sre.ATOMIC_GROUP: lambda arg: [arg],
    sre.GROUPREF_EXISTS: lambda arg: [b for b in arg[1:] if b is not None],
}
"""Where the sub-patterns of each kind of parsed node are."""


def _children(op: Any, arg: Any) -> list[Any]:
    return _CHILDREN[op](arg) if op in _CHILDREN else []


def _varies(body: list[Any]) -> bool:
    """Whether ``body`` can match in more than one way by length: a repeat of varying count
    or an alternation (single characters are folded into a class by the parser)."""
    for op, arg in _walk(body):
        if op in _REPEATS and arg[0] != arg[1]:
            return True
        if op is sre.BRANCH:
            return True
    return False


def _is_wide(body: list[Any]) -> bool:
    if len(body) != 1:
        return False
    op, arg = body[0]
    if op in (sre.ANY, sre.NOT_LITERAL):
        return True
    return op is sre.IN and bool(arg) and arg[0][0] is sre.NEGATE
