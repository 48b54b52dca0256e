"""Where an intake's time goes, from the timestamps the engine keeps: engine_event rows
(instance started, task completed, job succeeded, timer fired, instance completed) and the
review task's engine_task row (created, completed)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import psycopg

MARKS = {
    ("job_succeeded", "Task_OpenPublicity"): "publicity opened",
    ("timer_fired", None): "publicity ended",  # the event-based gateway's timer (intake's one)
    ("job_succeeded", "Task_Push"): "pushed",
    ("instance_completed", None): "completed",
}
"""Events that mark the moments of an intake (kind, element) -> moment; ``submitted`` is the
application's ``submitted_at`` and the review task's moments are its engine_task row's."""

PHASES = (("submitted", "review task open"), ("review task open", "reviewed"),
          ("reviewed", "publicity opened"), ("publicity opened", "publicity ended"),
          ("publicity ended", "pushed"), ("pushed", "completed"))
WAITS = ("review task open -> reviewed", "publicity opened -> publicity ended")
"""Phases that wait by design (the client's review; the PT1S publicity and the 1 s tick),
left out when naming the slowest phase of the system's own work."""


def _submitted(conn: psycopg.Connection[Any], ids: list[int]) -> dict[int, datetime]:
    rows = conn.execute("SELECT instance_id, submitted_at FROM application WHERE id = ANY(%s) "
                        "AND instance_id IS NOT NULL", (ids,)).fetchall()
    return {iid: at for iid, at in rows}


def _moments(conn: psycopg.Connection[Any],
             submitted: dict[int, datetime]) -> tuple[dict[int, dict[str, datetime]], list[Any]]:
    moments: dict[int, dict[str, datetime]] = {i: {"submitted": at} for i, at in submitted.items()}
    instances = list(submitted)
    events = conn.execute("SELECT instance_id, kind, element_id, created_at FROM engine_event "
                          "WHERE instance_id = ANY(%s) ORDER BY instance_id, id",
                          (instances,)).fetchall()
    for iid, kind, element, at in events:
        mark = MARKS.get((kind, element)) or MARKS.get((kind, None))
        if mark:
            moments[iid].setdefault(mark, at)
    for iid, created, completed in conn.execute(
            "SELECT instance_id, created_at, completed_at FROM engine_task "
            "WHERE instance_id = ANY(%s) AND element_id = 'Task_DistrictReview'",
            (instances,)).fetchall():
        moments[iid]["review task open"] = created
        if completed is not None:
            moments[iid]["reviewed"] = completed
    return moments, events


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "mean_s": round(sum(values) / len(values), 3),
            "max_s": round(max(values), 3)}


def _phases(moments: dict[int, dict[str, datetime]]) -> dict[str, dict[str, float]]:
    out = {}
    for start, end in PHASES:
        gaps = [(m[end] - m[start]).total_seconds() for m in moments.values()
                if start in m and end in m]
        out[f"{start} -> {end}"] = _stats(gaps)
    return out


def _element_gaps(events: list[Any]) -> list[dict[str, Any]]:
    """Per (event kind, element): the time since the instance's previous event."""
    gaps: dict[str, list[float]] = defaultdict(list)
    previous: tuple[int, datetime] | None = None
    for iid, kind, element, at in events:
        if previous is not None and previous[0] == iid:
            gaps[f"{kind} {element or ''}".strip()].append((at - previous[1]).total_seconds())
        previous = (iid, at)
    found = [{"step": step, **_stats(values)} for step, values in gaps.items()]
    return sorted(found, key=lambda s: -s["mean_s"])


def measure(dsn: str, ids: list[int]) -> dict[str, Any]:
    """Throughput and the time of each phase and step over the applications ``ids``."""
    with psycopg.connect(dsn) as conn:
        moments, events = _moments(conn, _submitted(conn, ids))
    submitted = [m["submitted"] for m in moments.values() if "submitted" in m]
    pushed = [m["pushed"] for m in moments.values() if "pushed" in m]
    completed = [m["completed"] for m in moments.values() if "completed" in m]
    span = (max(pushed) - min(submitted)).total_seconds() if pushed and submitted else 0.0
    phases = _phases(moments)
    name, slowest = max(((k, v) for k, v in phases.items() if k not in WAITS),
                        key=lambda p: p[1].get("mean_s", 0.0))
    return {
        "applications": len(ids), "pushed": len(pushed), "completed": len(completed),
        "first_submit_to_last_push_s": round(span, 2),
        "first_submit_to_last_completed_s": round(
            (max(completed) - min(submitted)).total_seconds(), 2) if completed else None,
        "applications_per_s": round(len(pushed) / span, 2) if span else None,
        "phases": phases, "slowest_phase": {"phase": name, **slowest},
        "steps": _element_gaps(events),
    }
