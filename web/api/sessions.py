"""``/api/v1/auth/logout`` ends the caller's token; ``/api/v1/users/{id}/sessions/revoke`` lets
an admin end every page session and token of a user."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint, abort

from engine.db import db
from registry import sessions
from registry.models import Role, User

from .auth import sign_out, signed_in, signed_in_user
from .auth_roles import roles

blp = Blueprint("sessions", __name__, url_prefix="/api/v1", description="登录会话")


@blp.post("/auth/logout")
@signed_in
@blp.response(204)
def logout() -> Any:
    """End the caller's token: from now on it is refused with 401."""
    sign_out()
    return ""


@blp.post("/users/<int(max=2147483647):user_id>/sessions/revoke")
@roles(Role.ADMIN)
@blp.response(200)
def revoke(user_id: int) -> Any:
    """Admins: end every page session and token of the user (audited); 404 for no such user."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, message=f"用户 {user_id} 不存在")
    assert user is not None  # abort raised
    ended = sessions.revoke_all(user, signed_in_user().username)
    db.session.commit()
    return {"user_id": user_id, "ended": ended}
