"""Password sign-in shared by the API and the pages: failed attempts are counted in Redis per
user name and address, and a name is paused after ``MAX_FAILURES``."""

from __future__ import annotations

from engine.queue import queues
from registry.models import User
from registry.users import authenticate

MAX_FAILURES = 5
"""Failed sign-ins per user name and address before a pause of ``PAUSE_SECONDS``."""

PAUSE_SECONDS = 15 * 60


class SignInRefused(Exception):
    """A sign-in refused: ``status`` is 401 (wrong name or password) or 429 (paused)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def attempt(username: str, password: str, address: str | None) -> User:
    """The user with this name and password; SignInRefused otherwise."""
    q = queues()
    key = f"{q.name}:signin:{username}:{address}"
    redis = q.connection
    if int(redis.get(key) or 0) >= MAX_FAILURES:
        raise SignInRefused(429, "登录失败次数过多，请 15 分钟后再试")
    user = authenticate(username, password)
    if user is None:
        redis.incr(key)
        redis.expire(key, PAUSE_SECONDS)
        raise SignInRefused(401, "用户名或密码不正确")
    redis.delete(key)
    return user
