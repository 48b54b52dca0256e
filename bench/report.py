"""The results: every figure beside its budget and the previous run's value; the JSON files
under bench/results/ (``<date>-<commit>[-quick][-<scenario>].json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .support import figure

RESULTS = Path(__file__).with_name("results")
SCENARIOS_WITH_FIGURES = ("approval_http", "inbox", "intake_e2e", "reliability", "signin",
                          "statistics")
"""Scenarios whose results carry their own ``figures`` and ``notes``."""


def engine_step_figures(engine_step: dict[str, Any]) -> list[dict[str, Any]]:
    """The engine-step scenario's figures (it reports in its own shape, kept as it was)."""
    found = []
    for backend, res in engine_step.items():
        # DESIGN.md sets the budget on PostgreSQL; SQLite's ratio is shown for information
        # (its floor, an in-process page write, is no network round trip)
        budget = res["budget_ratio"] if backend == "postgresql" else None
        found.append(figure(f"engine_step.{backend}.ratio_p50",
                            f"engine step vs bare one-row update, p50 ({backend})",
                            res["ratio_p50"], "x", budget))
        found.append(figure(f"engine_step.{backend}.step_p50",
                            f"engine step, persisted, p50 ({backend})",
                            res["step"]["p50_ms"], "ms"))
    return found


def figures_of(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every figure of a results file (older files have only the engine step)."""
    if "figures" in results:
        return list(results["figures"])
    return engine_step_figures(results.get("engine_step", {}))


def file_name(results: dict[str, Any]) -> str:
    parts = [results["date"][:10], results["commit"]]
    if results.get("quick"):
        parts.append("quick")
    if results.get("only"):
        parts.append(results["only"])
    return "-".join(parts) + ".json"


def previous(quick: bool) -> dict[str, tuple[Any, str]]:
    """For each figure key, its value in the newest earlier results file of the same kind
    (full or quick) that has it, with that file's name."""
    runs = []
    for path in RESULTS.glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if bool(data.get("quick")) == quick:
            runs.append((data.get("date", ""), path.name, data))
    found: dict[str, tuple[Any, str]] = {}
    for _, name, data in sorted(runs, key=lambda r: (r[0], r[1]), reverse=True):
        for fig in figures_of(data):
            found.setdefault(fig["key"], (fig["value"], name))
    return found


def _amount(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "B" and value >= 1024:
        value, unit = round(value / 1024, 1), "KB"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value}x" if unit == "x" else f"{value} {unit}"


def _row(fig: dict[str, Any], before: tuple[Any, str] | None) -> str:
    op = "<=" if fig["better"] == "lower" else ">="
    budget = "-" if fig["budget"] is None else f"{op} {_amount(fig['budget'], fig['unit'])}"
    verdict = {True: "met", False: "MISSED", None: "(info)"}[fig["met"]]
    was = _amount(before[0], fig["unit"]) if before else "-"
    return (f"| {fig['label']} | {budget} | {_amount(fig['value'], fig['unit'])} "
            f"| {verdict} | {was} |")


def print_table(results: dict[str, Any], before: dict[str, tuple[Any, str]]) -> None:
    print("\n| figure | budget | result | verdict | previous |")
    print("|---|---|---|---|---|")
    for fig in results["figures"]:
        print(_row(fig, before.get(fig["key"])))
    for name, error in results.get("errors", {}).items():
        print(f"| {name} | - | ERROR: {error.splitlines()[0][:120]} | MISSED | - |")
    for name in SCENARIOS_WITH_FIGURES:
        for note in results.get(name, {}).get("notes", []):
            print(f"- {name}: {note}")
    sources = sorted({src for key, (_, src) in before.items()
                      if any(f["key"] == key for f in results["figures"])})
    print(f"\nprevious: {', '.join('bench/results/' + s for s in sources) or 'none'}")
    missed = [f["label"] for f in results["figures"] if f["met"] is False]
    print(f"budgets missed: {len(missed)} of "
          f"{sum(1 for f in results['figures'] if f['met'] is not None)}; durations: "
          + ", ".join(f"{k} {v} s" for k, v in results.get("durations_s", {}).items()))


def write(results: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / file_name(results)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return path
