"""Uploads checked by content and stored by hash; users with scrypt hashes and scopes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask import Flask

from engine.db import db
from registry import attachments, users
from registry.jurisdictions import name_of, table
from tests.registry import factory


def ofd(with_root: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("OFD.xml" if with_root else "other.xml", "<ofd:OFD/>")
    return buf.getvalue()


@pytest.mark.parametrize(("content", "media"), [
    (b"%PDF-1.4 ...", "application/pdf"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image/png"),
    (ofd(), "application/ofd"),
    (ofd(with_root=False), None),
    (b"PK\x03\x04 broken zip", None),
    (b"<html><script>alert(1)</script>", None),
    (b"MZ\x90\x00", None),
])
def test_type_is_decided_by_content(content: bytes, media: str | None) -> None:
    assert attachments.sniff(content) == media


@pytest.mark.parametrize(("kind", "content", "message"), [
    ("evidence", b"", "文件为空"),
    ("evidence", b"%PDF-" + b"x" * 2048, "超过"),
    ("selfie", b"%PDF-1.4", "未知的材料类型"),
    ("evidence", b"GIF89a", "只接受"),
])
def test_refusals(kind: str, content: bytes, message: str) -> None:
    with pytest.raises(attachments.FileRefused, match=message):
        attachments.check(kind, content, limit=1024 if len(content) > 1024 else 10**6)


def test_store_by_hash_once(tmp_path: Path) -> None:
    first = attachments.store(tmp_path, b"%PDF-1.4 same")
    again = attachments.store(tmp_path, b"%PDF-1.4 same")
    assert first == again
    stored = attachments.path_for(tmp_path, first)
    assert stored.read_bytes() == b"%PDF-1.4 same"
    assert len(list((tmp_path / "files").rglob("*"))) == 3  # two levels of folders, one file


@pytest.mark.parametrize(("name", "shown"), [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\报告.pdf", "报告.pdf"),
    ("a\x00b\x1b[31m.pdf", "ab[31m.pdf"), ("", "未命名文件"), (None, "未命名文件"),
])
def test_display_names_are_only_text(name: str | None, shown: str) -> None:
    assert attachments.display_name(name) == shown


def test_passwords_are_scrypt_hashes_and_sign_in_works(app: Flask) -> None:
    org = factory.organisation()
    user = users.create_user("zhang", "correct horse", "enterprise", "张三",
                             organisation_id=org.id)
    db.session.commit()
    assert user.password_hash.startswith("scrypt:")
    assert "correct horse" not in user.password_hash
    assert users.authenticate("zhang", "correct horse") is user
    assert users.authenticate("zhang", "wrong password") is None
    assert users.authenticate("nobody", "correct horse") is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"password": "short"}, "至少 8 位"),
    ({"role": "wizard"}, "未知角色"),
    ({"role": "enterprise"}, "须属于一个单位"),
    ({"role": "district_reviewer"}, "须属于一个区县"),
])
def test_users_are_refused_clearly(app: Flask, kwargs: dict[str, str], message: str) -> None:
    args = {"password": "password-1", "role": "city_reviewer", **kwargs}
    with pytest.raises(users.UserRefused, match=message):
        users.create_user("x", args["password"], args["role"], "某人")


def test_scopes_of_reviewers(app: Flask) -> None:
    city = users.create_user("city", "password-1", "city_reviewer", "市级")
    district = users.create_user("yz", "password-1", "district_reviewer", "渝中",
                                 jurisdiction_code="500103")
    ops = users.create_user("ops", "password-1", "ops", "运维")
    db.session.commit()
    assert [users.scope_of(u) for u in (city, district, ops)] == ["city", "500103", None]


def test_jurisdictions_a_7_are_the_38_districts_and_counties_plus_zones(app: Flask) -> None:
    """A-7: 38 districts and counties by GB/T 2260 code, plus the functional zones."""
    codes = table()
    assert sum(1 for _, kind in codes.values() if kind in ("district", "county")) == 38
    assert {c for c, (_, kind) in codes.items() if kind == "zone"} == {
        "CQ-LJ", "CQ-GX", "CQ-JK", "CQ-WS", "CQ-SQ"}
    assert name_of("500103") == "渝中区"
    from registry.models import Jurisdiction
    assert db.session.get(Jurisdiction, "CQ-LJ").name == "两江新区"  # type: ignore[union-attr]


def test_demo_data_has_every_role_and_category_and_loads_twice(app: Flask) -> None:
    import sqlalchemy as sa

    from registry import demo
    from registry.models import Project, Role, StageRecord, User

    assert demo.load() == {"users": len(demo.USERS), "projects": len(demo.PROJECTS)}
    assert demo.load() == {"users": 0, "projects": 0}
    roles = set(db.session.scalars(sa.select(User.role)))
    assert roles == {r.value for r in Role}
    categories = set(db.session.scalars(sa.select(Project.category)))
    assert categories == {"HM", "OI", "SUB"}
    assert len(set(db.session.scalars(sa.select(Project.location_code)))) >= 3
    permit = db.session.scalar(sa.select(StageRecord).filter_by(stage="permit"))
    assert permit is not None and permit.from_permit_system
    assert users.authenticate("yuzhong", demo.PASSWORD) is not None
