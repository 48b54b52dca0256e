"""The application lifecycle: the one owner of an application's status.

- ``states``: the statuses, their Chinese labels, the allowed moves, and ``move`` (the only
  function that changes a status: checked, compare-and-set, audited, the applicant told);
- ``submission``: what the applicant does (amend, submit and start the procedure, withdraw);
- ``tasks``: who works which task, and completing one (form, guards, move, step together);
- ``forms``: the form of a task (a product form or one deployed with its diagram): loading
  a submission, its JSON Schema;
- ``starts``: starting any other deployed procedure by the role of its start event's lane;
- ``events``: what the procedure, the public and the Ministry do to an application;
- ``guards``: the guide's checks at the boundary (stage data, materials, review items);
- ``keys``: the business key between an application and its procedure.

The API, the pages and the handlers call these; none moves a status by itself. Depends on
``engine``, ``registry`` and ``forms``; ``web`` and ``handlers`` depend on it.
"""

from __future__ import annotations

from engine.catalog import Catalog
from registry import deadlines

from . import events, guards, keys, states, submission, tasks
from .events import MESSAGES
from .keys import application_id_of, application_of, business_key
from .states import LABELS, MOVES, StatusConflict, label, move
from .tasks import LANE_ROLES

__all__ = ["LABELS", "LANE_ROLES", "MESSAGES", "MOVES", "StatusConflict", "application_id_of",
           "application_of", "business_key", "events", "guards", "keys", "label", "move",
           "register", "states", "submission", "tasks"]


def register(catalog: Catalog) -> None:
    """Tell the engine's catalog the lanes, the messages and the incident listener."""
    catalog.add_lanes({group: str(role) for group, role in LANE_ROLES.items()})
    catalog.add_lane_aliases({str(role): group for group, role in LANE_ROLES.items()})
    catalog.add_messages(MESSAGES)
    catalog.incident_listeners.append(events.incident_opened)
    catalog.due_at = deadlines.task_due  # dueIn of whole days counts working days
