"""What diagrams may name: service operations (handlers), user-task form keys, the messages
the application delivers and the lanes (candidate groups) whose tasks someone works.

The engine knows only names; the app fills the catalog at start-up (handlers register
their operations, forms their keys, the web the messages it correlates), and validation
refuses a diagram that names anything the catalog lacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Handler = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any] | None]
"""A service handler: (parameters, context) -> data to merge into the task, or None."""


@dataclass
class Catalog:
    operations: dict[str, Handler] = field(default_factory=dict)
    form_keys: set[str] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)
    """Names of the messages something delivers (``engine.correlate``): a catch event waiting
    for any other name would wait for ever."""
    periodic: list[Callable[[], object]] = field(default_factory=list)
    """Functions the scheduler tick calls every time (each decides whether work is due)."""
    task_listeners: list[Callable[[list[Any]], object]] = field(default_factory=list)
    """Functions told of the user tasks a step creates, in the step's transaction."""
    incident_listeners: list[Callable[[Any, str], object]] = field(default_factory=list)
    """Functions told of an incident as it opens (the instance, the failing element's id),
    in the transaction that records it."""
    lanes: dict[str, str] = field(default_factory=dict)
    """Lane name (a user task's candidate group) -> the role whose users work its tasks: a
    user task in any other lane would wait for someone who never sees it."""
    lane_aliases: dict[str, str] = field(default_factory=dict)
    """Other names of those lanes (a role's id, its Chinese name) -> the lane."""
    form_kinds: dict[str, Callable[[Any], list[str]]] = field(default_factory=dict)
    """Kinds of form a deployment may hold ("form-js", "json-schema") -> the check of one
    document of that kind (its problems, in words for analysts)."""
    due_at: Callable[[datetime, str], datetime | None] | None = None
    """When a user task created at a time (naive UTC) with a ``dueIn`` duration is due, by
    the application's calendar (working days); None from it, or no hook, and the engine adds
    the duration as elapsed time."""

    def add_operation(self, name: str, handler: Handler) -> None:
        if name in self.operations and self.operations[name] is not handler:
            raise ValueError(f"operation {name!r} is registered twice")
        self.operations[name] = handler

    def add_form_keys(self, keys: Iterable[str]) -> None:
        self.form_keys.update(keys)

    def add_messages(self, names: Iterable[str]) -> None:
        self.messages.update(names)

    def add_lanes(self, lanes: dict[str, str]) -> None:
        self.lanes.update(lanes)

    def add_lane_aliases(self, aliases: dict[str, str]) -> None:
        self.lane_aliases.update(aliases)

    def add_form_kind(self, kind: str, check: Callable[[Any], list[str]]) -> None:
        self.form_kinds[kind] = check

    def lane_of(self, name: str | None, declared: dict[str, str] | None = None) -> str | None:
        """The lane that ``name`` stands for: itself, what the deployment declares it to be
        (``declared``), or another name of a lane (a role's id); None when unknown."""
        name = (declared or {}).get(name or "", name or "")
        return name if name in self.lanes else self.lane_aliases.get(name)

    def role_of(self, group: str | None) -> str | None:
        """The role that works tasks of lane ``group``, None for an unknown lane."""
        return self.lanes.get(group or "")

    def group_of(self, role: str) -> str | None:
        """The lane whose tasks users of ``role`` work, if any."""
        return next((group for group, r in self.lanes.items() if r == role), None)

    def handler(self, name: str) -> Handler:
        try:
            return self.operations[name]
        except KeyError:
            raise LookupError(f"未注册的服务操作: {name}") from None
