"""Which language a diagram's expression is written in, and its translation into ours.

Camunda Modeler writes conditions and expressions in JUEL (Camunda 7: ``${...}`` or
``#{...}``) or FEEL (Camunda 8: a leading ``=``); both are translated (engine.juel,
engine.feel) into the Python subset of engine.expressions, so every dialect runs through the
same restricted evaluator and its limits.
"""

from __future__ import annotations

from . import feel, juel
from .errors import ExpressionError

DIALECTS = ("python", "juel", "feel")


def detect(source: str) -> str:
    """``"juel"`` for ``${...}``/``#{...}``, ``"feel"`` for ``=...``, else ``"python"``."""
    text = source.lstrip()
    if text.startswith(("${", "#{")):
        return "juel"
    return "feel" if text.startswith("=") else "python"


def to_engine(source: str, dialect: str) -> str:
    """``source`` as an expression of engine.expressions: unchanged if it is already one,
    translated otherwise; raises ExpressionError for what a dialect's translation refuses."""
    if dialect == "python":
        return source
    if dialect == "juel":
        return juel.translate(source)
    if dialect == "feel":
        return feel.translate(source)
    raise ExpressionError(f"未知的表达式语言 {dialect!r}（可用: {'、'.join(DIALECTS)}）")
