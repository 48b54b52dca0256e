"""The budget of one engine step: how many elements it may run and for how long.

A diagram is data from an analyst; a loop without a wait state or an expression that works
for a minute must not hold an instance (and SQLite's write lock) for ever. Each step counts
the elements SpiffWorkflow runs and watches the clock between them (and the expressions
watch it inside, engine.expressions.time_limit);
over budget, it stops at once with StepOverBudget naming the element that was running, and
the caller rolls the step back. The defaults are far above what a real procedure needs
(measured: tests/engine/test_budget.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from .errors import StepOverBudget

MAX_ELEMENTS = 2000
"""Default: elements one step may run (``CQPI_STEP_MAX_ELEMENTS``)."""

MAX_SECONDS = 5.0
"""Default: seconds one step may run its elements (``CQPI_STEP_MAX_SECONDS``)."""


@dataclass
class Budget:
    max_elements: int
    max_seconds: float
    started: float = field(default_factory=time.monotonic)
    elements: int = 0
    running: str | None = None
    """The id of the element that runs now (or ran last)."""

    @classmethod
    def configured(cls) -> Budget:
        cfg = current_app.config
        return cls(int(cfg.get("CQPI_STEP_MAX_ELEMENTS") or MAX_ELEMENTS),
                   float(cfg.get("CQPI_STEP_MAX_SECONDS") or MAX_SECONDS))

    def before(self, task: Any) -> None:
        """Count the element SpiffWorkflow is about to run (its ``will_complete_task``)."""
        self.running = task.task_spec.bpmn_id or task.task_spec.name
        self.elements += 1
        if self.elements > self.max_elements:
            raise self._over(f"运行了超过 {self.max_elements} 个环节（可能是没有等待环节的循环）")
        if self.spent():
            raise self.over_time()

    def seconds_left(self) -> float:
        return max(self.max_seconds - self._elapsed(), 0.0)

    def spent(self) -> bool:
        return self._elapsed() >= self.max_seconds

    def over_time(self) -> StepOverBudget:
        return self._over(f"运行超过 {self.max_seconds:g} 秒")

    def _elapsed(self) -> float:
        return time.monotonic() - self.started

    def _over(self, what: str) -> StepOverBudget:
        where = f"“{self.running}”" if self.running else ""
        return StepOverBudget(f"流程在环节{where}处超出单步执行预算：{what}。本步已撤销、"
                              "未写入任何变更，请联系运维人员检查流程图",
                              self.running)
