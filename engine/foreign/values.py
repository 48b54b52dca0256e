"""Values written in a foreign dialect's attributes: expressions translated into the engine's
Python subset, literal lists of names, and ISO 8601 literals."""

from __future__ import annotations

import ast
import re

from ..dialects import detect, to_engine
from ..errors import ExpressionError

ISO_LITERAL = re.compile(
    r"(R\d*/[^\s\"']+|-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+([.,]\d+)?S)?)?"
    r"|\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d([.,]\d+)?)?(Z|[+-]\d\d:?\d\d)?)?)")
"""A bare ISO 8601 duration, repetition or date, as Camunda and Zeebe write timers."""

DURATION = re.compile(r"P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?")


def is_foreign(text: str) -> bool:
    return detect(text) != "python"


def translated(text: str) -> str:
    """``text`` (JUEL or FEEL) in the engine's dialect; raises ExpressionError."""
    return to_engine(text.strip(), detect(text))


def timer(text: str) -> str | None:
    """A timer's expression in the engine's dialect: a bare ISO literal quoted, JUEL or FEEL
    translated, None when it is already the engine's; raises ExpressionError."""
    stripped = text.strip()
    if ISO_LITERAL.fullmatch(stripped):
        return repr(stripped)
    return translated(stripped) if is_foreign(stripped) else None


def names(text: str) -> list[str]:
    """The names of a list written ``a, b`` or as a FEEL literal (``="a"``, ``=["a","b"]``);
    raises ExpressionError for anything computed."""
    stripped = text.strip()
    if detect(stripped) == "python":
        if "${" in stripped or "#{" in stripped:
            raise ExpressionError("须是固定的名称，不能是表达式")
        return [name.strip() for name in stripped.split(",") if name.strip()]
    if detect(stripped) == "juel":
        raise ExpressionError("须是固定的名称，不能是表达式")
    try:
        value = ast.literal_eval(translated(stripped))
    except (ValueError, SyntaxError):
        raise ExpressionError("须是固定的名称，不能是表达式") from None
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise ExpressionError("须是名称（字符串）")
    return [v.strip() for v in values if v.strip()]


def parameter(text: str) -> str:
    """An input mapping's value as an engine expression: JUEL/FEEL translated, else the text as
    a string (Camunda 7 and Zeebe both read text without ``${}`` or ``=`` as a literal)."""
    if is_foreign(text):
        return translated(text)
    return repr(text)
