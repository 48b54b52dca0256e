"""The business keys that tie an application, or a key inspection, to its procedure: one
encoder, one decoder each."""

from __future__ import annotations

import re

from engine.db import db
from engine.models import Instance
from registry.models import Application

PREFIX = "application-"
_KEY = re.compile(r"application-([1-9][0-9]{0,9})")
INSPECTION_PREFIX = "inspection-"
_INSPECTION_KEY = re.compile(r"inspection-([1-9][0-9]{0,9})")


def business_key(application_id: int) -> str:
    return f"{PREFIX}{application_id}"


def application_id_of(key: str | None) -> int | None:
    """The application id a business key names, None for any other key."""
    found = _KEY.fullmatch(key or "")
    if found is None or int(found.group(1)) > 2**31 - 1:
        return None
    return int(found.group(1))


def inspection_key(inspection_id: int) -> str:
    """The business key of a key inspection's procedure (R-SUP-7)."""
    return f"{INSPECTION_PREFIX}{inspection_id}"


def inspection_id_of(key: str | None) -> int | None:
    """The inspection id a business key names, None for any other key."""
    found = _INSPECTION_KEY.fullmatch(key or "")
    if found is None or int(found.group(1)) > 2**31 - 1:
        return None
    return int(found.group(1))


def application_of(instance: Instance | int | None) -> Application | None:
    """The application whose procedure ``instance`` (or the instance of that id) is."""
    if isinstance(instance, int):
        instance = db.session.get(Instance, instance)
    application_id = application_id_of(instance.business_key if instance else None)
    return db.session.get(Application, application_id) if application_id else None
