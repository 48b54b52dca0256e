"""Everything a person can do in the pages can be done over ``/api/v1``, with the same checks:
read the reviewer's reasons, amend stage data, upload the formal document as a reviewer."""

from __future__ import annotations

import io

import pytest
from flask import Flask

from engine.db import db
from tests.lifecycle.test_lifecycle import open_tasks, refused, status
from tests.processes.helpers import (
    REVIEW_OK,
    REVIEW_PROBLEM,
    People,
    signed_people,
)
from tests.processes.helpers import settle as settle_
from tests.registry.test_applications import PDF, hm_stages
from tests.web.test_api import login, open_intake


@pytest.fixture
def who(app: Flask) -> People:
    return signed_people()


def test_a_4_the_applicant_reads_the_reasons_amends_and_resubmits_over_the_api(
        app: Flask, who: People) -> None:
    client = app.test_client()
    unit, reviewer = login(client, who.unit.username), login(client, "yz-reviewer")
    application_id = open_intake(client, unit)
    path = f"/api/v1/applications/{application_id}"
    changed = hm_stages()
    changed["contract"]["amount"] = "12900.00"
    assert client.patch(path, headers=unit, json={"stages": changed}).status_code == 200
    client.post(f"{path}/submit", headers=unit)
    refused(client.patch(path, headers=unit, json={"stages": hm_stages()}), 409)
    [task] = open_tasks(application_id)
    client.post(f"/api/v1/tasks/{task.id}/complete", headers=reviewer, json=REVIEW_PROBLEM)
    settle_(app)

    body = client.get(path, headers=unit).get_json()
    assert body["status"] == "returned"
    review = body["last_review"]
    assert review["decision"] == "return" and review["by"] == "yz-reviewer"
    assert review["reasons"] == {"contract": ["合同金额与中标金额不一致"]}
    bad = dict(changed, contract={**changed["contract"], "amount": "-1"})
    answer = client.patch(path, headers=unit, json={"stages": bad})
    assert answer.status_code == 422 and "contract" in answer.get_json()["errors"]["stages"]
    assert client.patch(path, headers=unit, json={"stages": changed}).status_code == 200
    answer = client.post(f"{path}/submit", headers=unit, json={"note": "已核对合同金额"})
    assert answer.status_code == 200, answer.get_json()
    assert status(application_id) == "submitted"
    settle_(app)
    again = client.get(path, headers=reviewer).get_json()
    assert again["rounds"] == 1 and again["last_review"]["amendment_note"] == "已核对合同金额"


def test_r_sup_5_reviewers_upload_the_formal_document_and_forms_name_only_its_own(
        app: Flask, who: People) -> None:
    """A reviewer attaches a formal document (公文) to an application in their scope; a task
    form's ``attachment_id`` must be an attachment of that application, of the right kind."""
    client = app.test_client()
    unit, reviewer = login(client, who.unit.username), login(client, "yz-reviewer")
    other = login(client, "jb-reviewer")
    application_id = open_intake(client, unit)
    path = f"/api/v1/applications/{application_id}/attachments"

    def upload(headers: dict[str, str], kind: str) -> object:
        return client.post(path, headers=headers, content_type="multipart/form-data",
                           data={"kind": kind, "file": (io.BytesIO(PDF), "公文.pdf")})

    document = upload(reviewer, "formal_document")
    assert document.status_code == 201, document.get_json()  # type: ignore[attr-defined]
    refused(upload(reviewer, "evidence"), 422)  # a reviewer uploads no enterprise material
    assert upload(other, "formal_document").status_code == 404  # type: ignore[attr-defined]
    client.post(f"/api/v1/applications/{application_id}/submit", headers=unit)
    refused(upload(unit, "evidence"), 403)  # submitted: the applicant's materials are fixed

    from lifecycle import guards
    from registry.applications import FormInvalid
    from registry.models import Application
    application = db.session.get(Application, application_id)
    assert application is not None
    found = document.get_json()["id"]  # type: ignore[attr-defined]
    guards.check_task(application, "formal_document", {"attachment_id": str(found)})
    for wrong in ("999999", "abc"):
        with pytest.raises(FormInvalid, match="不是本申请的附件"):
            guards.check_task(application, "formal_document", {"attachment_id": wrong})
    with pytest.raises(FormInvalid, match="材料类型不符"):
        guards.check_task(application, "ministry_reply", {"attachment_id": str(found)})
    [task] = open_tasks(application_id)
    assert client.post(f"/api/v1/tasks/{task.id}/complete", headers=reviewer,
                       json=REVIEW_OK).status_code == 200
