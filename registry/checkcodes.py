"""Check codes (查询码) of complaints and objections (issue 18): a random code given to the
filer once, at filing, and kept only as a salted scrypt hash (werkzeug's, as passwords are);
with it and the filing's number the filer looks up its progress without signing in.

A filing's number names its kind and row: ``TS000123`` a complaint (投诉), ``YY000045`` an
objection (异议). A lookup hashes the code whether or not the number is known, and compares
in constant time, so that a wrong number and a wrong code take alike and answer alike."""

from __future__ import annotations

import re
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstanceState
from werkzeug.security import check_password_hash, generate_password_hash

from engine.db import db

from .models import CheckCode, Complaint, Objection

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""Letters and digits nobody confuses when copying by hand (no 0/O, 1/I/L)."""
LENGTH = 8
"""31^8, about 8.5 × 10^11 codes: out of reach of a guesser throttled per address."""

PREFIXES = {"complaint": "TS", "objection": "YY"}
MAX_INPUT = 40
"""Longer numbers or codes are nobody's: they are answered as not found (after a hash)."""

_NUMBER = re.compile(r"(TS|YY)-?0*(\d{1,10})")
_DUMMY = generate_password_hash("timing-equaliser", method="scrypt")
_ISSUED = "cqpi.check_code"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def number_of(row: Complaint | Objection) -> str:
    """The number the filer is given: the kind's prefix and the row's id."""
    kind = "complaint" if isinstance(row, Complaint) else "objection"
    return f"{PREFIXES[kind]}{row.id:06d}"


def issue(row: Complaint | Objection) -> str:
    """Give a new filing its code (in the caller's transaction; a second code for the same
    filing violates the table's unique constraint); the clear code stays only on the row
    object until it is answered (``issued``)."""
    code = new_code()
    subject = ({"complaint_id": row.id} if isinstance(row, Complaint)
               else {"objection_id": row.id})
    db.session.add(CheckCode(digest=generate_password_hash(code, method="scrypt"), **subject))
    db.session.flush()
    _info(row)[_ISSUED] = code
    return code


def issued(row: Complaint | Objection) -> str | None:
    """The clear code given to this filing by this process (None for a row read back)."""
    code = _info(row).get(_ISSUED)
    return code if isinstance(code, str) else None


def _info(row: Complaint | Objection) -> dict[Any, Any]:
    """The row object's own dictionary (SQLAlchemy's InstanceState.info): never stored."""
    state: InstanceState[Any] = sa.inspect(row)
    return state.info


def _normal(text: str) -> str:
    return re.sub(r"[\s\-]", "", text).upper()


def find(number: str, code: str) -> Complaint | Objection | None:
    """The filing this number and code name together, or None: unknown number, wrong code,
    a filing made before codes existed, or input too long (each costs one hash)."""
    number, code = _normal(number), _normal(code)
    parsed = _NUMBER.fullmatch(number) if len(number) <= MAX_INPUT else None
    complaint, row_id, digest = True, 0, None
    if parsed and int(parsed.group(2)) <= 2**31 - 1:
        complaint, row_id = parsed.group(1) == PREFIXES["complaint"], int(parsed.group(2))
        column = CheckCode.complaint_id if complaint else CheckCode.objection_id
        digest = db.session.scalar(sa.select(CheckCode.digest).where(column == row_id))
    matched = check_password_hash(digest or _DUMMY, code[:MAX_INPUT])
    if not (matched and digest is not None and len(code) <= MAX_INPUT):
        return None  # the same work as a wrong code of a known number, up to here
    return db.session.get(Complaint, row_id) if complaint else db.session.get(Objection, row_id)
