"""Users, their roles and scopes, and sign-in with strong password hashes (scrypt)."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from engine.db import db

from .models import Role, User

MIN_PASSWORD = 8
_DUMMY = generate_password_hash("timing-equaliser", method="scrypt")


class UserRefused(ValueError):
    """A user that cannot be created as asked."""


def create_user(username: str, password: str, role: str, display_name: str, *,
                organisation_id: int | None = None,
                jurisdiction_code: str | None = None) -> User:
    """Add a user (in the caller's transaction)."""
    if len(password) < MIN_PASSWORD:
        raise UserRefused(f"密码至少 {MIN_PASSWORD} 位")
    if role not in {r.value for r in Role}:
        raise UserRefused(f"未知角色: {role}")
    if role == Role.ENTERPRISE and organisation_id is None:
        raise UserRefused("企业用户须属于一个单位")
    if role == Role.DISTRICT and jurisdiction_code is None:
        raise UserRefused("区县审核人员须属于一个区县")
    user = User(username=username, display_name=display_name, role=role,
                password_hash=generate_password_hash(password, method="scrypt"),
                organisation_id=organisation_id, jurisdiction_code=jurisdiction_code)
    db.session.add(user)
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with this name and password, or None (in about the same time)."""
    user = db.session.scalar(sa.select(User).filter_by(username=username, active=True))
    if user is None:
        check_password_hash(_DUMMY, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def scope_of(user: User) -> str | None:
    """The review scope of a reviewer: ``city`` or a jurisdiction code; None for others."""
    if user.role == Role.CITY:
        return "city"
    if user.role == Role.DISTRICT:
        return user.jurisdiction_code
    return None
