"""Diagrams are a stranger's XML (issue 16): served as sandboxed attachments that no browser
runs, under their own file name, never a server path."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

import engine
from engine.db import db
from registry import users
from tests.conftest import BPMN
from tests.web.test_api import login
from tests.web.test_pages import sign_in

SCRIPTED = (BPMN / "minimal.bpmn").read_text().replace(
    "<bpmn:process ", '<bpmn:process xmlns:html="http://www.w3.org/1999/xhtml" ', 1)
PATH = "/srv/cqpi/secret-checkout/processes/minimal.bpmn"


@pytest.fixture
def deployed(app: Flask) -> int:
    users.create_user("ops-1", "password-123", "ops", "运维")
    users.create_user("analyst-1", "password-123", "analyst", "分析")
    [outcome] = engine.deploy([(PATH, SCRIPTED.encode())], engine.catalog(), deployed_by="cli")
    db.session.commit()
    return int(engine.latest(outcome.key).id)


def _sandboxed_attachment(answer: Any) -> None:
    assert answer.status_code == 200
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "minimal.bpmn" in disposition
    assert "/srv" not in disposition and "secret" not in disposition
    assert "sandbox" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_a_diagram_from_the_pages_is_a_sandboxed_download(app: Flask, deployed: int) -> None:
    client = app.test_client()
    sign_in(client, "ops-1", "password-123")
    answer = client.get(f"/ops/definitions/{deployed}.bpmn")
    _sandboxed_attachment(answer)
    assert answer.mimetype == "application/octet-stream"
    assert answer.get_data() == SCRIPTED.encode()  # as deployed, byte for byte


def test_a_diagram_from_the_api_is_a_sandboxed_download(app: Flask, deployed: int) -> None:
    client = app.test_client()
    headers = login(client, "analyst-1")
    key = engine.latest("minimal").key
    _sandboxed_attachment(client.get(f"/api/v1/processes/{key}/versions/1/bpmn",
                                     headers=headers))


def test_no_server_path_is_shown_to_analysts(app: Flask, deployed: int) -> None:
    client = app.test_client()
    listed = client.get("/api/v1/processes", headers=login(client, "analyst-1")).get_json()
    assert [v["file_name"] for p in listed for v in p["versions"]] == ["minimal.bpmn"]
    sign_in(client, "analyst-1", "password-123")
    for page in ("/models", "/models/minimal/1"):
        html = client.get(page).get_data(as_text=True)
        assert "minimal.bpmn" in html and "/srv/cqpi" not in html, page
