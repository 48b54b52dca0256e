"""The public lookup of a complaint's or an objection's progress by its number and check code
(查询办理进度, issue 18), shared by the page and the API, throttled as sign-in is (the same
Redis counters, web/signin.py): failed lookups are counted per address and per number for
15 minutes, together with the checks in flight, before the code is hashed."""

from __future__ import annotations

import hashlib
from typing import Any

from marshmallow import ValidationError, fields

from engine.queue import queues
from forms.base import FormSchema, text
from registry import applications as apps
from registry import publicity
from registry.publicity import Progress

from . import signin

MAX_ADDRESS_FAILURES = 10
"""Failed lookups from one address, whatever the numbers, before its pause."""
MAX_NUMBER_FAILURES = 30
"""Failed lookups of one number, from anywhere, before its pause (a guesser spread over many
addresses gets no further with one filing)."""

NOT_FOUND = "未找到，请核对编号和查询码"
PAUSED = "查询次数过多，请 15 分钟后再试"


class LookupIn(FormSchema):
    """A lookup: the filing's number (TS… a complaint, YY… an objection) and its check code."""

    number = text("编号", max_len=40)
    code = text("查询码", max_len=40)


class LookupOut(FormSchema):
    """What the filer may learn of a filing: its kind, filing date, stage, and once closed
    the outcome (and for an objection the ruling's reason); nothing else."""

    kind = fields.String(metadata={"enum": list(publicity.FILING_KINDS)})
    kind_label = fields.String()
    number = fields.String()
    filed_on = fields.Date()
    stage = fields.String(metadata={"enum": list(publicity.STAGES)})
    stage_label = fields.String()
    outcome = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


def parse(raw: Any) -> dict[str, str]:
    """The number and code asked about; FormInvalid (422, in Chinese) when either is missing."""
    try:
        return LookupIn().load(raw)
    except ValidationError as exc:
        raise apps.FormInvalid(exc.messages) from None  # type: ignore[arg-type]


def _keys(number: str, address: str | None) -> list[str]:
    base = f"{queues().name}:lookup"
    subject = hashlib.sha256("".join(number.split()).upper().encode()).hexdigest()[:32]
    return [f"{base}:number:{subject}:failed", f"{base}:number:{subject}:checking",
            f"{base}:address:{address}:failed", f"{base}:address:{address}:checking"]


def attempt(number: str, code: str, address: str | None) -> Progress | None:
    """The progress of the filing, None when number and code do not name one together;
    signin.SignInRefused(429, PAUSED) after too many failures."""
    return signin.throttled(_keys(number, address), (MAX_NUMBER_FAILURES, MAX_ADDRESS_FAILURES),
                            lambda: publicity.lookup(number, code), PAUSED)
