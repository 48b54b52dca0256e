"""How long a formatted string will be, told from the format before it is built.

``"%020000000d" % 1`` or ``f"{1:020000000}"`` ask for twenty million characters in a few; the
evaluator asks these estimates first (upper bounds, never less than what Python builds) and
refuses what would pass the string limit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .limits import measure, text_size

_HUGE = 10**9
"""What a width or precision of more than nine digits counts as: too long in any case."""

_FLOAT_DIGITS = 450
"""Enough for any float written out in full (``f"{-1e308:,.0f}"``: 309 digits, 102 commas)."""

_PERCENT = re.compile(r"%(?:\((?P<key>[^)]*)\))?[-#0 +]*(?P<width>\*|\d+)?"
                      r"(?:\.(?P<precision>\*|\d*))?[hlL]?(?P<type>.?)", re.S)

_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d*)[,_]?(?:\.(?P<precision>\d*))?")


def _number(digits: str | None) -> int:
    digits = (digits or "").lstrip("0")
    return int(digits or "0") if len(digits) <= 9 else _HUGE


def _body(kind: str, value: Any, precision: int | None) -> int:
    """The longest a value converted by ``%<kind>`` (or a format spec's type) can be."""
    if kind in "eEfFgG%":
        return _FLOAT_DIGITS + (6 if precision is None else precision)
    if kind in "diouxXcbn":
        bits = value.bit_length() if isinstance(value, int) else 1100  # int(1e308): 1024 bits
        return max(2 * bits + 8, precision or 0)  # binary, grouped by four, at worst
    size = text_size(value) if kind == "s" else measure(value) * (10 if kind == "a" else 1)
    return size if precision is None else min(size, precision)


def percent_size(template: str, args: Any) -> int:
    """An upper bound of ``len(template % args)`` (0 where Python will refuse the args)."""
    positional: Iterator[Any] = iter(args if isinstance(args, tuple) else (args,))
    mapping = args if isinstance(args, Mapping) else {}
    size = len(template)
    for spec in _PERCENT.finditer(template):
        width = _star(spec["width"], positional)
        precision = _star(spec["precision"], positional) if spec["precision"] is not None else None
        kind = spec["type"]
        if kind == "%":
            size += max(width, 1)
            continue
        key = spec["key"]  # a key Python reads otherwise ("%((a))s"): any value of the mapping
        value = mapping.get(key, mapping) if key is not None else next(positional, 0)
        size += max(width, _body(kind or "s", value, precision))
    return size


def _star(digits: str | None, positional: Iterator[Any]) -> int:
    if digits != "*":
        return _number(digits)
    value = next(positional, 0)
    return abs(value) if isinstance(value, int) else 0


def formatted_size(value: Any, spec: str) -> int:
    """An upper bound of ``len(format(value, spec))``."""
    if not spec:
        return text_size(value)
    if isinstance(value, dt.date | dt.time):  # strftime: %c is the longest, 24 for 2
        return 50 * len(spec) + 50
    match = _SPEC.match(spec)
    assert match is not None  # every part of the pattern is optional
    precision = _number(match["precision"]) if match["precision"] is not None else None
    kind = spec[match.end():] or ("s" if isinstance(value, str) else "d")
    if not isinstance(value, int | float | str):
        kind = "s"
    if isinstance(value, float) and kind == "d":
        kind = "g"
    width = _number(match["width"]) + 1  # zeros padded with grouping may pass it by one
    return max(width, _body(kind[0], value, precision))
