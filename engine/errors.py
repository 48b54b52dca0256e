"""Exceptions the engine raises to its callers."""

from __future__ import annotations


class EngineError(Exception):
    """Base class: every engine refusal carries a message fit for the person who asked."""


class NotFound(EngineError):
    """The instance, task, job or definition does not exist."""


class Conflict(EngineError):
    """Someone else changed the instance or took the task first; reload and try again."""


class InvalidState(EngineError):
    """The operation does not apply to the object in its current state."""


class ExpressionError(EngineError):
    """An expression in a diagram was refused or failed to evaluate."""


class StepFailed(EngineError):
    """The diagram could not advance (an expression failed, a path led nowhere, ...)."""

    def __init__(self, message: str, element_id: str | None = None) -> None:
        self.element_id = element_id
        super().__init__(message)


class StepOverBudget(StepFailed):
    """A step ran more elements, or for longer, than one step may (engine.budget)."""


class DefinitionInvalid(EngineError):
    """A diagram did not validate; ``problems`` lists what is wrong with it."""

    def __init__(self, problems: list) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
