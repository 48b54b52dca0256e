"""Workflows kept in memory after their step, for the next step of the same instance here.

A step rebuilds its instance's workflow from the stored state, advances it and stores it
again. When the next step of that instance runs in the same process (a worker running
close -> push -> record one after the other, a task completed just after the start), the
workflow that was stored is taken back instead of being rebuilt, if and only if the stored
state is still byte for byte the one it was written as: any other writer, a migration or a
failed step leaves no usable entry. An entry is taken, never shared: two threads cannot
hold the same workflow object.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from flask import current_app

SIZE = 128
"""Workflows kept per process by default (``CQPI_WORKFLOW_CACHE``; 0 turns it off)."""


class WarmWorkflows:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[int, bytes, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def take(self, instance_id: int, definition_id: int, state: bytes) -> Any | None:
        """The kept workflow of this instance if it is exactly this stored state, else None."""
        with self._lock:
            item = self._items.pop(instance_id, None)
        if item is not None and item[0] == definition_id and item[1] == bytes(state):
            self.hits += 1
            return item[2]
        self.misses += 1
        return None

    def keep(self, instance_id: int, definition_id: int, state: bytes, workflow: Any) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[instance_id] = (definition_id, state, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def warm() -> WarmWorkflows:
    """The current app's kept workflows."""
    return current_app.extensions["cqpi.warm"]
