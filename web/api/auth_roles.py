"""Consoles by role: ops see and repair instances, analysts change the procedures."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask_smorest import abort

from registry.models import Role

from .auth import current_user, refusal

OPS = (Role.OPS, Role.ADMIN)
ANALYSTS = (Role.ANALYST, Role.ADMIN)


def roles(*allowed: str) -> Any:
    """401 without sign-in, 403 for a role that has no business on this console."""
    def decorate(view: Any) -> Any:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                abort(401, message=refusal())
            assert user is not None  # abort raised
            if user.role not in allowed:
                abort(403, message="您的角色不能使用此功能")
            return view(*args, **kwargs)
        return wrapper
    return decorate
