"""The business key that ties an application to its procedure: one encoder, one decoder."""

from __future__ import annotations

import re

from engine.db import db
from engine.models import Instance
from registry.models import Application

PREFIX = "application-"
_KEY = re.compile(r"application-([1-9][0-9]{0,9})")


def business_key(application_id: int) -> str:
    return f"{PREFIX}{application_id}"


def application_id_of(key: str | None) -> int | None:
    """The application id a business key names, None for any other key."""
    found = _KEY.fullmatch(key or "")
    if found is None or int(found.group(1)) > 2**31 - 1:
        return None
    return int(found.group(1))


def application_of(instance: Instance | int | None) -> Application | None:
    """The application whose procedure ``instance`` (or the instance of that id) is."""
    if isinstance(instance, int):
        instance = db.session.get(Instance, instance)
    application_id = application_id_of(instance.business_key if instance else None)
    return db.session.get(Application, application_id) if application_id else None
