"""统计 (issue 19): the numbers of /statistics, its API and its Excel exports on a known data
set, each reviewer's scope, and the refusals of bad filters in Chinese."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from openpyxl import load_workbook

from engine.clock import now
from engine.db import db
from engine.models import UserTask, WaitStatus
from registry.models import Application, AuditEvent, SamplingDraw
from registry.statistics import today
from tests.processes.helpers import People, signed_people, submit_intake
from tests.registry import factory
from tests.web.test_api import login
from tests.web.test_pages import sign_in

YEAR = "from=2026-01-01&to=2026-12-31"
API = "/api/v1/statistics"


def beijing(text: str) -> datetime:
    """A Beijing time as stored (naive UTC)."""
    return datetime.fromisoformat(text) - timedelta(hours=8)


def add(who: People, district: str | None, kind: str, status: str, created: str, *,
        decided: str | None = None, submitted: bool = True) -> Application:
    project = factory.project(who.org, location=district or "500103",
                              city_managed=district is None)
    row = Application(kind=kind, applicant_id=who.org.id, project_id=project.id,
                      stages=["contract"], data={}, status=status, created_by=who.unit.id,
                      created_at=beijing(created),
                      submitted_at=beijing(created) if submitted else None,
                      decided_at=beijing(decided) if decided else None)
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def data(app: Flask) -> People:
    return known_data()


def known_data() -> People:
    """Applications in 渝中, 江北 and city-managed, in several states; their open tasks, one
    overdue; approved ones with known working days; two districts' October sampling."""
    who = signed_people()
    live = [submit_intake(who), submit_intake(who),
            submit_intake(who, location_code="500105", managing_code="500105")]
    db.session.expire_all()
    for application in live:  # under review: opened in November 2026
        db.session.get(Application, application.id).created_at = beijing("2026-11-20 09:00")
    tasks = db.session.scalars(sa.select(UserTask).where(UserTask.status == WaitStatus.OPEN)
                               .order_by(UserTask.scope, UserTask.created_at)).all()
    assert [t.scope for t in tasks] == ["500103", "500103", "500105"]
    tasks[0].due_at = now() - timedelta(days=1)
    tasks[1].due_at = now() + timedelta(days=10)
    tasks[2].due_at = None
    # approved: 4, 5 and 10 working days after Monday 2 November 2026 (渝中)
    for pushed in ("2026-11-06 15:00", "2026-11-09 10:00", "2026-11-16 10:00"):
        add(who, "500103", "intake", "approved", "2026-11-02 10:00", decided=pushed)
    # 江北: returned once, first submitted on Friday 30 October: 5 working days to 6 November
    returned = add(who, "500105", "intake", "approved", "2026-11-02 10:00",
                   decided="2026-11-06 10:00")
    db.session.add(AuditEvent(actor="unit", action="application_submitted",
                              object=f"application:{returned.id}",
                              created_at=beijing("2026-10-30 10:00")))
    add(who, "500105", "correction", "rejected", "2026-11-03 10:00", decided="2026-11-10 10:00")
    # city-managed: 1 working day
    add(who, None, "grade_adjust", "approved", "2026-11-02 10:00", decided="2026-11-03 10:00")
    add(who, "500103", "intake", "draft", "2026-11-02 10:00", submitted=False)
    add(who, "500103", "intake", "approved", "2025-06-02 10:00", decided="2025-06-10 10:00")
    for period, scope, population, drawn in (("2026-10", "500103", 25, 3),
                                             ("2026-10", "500105", 5, 0),
                                             ("2025-12", "500103", 10, 1)):
        db.session.add(SamplingDraw(kind="monthly", period=period, scope=scope,
                                    population=list(range(population)), seed="s",
                                    quota=-(-population // 10), drawn=list(range(drawn))))
    db.session.commit()
    return who


def counts(table: dict[str, Any], *keys: str) -> dict[tuple[Any, ...], Any]:
    return {tuple(r[k] for k in keys[:-1]): r[keys[-1]] for r in table["rows"]}


def test_the_city_s_numbers_on_a_known_data_set(client: Any, data: People) -> None:
    answer = client.get(f"{API}?{YEAR}", headers=login(client, "city-reviewer"))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["from"], body["to"], body["district"]) == ("2026-01-01", "2026-12-31", None)
    tables = body["tables"]
    assert counts(tables["applications"], "district", "kind", "status", "count") == {
        ("500103", "intake", "approved"): 3, ("500103", "intake", "submitted"): 2,
        ("500105", "correction", "rejected"): 1, ("500105", "intake", "approved"): 1,
        ("500105", "intake", "submitted"): 1, ("city", "grade_adjust", "approved"): 1}
    assert counts(tables["applications_by_status"], "district", "status", "count") == {
        ("500103", "approved"): 3, ("500103", "submitted"): 2, ("500105", "rejected"): 1,
        ("500105", "approved"): 1, ("500105", "submitted"): 1, ("city", "approved"): 1}
    row = tables["applications"]["rows"][0]
    assert (row["district_name"], row["kind_label"], row["status_label"]) == (
        "渝中区", "入库", "已办结（已推送全国平台）")
    assert counts(tables["tasks"], "district", "open") == {("500103",): 2, ("500105",): 1}
    assert counts(tables["tasks"], "district", "overdue") == {("500103",): 1, ("500105",): 0}
    durations = {r["district"]: (r["count"], r["average"], r["p90"])
                 for r in tables["durations"]["rows"]}
    assert durations == {"500103": (3, 6.3, 9.0), "500105": (1, 5.0, 5.0),
                         "city": (1, 1.0, 1.0), "all": (5, 5.0, 8.0)}
    sampling = {(r["period"], r["district"]): (r["population"], r["quota"], r["drawn"],
                                               r["coverage"], r["met"])
                for r in tables["sampling"]["rows"]}
    assert sampling == {("2026-10", "500103"): (25, 3, 3, 12.0, True),
                        ("2026-10", "500105"): (5, 1, 0, 0.0, False)}

    one = client.get(f"{API}?{YEAR}&district=500105",
                     headers=login(client, "city-reviewer")).get_json()["tables"]
    assert {r["district"] for t in one.values() for r in t["rows"]} <= {"500105", "all"}
    assert counts(one["applications_by_status"], "district", "status", "count") == {
        ("500105", "rejected"): 1, ("500105", "approved"): 1, ("500105", "submitted"): 1}


def test_a_district_reviewer_sees_their_district_only(client: Any, data: People) -> None:
    yuzhong = login(client, "yz-reviewer")
    tables = client.get(f"{API}?{YEAR}", headers=yuzhong).get_json()["tables"]
    assert {r["district"] for t in tables.values() for r in t["rows"]} == {"500103", "all"}
    assert counts(tables["tasks"], "district", "open") == {("500103",): 2}
    assert [r["count"] for r in tables["durations"]["rows"]] == [3, 3]
    assert client.get(f"{API}?{YEAR}&district=500103", headers=yuzhong).status_code == 200
    refused = client.get(f"{API}?{YEAR}&district=500105", headers=yuzhong)
    assert refused.status_code == 403
    assert "只能查看本区县" in refused.get_json()["message"]
    default = client.get(API, headers=yuzhong).get_json()
    assert (default["from"], default["to"]) == (f"{today().year}-01-01", today().isoformat())
    assert default["district"] == "500103"

    sign_in(client, "yz-reviewer", "password-123")
    page = client.get(f"/statistics?{YEAR}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "渝中区" in text and "江北区" not in text and 'id="district"' not in text
    assert client.get(f"/statistics?{YEAR}&district=500105").status_code == 403
    assert client.get(f"/statistics.xlsx?table=tasks&{YEAR}&district=500105").status_code == 403


def test_enterprises_may_not_read_statistics(client: Any, data: People) -> None:
    assert client.get(API, headers=login(client, data.unit.username)).status_code == 403


def test_bad_dates_answer_in_chinese(client: Any, data: People) -> None:
    city = login(client, "city-reviewer")
    bad = client.get(f"{API}?from=2026-13-45&to=2026-12-31", headers=city)
    assert bad.status_code == 422
    assert ("「起始日期」应为日期，格式如 2026-03-01（收到“2026-13-45”）"
            in bad.get_json()["message"])
    backwards = client.get(f"{API}?from=2026-12-01&to=2026-01-01", headers=city)
    assert backwards.status_code == 422
    assert "不能晚于" in backwards.get_json()["message"]
    assert client.get(f"{API}?{YEAR}&district=nowhere", headers=city).status_code == 422

    sign_in(client, "city-reviewer", "password-123")
    page = client.get("/statistics?from=abc&to=2026-12-31")
    assert page.status_code == 400
    assert "「起始日期」应为日期" in page.get_data(as_text=True)


def test_each_table_downloads_as_excel_with_the_same_numbers(client: Any, data: People) -> None:
    city = login(client, "city-reviewer")
    tables = client.get(f"{API}?{YEAR}&district=500103", headers=city).get_json()["tables"]
    sign_in(client, "city-reviewer", "password-123")
    page = client.get(f"/statistics?{YEAR}&district=500103").get_data(as_text=True)
    for key, table in tables.items():
        assert f"table={key}&amp;from=2026-01-01&amp;to=2026-12-31&amp;district=500103" in page
        answer = client.get(f"/statistics.xlsx?table={key}&{YEAR}&district=500103")
        assert answer.status_code == 200, key
        assert answer.mimetype.endswith("spreadsheetml.sheet")
        assert "attachment" in answer.headers["Content-Disposition"]
        sheet = load_workbook(io.BytesIO(answer.data)).active
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert values[0][0] == table["title"]
        assert values[1][:2] == ["统计期间：2026-01-01 至 2026-12-31", "区县：渝中区"]
        assert values[3] == [c["title"] for c in table["columns"]]
        assert values[4:] == [[r[c["key"]] for c in table["columns"]] for r in table["rows"]]
        assert len(values) - 4 == len(table["rows"]) > 0 or key == "tasks"
    assert client.get(f"/statistics.xlsx?table=nothing&{YEAR}").status_code == 404


def test_the_openapi_document_lists_statistics(client: Any, app: Flask) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    get = paths["/api/v1/statistics"]["get"]
    assert {p["name"] for p in get["parameters"]} >= {"from", "to", "district"}
