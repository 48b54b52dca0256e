"""Safe retries (issue 15): a POST with an ``Idempotency-Key`` does its work once; a retry
with the same key gets the first answer, a race of the same key gets one answer and 409s, a
key reused for another request is refused, and work that did not commit can be retried."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from engine import clock
from engine.db import db
from tests.lifecycle.test_lifecycle import instances_of, race, status
from tests.processes.helpers import People, signed_people
from tests.registry import factory
from tests.registry.test_applications import PDF, header, hm_stages
from tests.web.test_api import login, open_intake
from web.api import idempotency
from web.api.idempotency import IdempotencyKey

KEY = "Idempotency-Key"


@pytest.fixture
def who(app: Flask) -> People:
    return signed_people()


def _submit(client: Any, headers: dict[str, str], application_id: int, key: str) -> Any:
    return client.post(f"/api/v1/applications/{application_id}/submit",
                       headers={**headers, KEY: key}, json={"note": "首次提交"})


def _open(client: Any, headers: dict[str, str], key: str, name: str = "幂等项目") -> Any:
    return client.post("/api/v1/applications", headers={**headers, KEY: key}, json={
        "kind": "intake", "project": header(name=name), "stages": hm_stages()})


def _rows() -> list[IdempotencyKey]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(IdempotencyKey)))


def _drafts() -> int:
    return int(db.session.scalar(sa.text("SELECT count(*) FROM application")) or 0)


def test_a_retried_submission_gets_the_first_answer_and_starts_one_procedure(
        app: Flask, who: People) -> None:
    client = app.test_client()
    unit = login(client, who.unit.username)
    application_id = open_intake(client, unit)
    first = _submit(client, unit, application_id, "submit-1")
    again = _submit(client, unit, application_id, "submit-1")
    assert first.status_code == 200, first.get_json()
    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(instances_of(application_id)) == 1
    # without the key the same retry is refused as a second submission would be
    assert client.post(f"/api/v1/applications/{application_id}/submit",
                       headers=unit).status_code == 409


def test_the_same_key_at_once_does_the_work_once(app: Flask, who: People) -> None:
    unit = login(app.test_client(), who.unit.username)
    application_id = open_intake(app.test_client(), unit)
    answers = race(app, [lambda c: _submit(c, unit, application_id, "racing")] * 4)
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) >= 1 and set(codes) <= {200, 409}, codes
    for answer in answers:
        if answer.status_code == 409:  # in flight, never a second submission's refusal
            assert answer.get_json()["code"] == "idempotency_in_flight"
            assert answer.headers["Retry-After"] == "1"
        else:
            assert answer.get_json()["id"] == application_id
    assert len(instances_of(application_id)) == 1
    assert status(application_id) == "submitted"


def test_a_key_is_its_callers_own_and_for_one_request(app: Flask, who: People) -> None:
    client = app.test_client()
    colleague = factory.enterprise_user(who.org)
    db.session.commit()
    unit, other = login(client, who.unit.username), login(client, colleague.username)
    first = _open(client, unit, "shared-key")
    assert first.status_code == 201
    mine = _open(client, other, "shared-key")  # another user's key of the same text
    assert mine.status_code == 201 and mine.get_json()["id"] != first.get_json()["id"]
    reused = _open(client, unit, "shared-key", name="另一个项目")
    assert reused.status_code == 422
    assert reused.get_json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in reused.get_json()["message"]
    assert _drafts() == 2


def test_work_that_was_refused_or_failed_can_be_retried_with_its_key(
        app: Flask, who: People) -> None:
    client = app.test_client()
    unit = login(client, who.unit.username)
    bad = client.post("/api/v1/applications", headers={**unit, KEY: "fix-me"},
                      json={"kind": "intake", "project": header(location_code="999999"),
                            "stages": hm_stages()})
    assert bad.status_code == 422
    assert _rows() == []  # the refusal committed nothing: the key is free again
    fixed = _open(client, unit, "fix-me")
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


def test_a_claim_in_flight_answers_409_and_an_abandoned_one_is_taken_over(
        app: Flask, who: People) -> None:
    client = app.test_client()
    unit = login(client, who.unit.username)
    response = _open(client, unit, "first-try")
    [row] = _rows()
    db.session.execute(sa.update(IdempotencyKey).values(
        key="stuck", status=None, body=None, committed_at=None))  # as if still running
    db.session.commit()
    busy = _open(client, unit, "stuck")
    assert busy.status_code == 409 and busy.get_json()["code"] == "idempotency_in_flight"
    clock.travel(idempotency.ABANDONED_AFTER + timedelta(seconds=1))
    taken = _open(client, unit, "stuck")
    assert taken.status_code == 201 and taken.get_json()["id"] != response.get_json()["id"]
    assert [r.status for r in _rows()] == [201]


def test_work_done_whose_answer_was_lost_is_never_done_again(
        app: Flask, who: People, monkeypatch: pytest.MonkeyPatch) -> None:
    client = app.test_client()
    unit = login(client, who.unit.username)
    application_id = open_intake(client, unit)

    def database_gone(*_: Any) -> None:
        raise sa.exc.OperationalError("UPDATE", {}, Exception("server closed the connection"))

    monkeypatch.setattr(idempotency, "_store", database_gone)
    first = _submit(client, unit, application_id, "lost-answer")
    assert first.status_code == 200  # the answer the store could not keep still goes out
    monkeypatch.undo()
    soon = _submit(client, unit, application_id, "lost-answer")
    assert soon.status_code == 409 and soon.get_json()["code"] == "idempotency_in_flight"
    clock.travel(idempotency.ANSWER_GRACE + timedelta(seconds=1))
    later = _submit(client, unit, application_id, "lost-answer")
    assert later.status_code == 409
    assert later.get_json()["code"] == "idempotency_outcome_unknown"
    assert "已执行" in later.get_json()["message"]
    assert len(instances_of(application_id)) == 1


def test_an_upload_retried_with_a_new_multipart_boundary_is_replayed(
        app: Flask, who: People) -> None:
    client = app.test_client()
    unit = login(client, who.unit.username)
    draft = _open(client, unit, "draft").get_json()["id"]
    answers = [client.post(f"/api/v1/applications/{draft}/attachments",
                           headers={**unit, KEY: "upload-1"}, content_type="multipart/form-data",
                           data={"kind": "report", "file": (io.BytesIO(PDF), "report.pdf")})
               for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    assert answers[0].get_json() == answers[1].get_json()
    count = db.session.scalar(sa.text("SELECT count(*) FROM attachment"))
    assert count == 1


def test_keys_are_kept_a_day_then_purged(app: Flask, who: People) -> None:
    client = app.test_client()
    unit = login(client, who.unit.username)
    first = _open(client, unit, "daily").get_json()["id"]
    clock.travel(timedelta(hours=23))
    assert _open(client, unit, "daily").get_json()["id"] == first
    clock.travel(timedelta(hours=2))
    second = _open(client, unit, "daily")  # a day later the key is new again
    assert second.status_code == 201 and second.get_json()["id"] != first
    clock.travel(idempotency.KEEP + timedelta(minutes=1))
    idempotency._last_purge["at"] = float("-inf")
    idempotency.purge()
    assert _rows() == []


@pytest.mark.parametrize("key", ["", "x" * 256, "键", "two words"])
def test_a_malformed_key_is_refused_in_chinese(app: Flask, who: People, key: str) -> None:
    client = app.test_client()
    unit = login(client, who.unit.username)
    response = client.post("/api/v1/applications", headers={**unit, KEY: key},
                           json={"kind": "intake", "project": header(), "stages": hm_stages()})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["code"] == "idempotency_key_invalid"
    assert _drafts() == 0


def test_every_post_but_sign_in_and_lookup_documents_the_header(client: Any) -> None:
    """Signing in and looking a filing up (issue 18) are safe to repeat: no header."""
    spec = client.get("/api/v1/openapi.json").get_json()
    parameter = spec["components"]["parameters"]["IdempotencyKey"]
    assert parameter["in"] == "header" and parameter["name"] == KEY
    posts = {path: ops["post"] for path, ops in spec["paths"].items() if "post" in ops}
    assert len(posts) >= 15
    for path, operation in posts.items():
        documented = {"$ref": "#/components/parameters/IdempotencyKey"} in operation.get(
            "parameters", [])
        assert documented == (path not in {"/api/v1/auth/token", "/api/v1/lookup"}), path


def test_a_claim_the_outage_kept_is_released_by_the_next_request(
        app: Flask, who: People, monkeypatch: pytest.MonkeyPatch) -> None:
    client = app.test_client()
    unit = login(client, who.unit.username)
    real = idempotency._release

    def database_gone(*_: Any) -> None:
        raise sa.exc.OperationalError("DELETE", {}, Exception("the database is shutting down"))

    monkeypatch.setattr(idempotency, "_release", database_gone)
    refused = client.post("/api/v1/applications", headers={**unit, KEY: "outage"},
                          json={"kind": "intake", "project": header(location_code="999999"),
                                "stages": hm_stages()})
    assert refused.status_code == 422 and len(_rows()) == 1  # could not be released
    monkeypatch.setattr(idempotency, "_release", real)
    retried = _open(client, unit, "outage")  # the database is back: no 30 s wait
    assert retried.status_code == 201, retried.get_json()
    assert idempotency._unreleased == set()


def test_a_release_keeps_a_claim_whose_work_committed_after_all(
        app: Flask, who: People) -> None:
    client = app.test_client()
    unit = login(client, who.unit.username)
    _open(client, unit, "landed")
    [row] = _rows()
    db.session.execute(sa.update(IdempotencyKey).values(status=None, body=None))
    db.session.commit()  # as if the commit landed and its acknowledgement was lost
    idempotency._release([row.id])
    assert len(_rows()) == 1
