"""What the JUEL and FEEL tests check alike."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from engine.errors import ExpressionError
from engine.expressions import check_expression, evaluate


def assert_only_expression_errors(translate: Callable[[str], str], source: str) -> None:
    """``source`` is refused with ExpressionError, or translated into an expression the
    evaluator accepts and runs (failing, if it does, with ExpressionError only)."""
    try:
        python = translate(source)
    except ExpressionError:
        return
    assert check_expression(python) is None
    with contextlib.suppress(ExpressionError):
        evaluate(python, {"a": {"b": [1]}, "b": 2})
