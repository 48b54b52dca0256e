"""Service-task handlers, one module per capability, registered by operation name.

A handler is ``fn(params, context) -> dict | None``: idempotent, its result merged into the
task data. ``register`` adds every handler of the project to the engine's catalog.
"""

from __future__ import annotations

from engine.catalog import Catalog


def register(catalog: Catalog) -> None:
    """Add the project's service operations to ``catalog`` (none are built yet)."""
    del catalog
