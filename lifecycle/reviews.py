"""What reviewers said about an application, read from its procedure's history: the last
review (its items, reasons and comment), the reasons of the last return by item, and the
applicant's note when it resubmitted. Pages and the API show the same.

A return also keeps what was returned: ``registry.set_status`` puts a copy of the stage data
the reviewers saw into its result (``RETURNED_DATA``, in the instance's data and its history),
so that the next round can show what the applicant changed."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RETURNED_DATA = "returned_data"
"""The key of the returned round's stage data in ``registry.set_status``'s result."""


def snapshot(data: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of an application's stage data that later amendments leave alone."""
    return copy.deepcopy(data or {})


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


@dataclass
class Round:
    """The round before the current one: its return and the applicant's answer."""
    returned_at: datetime | None
    returned_by: str | None
    reasons: dict[str, list[str]]  # review item (a stage, attachments, general) -> reasons
    note: str  # the applicant's 修改说明
    data: dict[str, Any] | None = None  # stage data as returned; None where not kept
    resubmitted_at: datetime | None = None
    upheld: bool = False  # returned by an upheld objection rather than a review
    items: list[str] = field(default_factory=list)  # the items found with a problem


def previous_round(events: Sequence[Any]) -> Round | None:
    """The last return the applicant answered by resubmitting, with its reasons, the note of
    the resubmission and the stage data as returned; None before any resubmission."""
    found: Round | None = None
    for event in reversed(events):
        data = event.data or {}
        if found is None:
            if event.kind == "task_completed" and data.get("action") == "resubmit":
                found = Round(None, None, {}, data.get("note") or "",
                              resubmitted_at=event.created_at)
            continue
        result = data.get("result")
        if event.kind == "job_succeeded" and isinstance(result, dict) and \
                isinstance(result.get(RETURNED_DATA), dict) and found.data is None:
            found.data = result[RETURNED_DATA]
        if event.kind != "task_completed":
            continue
        if data.get("decision") == "return":
            found.reasons, found.items = _reasons(data), [
                i.get("item") for i in data.get("items", []) if i.get("result") == "problem"]
        elif data.get("decision") == "uphold":
            found.reasons, found.upheld = {"general": [
                f"公示异议成立：{data.get('reason', '')}"]}, True
        else:
            continue
        found.returned_at, found.returned_by = event.created_at, event.actor
        return found
    return found
