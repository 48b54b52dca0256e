"""Diagrams from other tools, adapted in place to the engine's dialect before they are checked.

Camunda Modeler writes Camunda 7 (``camunda:`` attributes, JUEL ``${…}``) and Camunda 8
(``zeebe:`` extension elements, FEEL ``=…``); spiff-arena writes ``spiffworkflow:`` elements.
What maps onto the engine's notions is rewritten as the engine's own (a form key property, a
lane, a service operator, Python expressions); what does not is refused once per element and
construct, saying what to write instead. Deployed diagrams are stored as uploaded and adapted
again whenever they are parsed; adapting a diagram twice changes nothing more.
"""

from __future__ import annotations

from typing import Any

from ..problems import Problem
from . import expressions, refusals, service_tasks, user_tasks
from .embedded import take_forms
from .user_tasks import LaneOf


def adapt(file: str, root: Any, lane_of: LaneOf) -> list[Problem]:
    """Rewrite the diagram ``root`` of ``file`` in place; the problems of what cannot be.
    ``lane_of`` tells the catalog lane a candidate group stands for."""
    found = [*user_tasks.adapt(file, root, lane_of), *service_tasks.adapt(file, root),
             *expressions.adapt(file, root), *refusals.adapt(file, root)]
    seen: set[tuple[str, int | None, str]] = set()
    problems = []
    for problem in found:
        key = (problem.element_id, None if problem.element_id else problem.line, problem.message)
        if key not in seen:
            seen.add(key)
            problems.append(problem)
    return problems


__all__ = ["LaneOf", "adapt", "take_forms"]
