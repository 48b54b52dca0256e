"""The migrations create exactly the schema the models describe, on SQLite and PostgreSQL;
a migration that fills a new column from the data fills it as the code would have."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from engine.db import db
from engine.models import Instance
from handlers.inspection import open_inspection
from lifecycle import starts
from registry.models import Project
from tests.lifecycle.test_starts import NUMBER, START, self_check_people
from tests.processes.helpers import submit_intake


def _differences() -> list[object]:
    with db.engine.connect() as conn:
        return list(compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata))


def test_migrations_match_the_models(app: Flask) -> None:
    assert _differences() == []


def test_0018_fills_in_who_started_the_instances_there_were(app: Flask) -> None:
    """Down to 0017 and up again: the starters of the procedures started by hand (their audit
    record) and of the submitted applications (their history) come back, the system's
    inspection keeps none; the partial unique index on business keys survives (the column
    comes and goes in place: rebuilding the table fails on the rows that refer to it)."""
    who = self_check_people()
    project = db.session.scalar(sa.select(Project).filter_by(project_number=NUMBER))
    assert project is not None
    by_hand = starts.start("self_check", START, who.unit).instance_id
    application = submit_intake(who)
    inspection = open_inspection(project.id, "complaint")
    db.session.commit()
    recorded = _starters()
    assert recorded == {by_hand: who.unit.username,
                        application.instance_id: who.unit.username,
                        _instance_of(f"inspection-{inspection.id}"): None}

    db.session.close()
    try:
        downgrade(revision="0017")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("engine_instance")}
        assert "started_by" not in columns and "area" in columns
    finally:
        upgrade()
    assert _starters() == recorded
    assert _differences() == []
    with db.engine.connect() as conn:
        unique = {i["name"]: i for i in sa.inspect(conn).get_indexes("engine_instance")}
    assert unique["uq_engine_instance_active_key"]["unique"]
    assert unique["ix_engine_instance_started_by"]["column_names"] == ["started_by",
                                                                       "started_at"]


def _starters() -> dict[int, str | None]:
    db.session.expire_all()
    return {i: by for i, by in db.session.execute(sa.select(Instance.id, Instance.started_by))}


def _instance_of(key: str) -> int:
    found = db.session.scalar(sa.select(Instance.id).filter_by(business_key=key))
    assert found is not None
    return found
