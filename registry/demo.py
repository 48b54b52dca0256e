"""Demo data for ``cqpi demo`` and ``cqpi run``: organisations, a user of every role, projects of
every category in several jurisdictions, some already on the national platform.

Idempotent: rows that exist (by credit code, user name, project number) are left alone.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.db import db
from forms.credit_code import check_char

from . import users
from .applications import record_stage
from .models import Organisation, Project, ProjectParty, Role, User

PASSWORD = "cqpi-demo-2026"
"""Every demo user's password (documented in the README; for demonstrations only)."""

ORGANISATIONS = {
    "builder": ("91500103", "重庆渝建建设集团有限公司"),
    "designer": ("91500105", "重庆山城勘察设计研究院有限公司"),
    "supervisor": ("91500112", "重庆两江监理咨询有限公司"),
    "hydro": ("91500116", "重庆江津水利水电工程有限公司"),
    "curtain": ("91500108", "重庆巴渝幕墙装饰工程有限公司"),
    "owner": ("91500103", "重庆渝中城市更新置业有限公司"),
}

USERS = [
    ("qiye", "渝建集团 申报员", Role.ENTERPRISE, "builder", None),
    ("sheji", "山城设计院 申报员", Role.ENTERPRISE, "designer", None),
    ("shuili", "江津水利 申报员", Role.ENTERPRISE, "hydro", None),
    ("muqiang", "巴渝幕墙 申报员", Role.ENTERPRISE, "curtain", None),
    ("yuzhong", "渝中区住建委 审核员", Role.DISTRICT, None, "500103"),
    ("jiangjin", "江津区住建委 审核员", Role.DISTRICT, None, "500116"),
    ("liangjiang", "两江新区建设局 审核员", Role.DISTRICT, None, "CQ-LJ"),
    ("shiji", "市住房城乡建委 审核员", Role.CITY, None, None),
    ("yunwei", "运维人员", Role.OPS, None, None),
    ("fenxi", "流程分析员", Role.ANALYST, None, None),
    ("admin", "系统管理员", Role.ADMIN, None, None),
]


def _credit(prefix: str, serial: int) -> str:
    body = f"{prefix}MA{serial:07d}"
    return body + check_char(body)


def _organisations() -> dict[str, Organisation]:
    found = {}
    for serial, (key, (prefix, name)) in enumerate(ORGANISATIONS.items(), start=1):
        code = _credit(prefix, serial)
        org = db.session.scalar(sa.select(Organisation).filter_by(credit_code=code))
        if org is None:
            org = Organisation(credit_code=code, name=name)
            db.session.add(org)
            db.session.flush()
        found[key] = org
    return found


def _users(orgs: dict[str, Organisation]) -> int:
    made = 0
    for username, display, role, org, jurisdiction in USERS:
        if db.session.scalar(sa.select(User.id).filter_by(username=username)) is None:
            users.create_user(username, PASSWORD, role, display,
                              organisation_id=orgs[org].id if org else None,
                              jurisdiction_code=jurisdiction)
            made += 1
    return made


def _contract(orgs: dict[str, Organisation], amount: str, signed: str,
              employer: str = "owner", contractor: str = "builder") -> dict[str, Any]:
    return {"record_number": f"HT-{signed[:4]}-{amount}", "contract_number": f"C{amount}",
            "contract_type": "100", "amount": amount, "signed_on": signed,
            "employer_name": orgs[employer].name,
            "employer_credit_code": orgs[employer].credit_code,
            "contractor_name": orgs[contractor].name,
            "contractor_credit_code": orgs[contractor].credit_code, "consortium": False}


def _completion(start: str, end: str, cost: str) -> dict[str, Any]:
    return {"record_number": f"JG-{end[:4]}-{cost}", "actual_start": start,
            "actual_completion": end, "actual_cost": cost}


PROJECTS: list[dict[str, Any]] = [
    {"number": "5001032024010001", "name": "渝中区解放碑片区城市更新住宅项目", "category": "HM",
     "sector": "01", "location": "500103", "city": False, "on_platform": True,
     "parties": [("builder", "施工"), ("owner", "建设单位"), ("designer", "设计"),
                 ("supervisor", "监理")]},
    {"number": "5000002024030002", "name": "两江新区悦来大道市政道路工程", "category": "HM",
     "sector": "02", "location": "CQ-LJ", "city": True, "on_platform": True,
     "parties": [("builder", "施工"), ("designer", "勘察")]},
    {"number": "5001162024050003", "name": "江津区綦河堤防整治工程", "category": "OI",
     "sector": "05", "location": "500116", "city": False, "on_platform": False,
     "parties": [("hydro", "施工")]},
    {"number": "5001032024070004", "name": "解放碑住宅项目幕墙专业分包工程", "category": "SUB",
     "sector": "01", "location": "500103", "city": False, "on_platform": True,
     "general": "5001032024010001", "parties": [("curtain", "专业承包/分包")]},
]


def _stages(project: Project, orgs: dict[str, Organisation], spec: dict[str, Any]) -> None:
    if spec["number"] == "5001032024010001":
        record_stage(project.id, "permit", {"licence_number": "500103202401150101",
                                            "issued_on": "2024-01-15"},
                     source="exchange", changed_by="施工许可核发系统").grade = "D"
        record_stage(project.id, "contract", _contract(orgs, "12800", "2024-01-10"),
                     source="business", changed_by="demo").grade = "D"
        done = record_stage(project.id, "completion",
                            _completion("2024-02-01", "2025-10-30", "13050"),
                            source="business", changed_by="demo")
        done.grade, done.used_for_qualification = "B", True
    elif spec["number"] == "5000002024030002":
        record_stage(project.id, "contract", _contract(orgs, "45600", "2024-03-20"),
                     source="business", changed_by="demo").grade = "D"
    elif spec["number"] == "5001032024070004":
        record_stage(project.id, "contract",
                     _contract(orgs, "860", "2024-07-01", "builder", "curtain"),
                     source="business", changed_by="demo", contract_key="C860").grade = "D"


def _projects(orgs: dict[str, Organisation]) -> int:
    made = 0
    for spec in PROJECTS:
        if db.session.scalar(sa.select(Project.id).filter_by(project_number=spec["number"])):
            continue
        general = db.session.scalar(sa.select(Project).filter_by(
            project_number=spec.get("general"))) if spec.get("general") else None
        project = Project(project_number=spec["number"], name=spec["name"],
                          category=spec["category"], sector=spec["sector"],
                          location_code=spec["location"], city_managed=spec["city"],
                          managing_code=None if spec["city"] else spec["location"],
                          general_project_id=general.id if general else None,
                          on_national_platform=spec["on_platform"])
        db.session.add(project)
        db.session.flush()
        for org, role in spec["parties"]:
            db.session.add(ProjectParty(project_id=project.id, organisation_id=orgs[org].id,
                                        role=role))
        _stages(project, orgs, spec)
        made += 1
    return made


def load() -> dict[str, int]:
    """Load what is missing of the demo data; returns how many users and projects were added."""
    orgs = _organisations()
    counts = {"users": _users(orgs), "projects": _projects(orgs)}
    db.session.commit()
    return counts
