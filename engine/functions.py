"""The functions an expression may call, each behind a check of what it is given.

``FUNCTIONS`` is the allow-list the static checks read; ``GUARDED`` is what the evaluator
calls: the same functions, refusing (engine.limits) an input so big that one call would run
for long or build too much. A function's input is a value from the task data or one the
evaluator built within its limits.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import limits


def _days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


def data_get(names: Mapping[str, Any], name: Any, *keys: Any) -> Any:
    """The task data's variable ``name``, then its dict keys or list indexes ``keys``; None
    where a step is missing (FEEL's null for a missing variable or path), never an error.
    Only dict and list lookups: no attribute is ever read."""
    value = names.get(name) if isinstance(name, str) else None
    for key in keys:
        if isinstance(value, dict) and isinstance(key, str):
            value = value.get(key)
        elif isinstance(value, list) and type(key) is int and -len(value) <= key < len(value):
            value = value[key]
        else:
            return None
    return value


WITH_NAMES: dict[str, Callable[..., Any]] = {"data_get": data_get}
"""Functions the evaluator calls with the evaluation's names (the task data) first:
``data_get("a", "b")`` is ``data_get(names, "a", "b")``."""

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "str": str, "int": int, "float": float, "bool": bool,
    "abs": abs, "round": round, "min": min, "max": max, "sum": sum,
    "any": any, "all": all, "sorted": sorted, "list": list, "dict": dict,
    "set": set, "tuple": tuple, "days": _days, **WITH_NAMES,
}


def _inputs_checked(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` refusing a positional argument too long or too big to go over quickly."""

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for arg in args:
            limits.check_input(arg)
        return function(*args, **kwargs)

    return checked


def _str(*args: Any, **kwargs: Any) -> str:
    if args:
        limits.check_string(limits.text_size(args[0], limits.MAX_STRING))
    return str(*args, **kwargs)


def _round(number: Any, ndigits: Any = None) -> Any:
    if isinstance(number, int) and isinstance(ndigits, int) and ndigits < -limits.MAX_EXPONENT:
        raise limits.LimitExceeded(f"取整位数过大（超过 {limits.MAX_EXPONENT} 位）")
    return round(number, ndigits)


def _sum(values: Iterable[Any], /, start: Any = 0) -> Any:
    """``sum``; lists or tuples are joined in one pass, not copied at each addition."""
    limits.check_input(values)
    if not isinstance(start, list | tuple):
        return sum(values, start)
    parts = list(values)
    odd = next((p for p in parts if type(p) is not type(start)), None)
    if odd is not None:
        raise TypeError(f'can only concatenate {type(start).__name__} (not '
                        f'"{type(odd).__name__}") to {type(start).__name__}')
    limits.check_items(len(start) + sum(len(p) for p in parts))
    limits.check_size(limits.measure([start, *parts]))
    return type(start)(item for part in [start, *parts] for item in part)


GUARDED: dict[str, Callable[..., Any]] = {
    **FUNCTIONS,
    **{name: _inputs_checked(FUNCTIONS[name]) for name in (
        "min", "max", "any", "all", "sorted", "list", "dict", "set", "tuple")},
    "str": _str, "round": _round, "sum": _sum,
}
"""What the evaluator calls by each name of ``FUNCTIONS``."""

CALLABLE = frozenset(id(function) for function in GUARDED.values())
"""The only callables an expression may pass to a function (``sorted(xs, key=len)``)."""
