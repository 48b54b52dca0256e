"""Chongqing's jurisdictions (GB/T 2260 codes plus the functional zones, A-7), kept in the
repository and synchronised into the ``jurisdiction`` table."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from engine.db import db

from .models import Jurisdiction

CSV = Path(__file__).with_name("data") / "jurisdictions.csv"


@cache
def table() -> dict[str, tuple[str, str]]:
    """code -> (name, kind), read once from the CSV."""
    with CSV.open(encoding="utf-8", newline="") as f:
        return {row["code"]: (row["name"], row["kind"]) for row in csv.DictReader(f)}


def sync() -> int:
    """Insert or update every jurisdiction of the CSV; returns how many rows changed."""
    changed = 0
    for code, (name, kind) in table().items():
        row = db.session.get(Jurisdiction, code)
        if row is None:
            db.session.add(Jurisdiction(code=code, name=name, kind=kind))
            changed += 1
        elif (row.name, row.kind) != (name, kind):
            row.name, row.kind = name, kind
            changed += 1
    db.session.commit()
    return changed


def name_of(code: str) -> str:
    return table().get(code, (code, ""))[0]


KINDS = {"district": "区", "county": "县", "zone": "功能区"}
"""A jurisdiction's kind as people call it, in the order choices list them."""


@cache
def grouped() -> dict[str, dict[str, str]]:
    """The jurisdictions by kind (its Chinese name -> {code: name}), for a grouped choice."""
    groups: dict[str, dict[str, str]] = {title: {} for title in KINDS.values()}
    for code, (name, kind) in table().items():
        groups.setdefault(KINDS.get(kind, kind), {})[code] = name
    return {title: codes for title, codes in groups.items() if codes}
