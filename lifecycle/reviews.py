"""What reviewers said about an application, read from its procedure's history: the last
review (its items, reasons and comment), the reasons of the last return by item, and the
applicant's note when it resubmitted. Pages and the API show the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _reasons(data: dict[str, Any]) -> dict[str, list[str]]:
    reasons: dict[str, list[str]] = {}
    for item in data.get("items", []):
        if item.get("result") == "problem":
            reasons.setdefault(item.get("item", "general"), []).append(item.get("reason") or "")
    if data.get("comment"):
        reasons.setdefault("general", []).append(data["comment"])
    return reasons


def last_return(events: Sequence[Any]) -> dict[str, list[str]]:
    """The reasons of the latest return (a review's problems, an upheld objection), by review
    item (a stage, ``attachments`` or ``general``); empty once the applicant resubmitted."""
    for event in reversed(events):
        data = event.data or {}
        if event.kind != "task_completed":
            continue
        if data.get("decision") == "return":
            return _reasons(data)
        if data.get("decision") == "uphold":
            return {"general": [f"公示异议成立：{data.get('reason', '')}"]}
        if data.get("action") == "resubmit":
            return {}
    return {}


def last_review(events: Sequence[Any]) -> dict[str, Any] | None:
    """The latest item-by-item review: when, by whom, its decision, items and reasons, and
    the applicant's note if it resubmitted after it; None before any review."""
    note = None
    for event in reversed(events):
        data = event.data or {}
        if event.kind != "task_completed":
            continue
        if data.get("action") == "resubmit" and note is None:
            note = data.get("note") or ""
        if isinstance(data.get("items"), list):
            return {"at": event.created_at.isoformat(), "by": event.actor,
                    "decision": data.get("decision"), "items": data["items"],
                    "comment": data.get("comment"), "reasons": _reasons(data),
                    "amendment_note": note}
    return None
