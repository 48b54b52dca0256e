"""Migration 0019 (issue 18): the check_code table goes and comes back with the constraints
that keep one code per filing and each code to one filing; filings made before it have no
code and answer a lookup as an unknown number does."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from engine.db import db
from registry import checkcodes, publicity
from registry.models import CheckCode, Complaint

FILING = {"project_name": "某项目", "content": "业绩造假"}


def test_0019_down_and_up_keeps_the_filings_and_their_constraints(app: Flask) -> None:
    older = publicity.add_complaint(FILING)
    db.session.execute(sa.delete(CheckCode))  # as if filed before 0019
    db.session.commit()
    db.session.close()
    try:
        downgrade(revision="0018")
        with db.engine.connect() as conn:
            assert "check_code" not in sa.inspect(conn).get_table_names()
    finally:
        upgrade()
    with db.engine.connect() as conn:
        assert list(compare_metadata(MigrationContext.configure(
            conn, opts={"compare_type": True}), db.metadata)) == []
        unique = {tuple(u["column_names"]) for u in
                  sa.inspect(conn).get_unique_constraints("check_code")}
    assert {("complaint_id",), ("objection_id",)} <= unique
    assert db.session.get(Complaint, older.id) is not None
    assert publicity.lookup(f"TS{older.id:06d}", "ABCDEFGH") is None  # no code: not found

    newer = publicity.add_complaint(FILING)
    db.session.commit()
    code = checkcodes.issued(newer)
    assert code is not None and publicity.lookup(checkcodes.number_of(newer), code) is not None
    db.session.add(CheckCode(complaint_id=newer.id, digest="scrypt:again"))
    with pytest.raises(sa.exc.IntegrityError):  # one code per filing
        db.session.commit()
    db.session.rollback()
    db.session.add(CheckCode(digest="scrypt:nobody"))  # a code of no filing
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
