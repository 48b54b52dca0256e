"""The diff page without a browser: the table of changes by element always; the two diagrams'
place (their XML's addresses, the changes as JSON, rows to click) when the bundle is built,
and a notice in its stead when it is not."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry import demo, deployments
from tests.processes.helpers import PROCESSES, deploy_processes
from tests.web.test_pages import sign_in
from web.pages import models

INTAKE = (PROCESSES / "intake.bpmn").read_text()


def second_version() -> str:
    """Version 2 of intake: the district review renamed, the withdrawal step replaced by one
    of another id (removed and added), the city review's form key changed, and the end event
    moved on the diagram (a change of layout only)."""
    v2 = INTAKE.replace('name="逐项核实申报信息"', 'name="逐项核实申报信息（区县）"', 1)
    v2 = v2.replace("Task_MarkWithdrawn", "Task_Withdraw")
    city = v2.index('id="Task_CityReview"')
    form = v2.index('value="review"', city)
    v2 = v2[:form] + 'value="sampling_result"' + v2[form + len('value="review"'):]
    moved = v2.replace('<dc:Bounds x="1832" y="737" width="36" height="36"/>',
                       '<dc:Bounds x="1872" y="737" width="36" height="36"/>', 1)
    assert len({INTAKE, v2, moved}) == 3
    return moved


def deploy_second_version() -> None:
    [done] = deployments.deploy([("intake.bpmn", second_version().encode())], by="fenxi")
    assert (done.key, done.version, done.outcome) == ("intake", 2, "created")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    deploy_processes()
    demo.load()
    deploy_second_version()
    client = app.test_client()
    sign_in(client, "fenxi")
    return client


def _rows(html: str) -> dict[str, str]:
    """The table's rows: element id -> kind."""
    return {m.group(2): m.group(1) for m in re.finditer(
        r'<tr class="change-(\w+)"[^>]*>.*?<small>([^<]+)</small>', html, re.S)}


EXPECTED = {"Task_DistrictReview": "changed", "Task_CityReview": "changed",
            "Task_MarkWithdrawn": "removed", "Task_Withdraw": "added",
            "Flow_Withdraw": "changed", "Flow_Withdrawn": "changed", "Lane_Unit": "changed"}
"""What engine.diff finds between the two versions (the move is layout, not listed)."""


def test_without_the_bundle_the_table_is_shown_with_a_notice(
        client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "built", lambda page: False)
    answer = client.get("/models/intake/diff?from=1&to=2")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert _rows(html) == EXPECTED
    assert 'id="not-built"' in html and "make install" in html
    assert 'id="differ"' not in html and "build/differ.js" not in html
    assert "data-element-id" not in html


def test_with_the_bundle_the_page_holds_both_diagrams_and_the_changes(
        client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "built", lambda page: True)
    html = client.get("/models/intake/diff?from=1&to=2").get_data(as_text=True)
    assert _rows(html) == EXPECTED
    assert 'id="not-built"' not in html
    assert re.search(r'data-old-src="/ops/definitions/\d+\.bpmn" data-new-src="/ops/definitions/'
                     r'\d+\.bpmn"', html)
    assert "build/differ.js" in html and "build/differ.css" in html
    assert 'data-element-id="Task_CityReview" tabindex="0"' in html
    block = re.search(r'<script type="application/json" id="differ-changes">(.*?)</script>',
                      html, re.S)
    assert block is not None
    listed = {c["element_id"]: c for c in json.loads(block.group(1))}
    assert {k: c["kind"] for k, c in listed.items()} == EXPECTED
    assert listed["Task_CityReview"]["details"] == ["表单: review → sampling_result"]
    assert ' style="' not in html  # the policy refuses inline style
