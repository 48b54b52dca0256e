"""Password sign-in shared by the API and the pages, throttled in Redis.

Each attempt takes a slot before the password is checked (an atomic increment: sixty
attempts at once get five checks, not thirty), from two counters: the account's, across
every address (an attacker cannot get five tries per address), and the address's, across
every name (a spray of unknown names is paused too). A failure keeps its slots for
``PAUSE_SECONDS``; a success gives them back and clears the account's count.
"""

from __future__ import annotations

from engine.queue import queues
from registry.models import User
from registry.users import authenticate

MAX_FAILURES = 5
"""Failed sign-ins of one account, from anywhere, before a pause of ``PAUSE_SECONDS``."""

MAX_ADDRESS_FAILURES = 30
"""Failed sign-ins from one address, whatever the names, before its pause (an office behind
one address has room for its people's typing mistakes)."""

PAUSE_SECONDS = 15 * 60


class SignInRefused(Exception):
    """A sign-in refused: ``status`` is 401 (wrong name or password) or 429 (paused)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def _keys(username: str, address: str | None) -> tuple[str, str]:
    name = queues().name
    return f"{name}:signin:account:{username}", f"{name}:signin:address:{address}"


def _take_slots(account: str, place: str) -> tuple[int, int]:
    """Count this attempt on both counters at once; the counts including it."""
    pipe = queues().connection.pipeline(transaction=True)
    for key in (account, place):
        pipe.set(key, 0, ex=PAUSE_SECONDS, nx=True)
        pipe.incr(key)
    answers = pipe.execute()
    return int(answers[1]), int(answers[3])


def _give_back(account: str, place: str, success: bool) -> None:
    connection = queues().connection
    pipe = connection.pipeline(transaction=True)
    if success:
        pipe.delete(account)
    else:
        pipe.decr(account)
    pipe.decr(place)
    counts = pipe.execute()
    decremented = [place] if success else [account, place]
    below = [key for key, count in zip(decremented, counts[-len(decremented):], strict=True)
             if int(count) < 0]
    if below:  # the counter expired meanwhile: a decrement must not leave credit behind
        connection.delete(*below)


def attempt(username: str, password: str, address: str | None) -> User:
    """The user with this name and password; SignInRefused otherwise."""
    account, place = _keys(username, address)
    tries, from_here = _take_slots(account, place)
    if tries > MAX_FAILURES or from_here > MAX_ADDRESS_FAILURES:
        _give_back(account, place, success=False)  # a refused attempt is no failure
        raise SignInRefused(429, "登录失败次数过多，请 15 分钟后再试")
    user = authenticate(username, password)
    if user is None:
        raise SignInRefused(401, "用户名或密码不正确")  # the slots stay taken: a failure
    _give_back(account, place, success=True)
    return user
