"""Bulk seeding: many rows at once (COPY on PostgreSQL, executemany on SQLite), and copies of
a stored instance state with fresh SpiffWorkflow task ids."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import islice
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from psycopg.types.json import Jsonb

from engine.db import Base, db

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BATCH = 20_000


class StateCopier:
    """Copies of one stored (compressed JSON) workflow state, each with its own task ids."""

    def __init__(self, blob: bytes) -> None:
        text = zlib.decompress(blob).decode()
        self.ids = UUID.findall(text)
        self.segments = UUID.split(text)
        self.distinct = list(dict.fromkeys(self.ids))

    def copy(self) -> tuple[bytes, dict[str, str]]:
        """A new state, and the map from the template's task ids to the copy's."""
        mapping = {old: str(uuid4()) for old in self.distinct}
        out = [self.segments[0]]
        for old, segment in zip(self.ids, self.segments[1:], strict=True):
            out.append(mapping[old])
            out.append(segment)
        return zlib.compress("".join(out).encode(), 1), mapping


def rows_of(table: str, where: str, **params: Any) -> list[dict[str, Any]]:
    """Every column of the rows of ``table`` that match ``where`` (in the current session)."""
    result = db.session.execute(sa.text(f"SELECT * FROM {table} WHERE {where}"), params)
    return [dict(row) for row in result.mappings()]


def columns(table: str, *, without: Sequence[str] = ()) -> list[str]:
    """The columns of an engine or registry table, as the models declare them."""
    return [c.name for c in Base.metadata.tables[table].columns if c.name not in without]


def check_columns(table: str, names: Sequence[str]) -> None:
    """Fail loudly when a hand-written column list no longer matches the model."""
    declared = set(columns(table))
    if set(names) != declared:
        raise RuntimeError(f"{table}: the bench writes {sorted(names)}, the model declares "
                           f"{sorted(declared)}")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _sqlite_time(value: datetime) -> str:
    return value.isoformat(sep=" ", timespec="microseconds")


def _converters(table: str, names: Sequence[str], postgres: bool) -> list[Any]:
    """Per column: how a Python value is written (None: as it is)."""
    declared = Base.metadata.tables[table].columns
    found: list[Any] = []
    for name in names:
        kind = declared[name].type
        if isinstance(kind, sa.JSON):
            found.append(Jsonb if postgres else _json)
        elif isinstance(kind, sa.DateTime) and not postgres:
            found.append(_sqlite_time)
        else:
            found.append(None)
    return found


def insert(table: str, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (tuples in the order of ``names``) in batches; how many were written."""
    postgres = db.engine.dialect.name == "postgresql"
    convert = _converters(table, names, postgres)
    pairs = [(i, c) for i, c in enumerate(convert) if c is not None]
    raw = db.engine.raw_connection()
    written = 0
    try:
        it = iter(rows)
        while batch := list(islice(it, BATCH)):
            if pairs:
                batch = [_converted(row, pairs) for row in batch]
            (_copy if postgres else _executemany)(raw, table, names, batch)
            raw.commit()
            written += len(batch)
    finally:
        raw.close()
    return written


def _converted(row: Sequence[Any], pairs: list[tuple[int, Any]]) -> list[Any]:
    out = list(row)
    for i, convert in pairs:
        if out[i] is not None:
            out[i] = convert(out[i])
    return out


def _copy(raw: Any, table: str, names: Sequence[str], batch: list[Sequence[Any]]) -> None:
    with raw.cursor().copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        for row in batch:
            copy.write_row(row)


def _executemany(raw: Any, table: str, names: Sequence[str],
                 batch: list[Sequence[Any]]) -> None:
    marks = ", ".join("?" for _ in names)
    raw.cursor().executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
                             batch)


def next_id(table: str) -> int:
    return int(db.session.scalar(sa.text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")))


def reset_ids(tables: Sequence[str]) -> None:
    """Move PostgreSQL's id sequences past ids that were written explicitly."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in tables:
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"))
    db.session.commit()


def analyze(tables: Sequence[str]) -> None:
    """Refresh the planner's statistics after a bulk load."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(sa.text(f"ANALYZE {table}"))
