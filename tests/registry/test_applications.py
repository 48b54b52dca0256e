"""Applications against the guide's rules, on SQLite and PostgreSQL: every refusal names its
rule and leaves nothing behind."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from engine.db import db
from lifecycle import guards, submission
from registry import applications as apps
from registry.models import Application, Attachment, Project, ProjectParty, StageRecord
from registry.rules import RuleViolation
from tests.forms.test_stages import VALID
from tests.registry import factory

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture
def org_user(app: Flask) -> Iterator[tuple[Any, Any]]:
    org = factory.organisation()
    user = factory.enterprise_user(org)
    db.session.commit()
    yield org, user


def header(**changes: Any) -> dict[str, Any]:
    base = {"name": "渝中区某住宅项目", "category": "HM", "sector": "01",
            "location_code": "500103", "city_managed": False, "managing_code": "500103",
            "role": "施工"}
    return {**base, **changes}


def hm_stages() -> dict[str, Any]:
    return {k: copy.deepcopy(VALID[k]) for k in ("bidding", "contract", "completion")}


def counts() -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                 for m in (Project, ProjectParty, Application, StageRecord, Attachment))


def refused(rule: str, fn: Any, *args: Any, **kwargs: Any) -> RuleViolation:
    before = counts()
    with pytest.raises(RuleViolation) as exc:
        fn(*args, **kwargs)
    assert exc.value.rule == rule, str(exc.value)
    assert rule in str(exc.value)
    assert counts() == before, "a refusal must leave nothing behind"
    return exc.value


def test_intake_of_a_new_hm_project_opens_a_draft(org_user: tuple[Any, Any]) -> None:
    org, user = org_user
    application = apps.open_application(user, "intake", hm_stages(), project=header())
    assert application.status == "draft" and application.applicant_id == org.id
    assert application.stages == ["bidding", "completion", "contract"]
    assert application.data["contract"]["signed_on"] == "2024-01-25"
    project = db.session.get(Project, application.project_id)
    assert project is not None and project.scope == "500103"


def test_r_scope_1_location_must_be_a_chongqing_jurisdiction(org_user: tuple[Any, Any]) -> None:
    _, user = org_user
    refused("R-SCOPE-1", apps.open_application, user, "intake", hm_stages(),
            project=header(location_code="110101"))


def test_r_scope_1_intake_is_for_projects_from_2024(org_user: tuple[Any, Any]) -> None:
    _, user = org_user
    stages = hm_stages()
    stages["contract"]["signed_on"] = "2022-01-01"
    stages["completion"].update(actual_start="2022-02-01", actual_completion="2023-06-30")
    error = refused("R-SCOPE-1", apps.open_application, user, "intake", stages, project=header())
    assert "补录" in str(error)


@pytest.mark.parametrize("stage", ["basic", "permit"])
def test_r_hm_2_units_do_not_enter_hm_basic_or_permit(org_user: tuple[Any, Any],
                                                      stage: str) -> None:
    _, user = org_user
    stages = {**hm_stages(), stage: copy.deepcopy(VALID[stage])}
    refused("R-HM-2", apps.open_application, user, "intake", stages, project=header())


def test_r_hm_2_stages_from_the_permit_system_are_locked(org_user: tuple[Any, Any]) -> None:
    org, user = org_user
    project = factory.project(org)
    factory.stage(project, "contract", source="exchange")
    db.session.commit()
    refused("R-HM-2", apps.open_application, user, "intake", hm_stages(), project_id=project.id)


def test_r_hm_3_hm_backfill_cannot_include_the_permit(app: Flask,
                                                      org_user: tuple[Any, Any]) -> None:
    _, user = org_user
    app.config["CQPI_BACKFILL_DEADLINE"] = "2099-12-31"
    try:
        stages = backfill_stages()
        stages["permit"] = copy.deepcopy(VALID["permit"])
        refused("R-HM-3", apps.open_application, user, "backfill", stages, project=header())
        stages.pop("permit")
        stages["basic"] = copy.deepcopy(VALID["basic"])  # basic may be backfilled
        assert apps.open_application(user, "backfill", stages, project=header()).id
    finally:
        app.config["CQPI_BACKFILL_DEADLINE"] = "2024-12-31"


def test_r_oi_1_oi_units_enter_basic_but_not_permit(org_user: tuple[Any, Any]) -> None:
    _, user = org_user
    oi = header(category="OI", sector="05", location_code="500101", managing_code="500101")
    stages = {**hm_stages(), "basic": copy.deepcopy(VALID["basic"])}
    assert apps.open_application(user, "intake", stages, project=oi).id
    stages["permit"] = copy.deepcopy(VALID["permit"])
    refused("R-OI-1", apps.open_application, user, "intake", stages, project=oi)


def test_r_oi_2_oi_submission_needs_the_authenticity_letter(org_user: tuple[Any, Any]) -> None:
    _, user = org_user
    oi = header(category="OI", sector="05", location_code="500101", managing_code="500101")
    application = apps.open_application(user, "intake", hm_stages(), project=oi)
    for kind in ("report", "commitment", "application_form", "evidence"):
        apps.add_attachment(application.id, user, kind, PDF, f"{kind}.pdf")
    refused("R-OI-2", guards.check_submittable, application)
    apps.add_attachment(application.id, user, "authenticity_letter", PDF, "确认函.pdf")
    guards.check_submittable(application)


def test_r_ib_1_submission_needs_the_four_materials(org_user: tuple[Any, Any]) -> None:
    _, user = org_user
    application = apps.open_application(user, "intake", hm_stages(), project=header())
    apps.add_attachment(application.id, user, "report", PDF, "补录报告.pdf")
    error = refused("R-IB-1", guards.check_submittable, application)
    assert "企业承诺书、企业申请表、佐证材料" in str(error)


def sub_header(general: Project) -> dict[str, Any]:
    return header(category="SUB", general_project_id=general.id, role="专业承包/分包")


def sub_stages() -> dict[str, Any]:
    return {k: copy.deepcopy(VALID[k]) for k in ("contract", "completion", "performance")}


def test_r_sub_1_sub_contractor_enters_contract_completion_performance(
        org_user: tuple[Any, Any]) -> None:
    org, user = org_user
    general = factory.project(org, on_platform=True)
    db.session.commit()
    assert apps.open_application(user, "intake", sub_stages(), project=sub_header(general)).id
    stages = {**sub_stages(), "bidding": copy.deepcopy(VALID["bidding"])}
    refused("R-SUB-1", apps.open_application, user, "intake", stages,
            project=sub_header(general))


def test_r_sub_2_general_contract_stages_come_first(org_user: tuple[Any, Any]) -> None:
    org, user = org_user
    general = factory.project(org, on_platform=False)
    factory.stage(general, "basic")
    factory.stage(general, "contract")
    db.session.commit()
    error = refused("R-SUB-2", apps.open_application, user, "intake", sub_stages(),
                    project=sub_header(general))
    assert "bidding、completion" in str(error)
    factory.stage(general, "bidding")
    factory.stage(general, "completion")
    db.session.commit()
    assert apps.open_application(user, "intake", sub_stages(), project=sub_header(general)).id


def backfill_stages() -> dict[str, Any]:
    stages = hm_stages()
    stages["bidding"]["result_date"] = "2021-01-10"
    stages["contract"]["signed_on"] = "2021-01-20"
    stages["completion"].update(actual_start="2021-03-01", actual_completion="2023-10-31")
    return stages


def test_r_bf_2_backfill_after_the_deadline_is_refused(org_user: tuple[Any, Any]) -> None:
    """The default deadline (2024-12-31) has passed."""
    _, user = org_user
    error = refused("R-BF-2", apps.open_application, user, "backfill", backfill_stages(),
                    project=header())
    assert "2024-12-31" in str(error)


def test_r_bf_2_an_extended_deadline_allows_backfill(app: Flask,
                                                     org_user: tuple[Any, Any]) -> None:
    _, user = org_user
    app.config["CQPI_BACKFILL_DEADLINE"] = "2099-12-31"
    try:
        assert apps.open_application(user, "backfill", backfill_stages(), project=header()).id
    finally:
        app.config["CQPI_BACKFILL_DEADLINE"] = "2024-12-31"


def test_r_bf_1_backfill_only_for_projects_completed_by_2023(
        app: Flask, org_user: tuple[Any, Any]) -> None:
    org, user = org_user
    app.config["CQPI_BACKFILL_DEADLINE"] = "2099-12-31"
    try:
        stages = backfill_stages()
        stages["completion"]["actual_completion"] = "2024-03-01"
        refused("R-BF-1", apps.open_application, user, "backfill", stages, project=header())
        stages["completion"].pop("actual_completion")
        stages.pop("completion")
        refused("R-BF-1", apps.open_application, user, "backfill", stages, project=header())
        entered = factory.project(org, on_platform=True)
        db.session.commit()
        refused("R-BF-1", apps.open_application, user, "backfill", backfill_stages(),
                project_id=entered.id)
    finally:
        app.config["CQPI_BACKFILL_DEADLINE"] = "2024-12-31"


def test_r_cor_2_data_used_for_qualification_cannot_be_corrected(
        org_user: tuple[Any, Any]) -> None:
    org, user = org_user
    project = factory.project(org, on_platform=True)
    factory.stage(project, "contract", VALID["contract"], grade="D", used_for_qualification=True)
    factory.stage(project, "completion", VALID["completion"], grade="D")
    db.session.commit()
    contract = {"contract": dict(VALID["contract"], amount="9900")}
    refused("R-COR-2", apps.open_application, user, "correction", contract, project_id=project.id)
    completion = {"completion": dict(VALID["completion"], actual_cost="10200")}
    assert apps.open_application(user, "correction", completion, project_id=project.id).id


def test_r_cor_1_only_data_on_the_national_platform_is_corrected(
        org_user: tuple[Any, Any]) -> None:
    org, user = org_user
    project = factory.project(org)
    factory.stage(project, "contract", VALID["contract"], grade=None)
    db.session.commit()
    refused("R-COR-1", apps.open_application, user, "correction",
            {"contract": VALID["contract"]}, project_id=project.id)


@pytest.mark.parametrize(("city", "grade", "target", "rule"), [
    (False, "D", "B", None), (False, "B", "A", None), (True, "D", "A", None),
    (False, "D", "A", "R-GA-2"), (False, "A", "A", "R-GA-2"), (True, "B", "B", "R-GA-2"),
    (False, None, "B", "R-GA-1"),
])
def test_r_ga_2_grades_rise_one_step_except_city_managed_d_to_a(
        org_user: tuple[Any, Any], city: bool, grade: str | None, target: str,
        rule: str | None) -> None:
    org, user = org_user
    project = factory.project(org, city_managed=city, on_platform=True)
    factory.stage(project, "contract", VALID["contract"], grade=grade)
    db.session.commit()
    args = (user, "grade_adjust", {"contract": {}})
    if rule:
        refused(rule, apps.open_application, *args, project_id=project.id, target_grade=target)
    else:
        application = apps.open_application(*args, project_id=project.id, target_grade=target)
        assert application.target_grade == target


def test_r_ga_1_one_stage_at_a_time(org_user: tuple[Any, Any]) -> None:
    org, user = org_user
    project = factory.project(org, on_platform=True)
    db.session.commit()
    with pytest.raises(apps.FormInvalid) as exc:
        apps.open_application(user, "grade_adjust", {"contract": {}, "completion": {}},
                              project_id=project.id, target_grade="B")
    assert "R-GA-1" in exc.value.messages["stages"][0]


def test_r_role_1_an_enterprise_acts_only_for_its_projects(org_user: tuple[Any, Any]) -> None:
    _, user = org_user
    stranger = factory.organisation("别家公司")
    theirs = factory.project(stranger)
    db.session.commit()
    refused("R-ROLE-1", apps.open_application, user, "intake", hm_stages(), project_id=theirs.id)


def test_invalid_stage_data_is_a_form_error_and_writes_nothing(
        org_user: tuple[Any, Any]) -> None:
    _, user = org_user
    stages = hm_stages()
    stages["contract"]["amount"] = "-5"
    before = counts()
    with pytest.raises(apps.FormInvalid) as exc:
        apps.open_application(user, "intake", stages, project=header(name=""))
    assert exc.value.messages == {"stages": {"contract": {"amount": ["「合同金额」不能小于 0"]}},
                                  "project": {"name": ["「项目名称」不能为空"]}}
    with pytest.raises(apps.FormInvalid) as exc:
        apps.open_application(user, "intake", hm_stages(), project=header(managing_code=None))
    assert "A-7" in exc.value.messages["project"]["managing_code"][0]
    assert counts() == before


def test_uploads_are_type_checked_by_content(org_user: tuple[Any, Any]) -> None:
    _, user = org_user
    application = apps.open_application(user, "intake", hm_stages(), project=header())
    with pytest.raises(apps.FormInvalid) as exc:
        apps.add_attachment(application.id, user, "evidence", b"MZ\x90\x00 not a pdf", "a.pdf")
    assert "PDF、OFD、JPEG、PNG" in exc.value.messages["file"][0]
    row = apps.add_attachment(application.id, user, "evidence", PDF, "../../etc/证明.pdf")
    assert (row.display_name, row.media_type, row.size) == ("证明.pdf", "application/pdf", len(PDF))


def test_only_enterprise_users_apply_and_only_their_own(org_user: tuple[Any, Any]) -> None:
    _, user = org_user
    application = apps.open_application(user, "intake", hm_stages(), project=header())
    other = factory.enterprise_user()
    db.session.commit()
    with pytest.raises(apps.NotFound):
        submission.submit(application.id, other)
    from registry import users
    reviewer = users.create_user("rev1", "password-123", "city_reviewer", "市级审核")
    db.session.commit()
    with pytest.raises(apps.NotAllowed):
        apps.open_application(reviewer, "intake", hm_stages(), project=header())


@pytest.mark.parametrize(("changes", "ok"), [
    ({"category": "HM", "sector": "01"}, True), ({"category": "HM", "sector": "02"}, True),
    ({"category": "OI", "sector": "05"}, True), ({"category": "XX", "sector": "01"}, False),
])
def test_r_cat_1_three_categories(org_user: tuple[Any, Any], changes: dict[str, Any],
                                  ok: bool) -> None:
    """R-CAT-1: HM, OI and SUB are the categories; nothing else is accepted."""
    _, user = org_user
    if ok:
        assert apps.open_application(user, "intake", hm_stages(), project=header(**changes)).id
    else:
        with pytest.raises(apps.FormInvalid) as exc:
            apps.open_application(user, "intake", hm_stages(), project=header(**changes))
        assert "「项目类别」不在代码表中" in exc.value.messages["project"]["category"][0]


@pytest.mark.parametrize("sector", ["03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
                                    "99"])
def test_r_cat_2_oi_sectors(org_user: tuple[Any, Any], sector: str) -> None:
    """R-CAT-2: OI covers 公路、水运、水利、通信、铁路、矿山、电力、冶金、石油化工、机电 and other;
    housing and municipal sectors are not OI."""
    _, user = org_user
    oi = header(category="OI", sector=sector)
    assert apps.open_application(user, "intake", hm_stages(), project=oi).id
    with pytest.raises(apps.FormInvalid) as exc:
        apps.open_application(user, "intake", hm_stages(), project=header(category="OI",
                                                                          sector="01"))
    assert "R-CAT-2" in exc.value.messages["project"]["sector"][0]


def test_r_hm_1_hm_units_enter_their_five_stages(org_user: tuple[Any, Any]) -> None:
    """R-HM-1: bidding, contract, drawing review, completion and performance are entered by
    the units of an HM project (verified by the authority before entry, see intake.bpmn)."""
    _, user = org_user
    stages = {k: copy.deepcopy(VALID[k]) for k in ("bidding", "contract", "drawing_review",
                                                   "completion", "performance")}
    application = apps.open_application(user, "intake", stages, project=header())
    assert application.stages == sorted(stages)
    assert application.status == "draft"  # entered, not yet in: review comes first


def test_r_cor_3_a_correction_needs_its_report_and_materials(org_user: tuple[Any, Any]) -> None:
    """R-COR-3: a correction report, commitment, application form and evidence."""
    org, user = org_user
    project = factory.project(org, on_platform=True)
    factory.stage(project, "completion", VALID["completion"], grade="D")
    db.session.commit()
    application = apps.open_application(
        user, "correction", {"completion": dict(VALID["completion"], actual_cost="1")},
        project_id=project.id)
    apps.add_attachment(application.id, user, "commitment", PDF, "承诺书.pdf")
    error = refused("R-COR-3", guards.check_submittable, application)
    assert "报告" in str(error)


def test_every_registry_change_leaves_an_audit_event(org_user: tuple[Any, Any]) -> None:
    from registry.models import AuditEvent
    from tests.processes.helpers import deploy_processes

    _, user = org_user
    deploy_processes()
    application = apps.open_application(user, "intake", hm_stages(), project=header())
    for kind in ("report", "commitment", "application_form", "evidence"):
        apps.add_attachment(application.id, user, kind, PDF, f"{kind}.pdf")
    submission.submit(application.id, user)
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["application_opened", *["attachment_added"] * 4,
                                          "application_submitted"]
    assert {e.actor for e in events} == {user.username}
    assert {e.object for e in events} == {f"application:{application.id}"}
