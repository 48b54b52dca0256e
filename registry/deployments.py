"""Deploying process versions and making one current, on someone's behalf: each change and
its audit event (who, what, the current version before and after) commit together. The API,
the models pages and ``cqpi deploy`` all go through here."""

from __future__ import annotations

from collections.abc import Iterable

import engine
from engine.activation import Activation
from engine.activation import activate as make_current
from engine.definitions import Deployed

from . import audit


def deploy(files: Iterable[tuple[str, bytes]], by: str,
           reactivate: bool = True) -> list[Deployed]:
    """``engine.deploy``, audited (``process_deployed``: the outcome, before and after).

    Raises engine.DefinitionInvalid (nothing stored) if any file has a problem.
    """
    with engine.transaction():
        outcomes = engine.deploy(files, engine.catalog(), deployed_by=by, reactivate=reactivate)
        for o in outcomes:
            after = o.before if o.outcome == "kept" else o.version
            audit.record(by, "process_deployed", f"process:{o.key}", {
                "version": o.version, "outcome": o.outcome, "before": o.before, "after": after})
    return outcomes


def activate(key: str, version: int, by: str) -> Activation:
    """Make ``version`` of ``key`` the one new instances start, audited
    (``process_activated``) when it changes anything.

    Raises engine.NotFound for an unknown process or version.
    """
    with engine.transaction():
        done = make_current(key, version)
        if done.changed:
            audit.record(by, "process_activated", f"process:{key}",
                         {"version": version, "before": done.before, "after": version})
    return done


def said_activation(version: int, done: Activation) -> str:
    """What activating ``version`` did, for people."""
    if done.changed:
        return f"已将版本 {version} 设为当前版本（此前为版本 {done.before}）"
    return f"版本 {version} 已是当前版本，未作更改"


def said(o: Deployed) -> str:
    """What the deploy did with one process, for people (without the process's key)."""
    return {
        "created": f"已部署为新版本 {o.version}",
        "unchanged": f"内容与当前版本 {o.version} 相同，未产生新版本",
        "reactivated": f"内容与版本 {o.version} 相同，已重新启用版本 {o.version}"
                       f"（此前的当前版本为 {o.before}）",
        "kept": f"内容与早先的版本 {o.version} 相同，当前版本仍为 {o.before}",
    }[o.outcome]
