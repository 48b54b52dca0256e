"""Service-task handlers, one module per capability, registered by operation name.

A handler is ``fn(params, context) -> dict | None``: idempotent, its result merged into the
task data (or stored under the diagram's result variable).
"""

from __future__ import annotations

from engine.catalog import Catalog

from . import entries, inspection, notify, publicity, push, sampling, schedule

OPERATIONS = {
    "publicity.open": publicity.open_notice,
    "publicity.resume": publicity.resume_notice,
    "publicity.close": publicity.close_notice,
    "national_push.application": push.push_application,
    "national_push.grade": push.push_grade,
    "national_push.correction": push.push_correction,
    "registry.apply_correction": entries.apply_correction,
    "registry.set_status": entries.set_status,
    "registry.apply_entry": entries.apply_entry,
    "registry.set_grade": entries.set_grade,
    "sampling.in_process": sampling.in_process,
    "sampling.monthly": sampling.monthly,
    "inspection.open_for_failed_samples": inspection.open_for_failed_samples,
    "inspection.close": inspection.close,
    "registry.mark_false": entries.mark_false,
    "national_push.fraud_mark": push.push_fraud_mark,
}
"""Operation name (as diagrams name it) -> handler."""


def register(catalog: Catalog) -> None:
    """Add the project's service operations to ``catalog``."""
    for name, handler in OPERATIONS.items():
        catalog.add_operation(name, handler)
    catalog.periodic.append(schedule.monthly_sampling_due)
    catalog.task_listeners.append(notify.tasks_arrived)
