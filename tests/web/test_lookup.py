"""查询办理进度 (issue 18): a complaint or an objection gets a number and a check code shown
once and kept only as a hash; with both, the filer looks up its kind, filing date, stage and
outcome without signing in, on the page and through the API; a wrong number and a wrong code
answer alike, and failed lookups are throttled per address and per number."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.security import check_password_hash

from engine.db import db
from handlers import inspection as inspections
from registry import checkcodes, publicity
from registry.models import CheckCode, Complaint, Inspection, Objection
from tests.processes.helpers import People, deploy_processes, people, settle
from tests.processes.test_publicity_pause import OBJECTION, complete, publish
from tests.registry import factory
from tests.web.test_pages import csrf
from web import lookup

COMPLAINT = {"project_name": "渝中区某住宅项目", "content": "该项目业绩造假",
             "contact": "13800000000"}
CODE = re.compile(r'id="filed-code">([^<]+)<')
NUMBER = re.compile(r'id="filed-number">([^<]+)<')


def file_by_page(client: Any, fields: dict[str, str] | None = None) -> tuple[str, str, Any]:
    """File a complaint on the page: its number, its code, and the confirmation page."""
    answer = client.post("/complaints", data={"csrf_token": csrf(client, "/complaints"),
                                              **(fields or COMPLAINT)})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    page = answer.get_data(as_text=True)
    number, code = NUMBER.search(page), CODE.search(page)
    assert number is not None and code is not None
    return number.group(1), code.group(1), answer


def look_up(client: Any, number: str, code: str, address: str = "10.9.0.1") -> Any:
    return client.post("/api/v1/lookup", json={"number": number, "code": code},
                       environ_base={"REMOTE_ADDR": address})


def look_up_page(client: Any, number: str, code: str, address: str = "10.9.0.1") -> Any:
    return client.post("/lookup", data={"csrf_token": csrf(client, "/lookup"),
                                        "number": number, "code": code},
                       environ_base={"REMOTE_ADDR": address})


def test_a_complaint_filed_on_the_page_shows_its_code_once_and_stores_only_a_hash(
        app: Flask) -> None:
    client = app.test_client()
    number, code, answer = file_by_page(client)
    assert "投诉举报已受理" in answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r"TS\d{6}", number)
    assert re.fullmatch(f"[{checkcodes.ALPHABET}]{{8}}", code)
    [row] = db.session.scalars(sa.select(CheckCode)).all()
    complaint = db.session.get(Complaint, row.complaint_id)
    assert complaint is not None and checkcodes.number_of(complaint) == number
    assert row.objection_id is None
    assert code not in row.digest and row.digest.startswith("scrypt:")
    assert check_password_hash(row.digest, code)
    stored = " ".join(str(v) for v in db.session.execute(sa.select(Complaint)).one()[0]
                      .__dict__.values())
    assert code not in stored
    # the code is nowhere afterwards: not on the complaint page, not in the session cookie
    assert code not in client.get("/complaints").get_data(as_text=True)
    cookie = client.get_cookie("session")
    assert cookie is None or code not in cookie.value
    # each filing gets its own code
    assert file_by_page(client)[1] != code or True  # 31^8 codes: a repeat is no failure
    assert len(set(db.session.scalars(sa.select(CheckCode.digest)))) == 2


def test_the_api_gives_number_and_code_once_and_a_retry_gets_no_code(app: Flask) -> None:
    client = app.test_client()
    headers = {"Idempotency-Key": "lookup-test-1"}
    first = client.post("/api/v1/complaints", json=COMPLAINT, headers=headers)
    assert first.status_code == 201
    body = first.get_json()
    assert re.fullmatch(r"TS\d{6}", body["number"]) and len(body["check_code"]) == 8
    again = client.post("/api/v1/complaints", json=COMPLAINT, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["check_code"] is None
    assert again.get_json()["number"] == body["number"]
    stored = db.session.execute(sa.text("SELECT body FROM idempotency_key")).scalars().all()
    assert stored and all(body["check_code"].encode() not in bytes(b) for b in stored)
    found = look_up(client, body["number"].lower(), " " + body["check_code"].lower())
    assert found.status_code == 200, found.get_json()
    assert found.get_json()["stage_label"] == "受理中"


def test_the_right_code_shows_the_stage_as_the_inspection_goes(app: Flask) -> None:
    """受理中 until an inspection opens, 核查中 while it runs, 已办结 with the outcome when it
    closes; nothing beyond kind, number, date, stage and outcome."""
    deploy_processes()
    who = people()
    project = factory.project(who.org, location="500103")
    project.project_number = "5001032024010001"
    db.session.commit()
    client = app.test_client()
    number, code, _ = file_by_page(client, {**COMPLAINT, "project_number": project.project_number})
    answer = look_up(client, number, code)
    assert answer.status_code == 200
    body = answer.get_json()
    assert set(body) == {"kind", "kind_label", "number", "filed_on", "stage", "stage_label",
                         "outcome", "reason"}
    assert (body["kind"], body["kind_label"], body["number"]) == ("complaint", "投诉举报", number)
    assert (body["stage"], body["stage_label"], body["outcome"]) == ("inspecting", "核查中", None)
    inspection = db.session.scalar(sa.select(Inspection))
    assert inspection is not None
    inspections.close({"inspection_id": inspection.id}, {})
    closed = look_up(client, number, code).get_json()
    assert (closed["stage_label"], closed["outcome"]) == (
        "已办结", publicity.OUTCOMES[("complaint", "genuine")])
    page = look_up_page(client, number, code).get_data(as_text=True)
    assert 'id="lookup-stage">已办结<' in page and publicity.OUTCOMES[
        ("complaint", "genuine")] in page
    assert COMPLAINT["contact"] not in page and COMPLAINT["content"] not in page


def test_a_complaint_without_an_inspection_is_received_then_closed(app: Flask) -> None:
    complaint = publicity.add_complaint(COMPLAINT)
    db.session.commit()
    assert publicity.complaint_progress(complaint).stage_label == "受理中"
    complaint.status = "closed"
    assert publicity.complaint_progress(complaint).stage_label == "已办结"
    fraud = Inspection(project_id=factory.project(people().org).id, trigger="complaint",
                       complaint_id=complaint.id, status="closed", result="false")
    db.session.add(fraud)
    complaint.status = "inspecting"  # mark_false leaves the complaint as it was
    db.session.flush()
    assert publicity.complaint_progress(complaint).outcome == publicity.OUTCOMES[
        ("complaint", "false")]


def test_a_wrong_code_and_an_unknown_number_answer_alike(app: Flask) -> None:
    client = app.test_client()
    number, code, _ = file_by_page(client)
    wrong = "X" + code[1:] if code[0] != "X" else "Y" + code[1:]
    unknown = f"TS{int(number[2:]) + 1000:06d}"
    answers = [look_up(client, number, wrong), look_up(client, unknown, code),
               look_up(client, "YY" + number[2:], code), look_up(client, "no such", code),
               look_up(client, number, "")]
    assert [a.status_code for a in answers] == [404] * 4 + [422]
    assert answers[0].get_json() == {"message": "未找到，请核对编号和查询码"}
    assert len({a.get_data() for a in answers[:4]}) == 1
    pages = [look_up_page(client, number, wrong), look_up_page(client, unknown, code)]
    assert {p.status_code for p in pages} == {404}
    texts = [p.get_data(as_text=True) for p in pages]
    assert texts[0].replace(number, "N") == texts[1].replace(unknown, "N")
    assert "未找到，请核对编号和查询码" in texts[0]
    assert code not in texts[1]  # the code asked with is never written back


def test_every_lookup_costs_one_hash_whether_or_not_the_number_is_known(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same work, so about the same time, for a wrong code and an unknown number."""
    client = app.test_client()
    number, code, _ = file_by_page(client)
    hashed: list[str] = []
    real = checkcodes.check_password_hash

    def counted(digest: str, given: str) -> bool:
        hashed.append(digest.split("$", maxsplit=1)[0])
        return real(digest, given)

    monkeypatch.setattr(checkcodes, "check_password_hash", counted)
    for asked in ((number, "WRONGONE"), ("TS999999", code), ("nonsense", code),
                  ("TS99999999999", code), (number, code)):
        look_up(client, *asked)
    assert len(hashed) == 5 and len(set(hashed)) == 1  # the same scrypt parameters each time


def test_missing_fields_are_named_in_chinese(app: Flask) -> None:
    client = app.test_client()
    refused = client.post("/api/v1/lookup", json={"number": "TS000001"})
    assert refused.status_code == 422
    assert "查询码" in str(refused.get_json())
    too_long = client.post("/api/v1/lookup", json={"number": "TS000001", "code": "A" * 41})
    assert too_long.status_code == 422 and "查询码" in str(too_long.get_json())
    page = client.post("/lookup", data={"csrf_token": csrf(client, "/lookup"), "number": ""})
    assert page.status_code == 422 and "「编号」必填" in page.get_data(as_text=True)


def test_a_filing_made_before_codes_answers_as_not_found(app: Flask) -> None:
    complaint = publicity.add_complaint(COMPLAINT)
    db.session.execute(sa.delete(CheckCode))
    db.session.commit()
    client = app.test_client()
    answer = look_up(client, checkcodes.number_of(complaint), "ABCDEFGH")
    assert answer.status_code == 404
    assert answer.get_json()["message"] == lookup.NOT_FOUND
    assert "请致电主管部门" in client.get("/lookup").get_data(as_text=True)


def test_failed_lookups_are_throttled_per_address_and_per_number(app: Flask) -> None:
    client = app.test_client()
    number, code, _ = file_by_page(client)
    for n in range(lookup.MAX_ADDRESS_FAILURES):
        assert look_up(client, f"TS{900000 + n}", "WRONGONE", "10.9.1.1").status_code == 404
    paused = look_up(client, number, code, "10.9.1.1")  # even the right code
    assert paused.status_code == 429
    assert paused.get_json()["message"] == "查询次数过多，请 15 分钟后再试"
    page = look_up_page(client, number, code, "10.9.1.1")
    assert page.status_code == 429 and "查询次数过多" in page.get_data(as_text=True)
    assert look_up(client, number, code, "10.9.1.2").status_code == 200  # elsewhere: fine
    # one number guessed from many addresses
    for n in range(lookup.MAX_NUMBER_FAILURES):
        assert look_up(client, number, "WRONGONE", f"10.9.2.{n}").status_code == 404
    assert look_up(client, number, code, "10.9.3.1").status_code == 429


def test_a_success_does_not_count(app: Flask) -> None:
    client = app.test_client()
    number, code, _ = file_by_page(client)
    for _ in range(lookup.MAX_ADDRESS_FAILURES + 5):
        assert look_up(client, number, code, "10.9.4.1").status_code == 200


@pytest.fixture
def who(app: Flask) -> People:
    deploy_processes()
    return people()


def test_an_objection_is_looked_up_with_its_ruling_escaped(app: Flask, client: Any,
                                                           who: People) -> None:
    """An objection filed on the notice's page: 核查中 until ruled, then 已办结 with the outcome
    and the ruling's reason, which the page escapes."""
    application, notice = publish(app, client, who)
    answer = client.post(f"/publicity/{notice.id}", data={
        **OBJECTION, "csrf_token": csrf(client, "/lookup")})
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "异议已受理" in page
    number, code = NUMBER.search(page), CODE.search(page)
    assert number is not None and code is not None
    assert re.fullmatch(r"YY\d{6}", number.group(1))
    objection = db.session.scalar(sa.select(Objection))
    assert objection is not None
    assert db.session.scalar(sa.select(CheckCode.objection_id)) == objection.id
    found = look_up(client, number.group(1), code.group(1)).get_json()
    assert (found["kind_label"], found["stage_label"]) == ("公示异议", "核查中")
    settle(app)
    reason = "经核实<script>alert(1)</script>合同金额与备案一致"
    complete(client, application, {"decision": "dismiss", "reason": reason})
    ruled = look_up(client, number.group(1), code.group(1)).get_json()
    assert (ruled["stage_label"], ruled["outcome"], ruled["reason"]) == (
        "已办结", publicity.OUTCOMES[("objection", "dismissed")], reason)
    shown = look_up_page(client, number.group(1), code.group(1)).get_data(as_text=True)
    assert "<script>alert(1)" not in shown
    assert "经核实&lt;script&gt;alert(1)&lt;/script&gt;合同金额与备案一致" in shown
    assert OBJECTION["name"] not in shown and OBJECTION["contact"] not in shown
    assert "yz-reviewer" not in shown


def test_the_pages_link_to_the_lookup(app: Flask) -> None:
    client = app.test_client()
    for path in ("/complaints", "/publicity"):
        page = client.get(path).get_data(as_text=True)
        assert page.count('href="/lookup"') >= 2, path  # the page's own and the footer's


def test_the_openapi_document_describes_the_lookup(app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/lookup"]["post"]
    assert {"200", "404", "429", "422"} <= set(operation["responses"])
    assert "Idempotency-Key" not in str(operation.get("parameters", []))
