"""Password sign-in shared by the API and the pages, throttled in Redis.

Two counters per account (across every address: an attacker gets no fresh tries by changing
address) and per address (across every name: a spray of names is paused too): the failures
of the last ``PAUSE_SECONDS``, and the checks in flight. An attempt is checked only while
failures and checks in flight together stay under the limit, decided atomically before the
password is checked: sixty wrong passwords at once get five checks, not thirty. While
checks in flight fill the limit, an attempt waits a moment for them rather than being
refused (sixteen colleagues signing in as one test account all get in); once failures
alone reach it, the attempt is refused at once. A success clears its account's failures.

Checking a password costs a hash (CPU time by design): at most ``HASHING_AT_ONCE`` run at
once per process, so that a burst of sign-ins leaves a core to everyone else.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from engine.queue import queues
from registry.models import User
from registry.users import authenticate

MAX_FAILURES = 5
"""Failed sign-ins of one account, from anywhere, before a pause of ``PAUSE_SECONDS``."""

MAX_ADDRESS_FAILURES = 30
"""Failed sign-ins from one address, whatever the names, before its pause (an office behind
one address has room for its people's typing mistakes)."""

PAUSE_SECONDS = 15 * 60

IN_FLIGHT_SECONDS = 30
"""How long a check in flight holds its slot if its process dies before giving it back."""

WAIT_SECONDS = 10.0
"""How long an attempt waits for checks in flight before it is refused as throttled."""

HASHING_AT_ONCE = max(1, (os.cpu_count() or 2) // 2)
"""Password checks one process runs at once."""

PAUSED = "登录失败次数过多，请 15 分钟后再试"
WRONG = "用户名或密码不正确"

# KEYS: account failures, account in flight, address failures, address in flight.
# ARGV: account limit, address limit, in-flight ttl. Returns 1 (check), 0 (wait), -1 (paused).
_TAKE = """
local fa = tonumber(redis.call('GET', KEYS[1]) or '0')
local fp = tonumber(redis.call('GET', KEYS[3]) or '0')
if fa >= tonumber(ARGV[1]) or fp >= tonumber(ARGV[2]) then return -1 end
local ia = tonumber(redis.call('GET', KEYS[2]) or '0')
local ip = tonumber(redis.call('GET', KEYS[4]) or '0')
if fa + ia >= tonumber(ARGV[1]) or fp + ip >= tonumber(ARGV[2]) then return 0 end
redis.call('INCR', KEYS[2]); redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('INCR', KEYS[4]); redis.call('EXPIRE', KEYS[4], ARGV[3])
return 1
"""

# KEYS as above; ARGV: the outcome (failed, passed, or none: the check itself broke), pause.
_SETTLE = """
for _, k in ipairs({KEYS[2], KEYS[4]}) do
  if tonumber(redis.call('GET', k) or '0') > 0 then redis.call('DECR', k) end
end
if ARGV[1] == 'failed' then
  for _, k in ipairs({KEYS[1], KEYS[3]}) do
    redis.call('INCR', k)
    if redis.call('TTL', k) < 0 then redis.call('EXPIRE', k, ARGV[2]) end
  end
elseif ARGV[1] == 'passed' then
  redis.call('DEL', KEYS[1])
end
return 1
"""

_hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)
T = TypeVar("T")


class SignInRefused(Exception):
    """A sign-in refused: ``status`` is 401 (wrong name or password) or 429 (paused)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def _keys(username: str, address: str | None) -> list[str]:
    base = f"{queues().name}:signin"
    return [f"{base}:account:{username}:failed", f"{base}:account:{username}:checking",
            f"{base}:address:{address}:failed", f"{base}:address:{address}:checking"]


def _script(source: str) -> Any:
    return queues().connection.register_script(source)


def _take_slot(keys: list[str], limits: tuple[int, int], paused: str) -> None:
    """Wait for a slot to run the check in; SignInRefused(429, paused) when paused."""
    take = _script(_TAKE)
    deadline = time.monotonic() + WAIT_SECONDS
    pause = 0.02
    while True:
        taken = int(take(keys=keys, args=[*limits, IN_FLIGHT_SECONDS]))
        if taken == 1:
            return
        if taken < 0 or time.monotonic() + pause > deadline:
            raise SignInRefused(429, paused)
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def throttled(keys: list[str], limits: tuple[int, int], check: Callable[[], T | None],
              paused: str) -> T | None:
    """Run ``check`` (a hash to compare: a password, a check code) under the two counters
    of ``keys`` (the subject's failures and checks in flight, the address's failures and
    checks in flight) with ``limits`` (subject, address); its result, None counting as a
    failure and anything else clearing the subject's failures. SignInRefused(429, paused)
    when paused. Sign-in and the public lookup of a filing (web/lookup.py) use it."""
    _take_slot(keys, limits, paused)
    settle = _script(_SETTLE)
    try:
        with _hashing:
            result = check()
    except BaseException:
        settle(keys=keys, args=["none", PAUSE_SECONDS])
        raise
    settle(keys=keys, args=["failed" if result is None else "passed", PAUSE_SECONDS])
    return result


def attempt(username: str, password: str, address: str | None) -> User:
    """The user with this name and password; SignInRefused otherwise."""
    user = throttled(_keys(username, address), (MAX_FAILURES, MAX_ADDRESS_FAILURES),
                     lambda: authenticate(username, password), PAUSED)
    if user is None:
        raise SignInRefused(401, WRONG)
    return user
