"""Storage per finished instance (PostgreSQL) and the memory of the processes that serve.

Bytes per instance are the sum of ``pg_column_size`` of every row an instance has in the
engine's tables (its instance row, user tasks, jobs, timers, message waits, incidents,
events), divided by the number of instances: the data as stored, after PostgreSQL's own
compression, without indexes and page overhead. The growth of the engine tables' total
relation size (indexes and free space included) over the same run is given beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

ENGINE_TABLES = (("engine_instance", "id"), ("engine_task", "instance_id"),
                 ("engine_job", "instance_id"), ("engine_timer", "instance_id"),
                 ("engine_message_wait", "instance_id"), ("engine_incident", "instance_id"),
                 ("engine_event", "instance_id"))
"""Every engine table that holds rows of one instance, with the column that names it."""

METHOD = ("sum of pg_column_size(row) of the instance's rows in engine_instance, engine_task, "
          "engine_job, engine_timer, engine_message_wait, engine_incident, engine_event, "
          "divided by the number of instances (no indexes)")


def row_bytes(dsn: str, instance_ids: Sequence[int]) -> dict[str, Any]:
    """Stored bytes and rows per instance over ``instance_ids``, in total and by table."""
    ids = list(instance_ids)
    n = max(1, len(ids))
    by_table: dict[str, dict[str, float]] = {}
    with psycopg.connect(dsn) as conn:
        for table, column in ENGINE_TABLES:
            rows, size = conn.execute(
                f"SELECT count(*), coalesce(sum(pg_column_size(t.*)), 0) FROM {table} t "
                f"WHERE t.{column} = ANY(%s)", (ids,)).fetchone() or (0, 0)
            by_table[table] = {"rows": round(rows / n, 2), "bytes": round(int(size) / n)}
    return {"method": METHOD, "instances": len(ids),
            "bytes_per_instance": sum(int(t["bytes"]) for t in by_table.values()),
            "rows_per_instance": round(sum(t["rows"] for t in by_table.values()), 2),
            "by_table": by_table}


def relation_bytes(dsn: str) -> int:
    """The total size of the engine tables with their indexes and TOAST."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE 'engine%%'"
        ).fetchone()
    return int(row[0]) if row else 0
