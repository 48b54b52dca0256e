"""Which version is current, and rollback: an earlier version made current again (by
activation or by deploying its file again), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

import engine
from engine import clock
from engine.activation import activate, current, current_versions
from engine.db import db
from engine.definitions import _library
from engine.models import Definition, Instance
from tests.conftest import deploy, read_bpmn

V1, V2, V3 = "versioned_v1.bpmn", "versioned_v2.bpmn", "versioned_v3.bpmn"


def started_on(key: str = "versioned") -> int:
    instance = engine.start(key, data={"title": "某项目"})
    definition = db.session.get(Definition, instance.definition_id)
    assert definition is not None
    return definition.version


def test_an_activated_earlier_version_is_what_new_instances_start(app: Flask) -> None:
    deploy(V1)
    deploy(V2)
    on_v2 = engine.start("versioned", data={"title": "某项目"}).id
    done = activate("versioned", 1)
    assert (done.version, done.before, done.changed) == (1, 2, True)
    assert engine.latest("versioned").version == current("versioned").version == 1
    assert started_on() == 1
    running = db.session.get(Instance, on_v2)
    assert running is not None
    assert db.session.get(Definition, running.definition_id).version == 2  # type: ignore[union-attr]
    assert current_versions()["versioned"] == 1


def test_activating_the_current_version_changes_nothing(app: Flask) -> None:
    deploy(V1)
    deploy(V2)
    before = current("versioned").activated_at
    done = activate("versioned", 2)
    assert (done.before, done.changed) == (2, False)
    assert current("versioned").activated_at == before


@pytest.mark.parametrize(("key", "version"), [("versioned", 9), ("nothing", 1)])
def test_an_unknown_process_or_version_is_not_found(app: Flask, key: str, version: int) -> None:
    deploy(V1)
    with pytest.raises(engine.NotFound):
        activate(key, version)


def test_deploying_an_earlier_versions_file_makes_it_current_again(app: Flask) -> None:
    deploy(V1)
    deploy(V2)
    [again] = deploy(V1)
    assert (again.version, again.outcome, again.before, again.created) == (1, "reactivated", 2,
                                                                           False)
    assert started_on() == 1
    [same] = deploy(V1)
    assert (same.version, same.outcome, same.before) == (1, "unchanged", 1)
    [fresh] = deploy(V3)
    assert (fresh.version, fresh.outcome, fresh.before) == (3, "created", 1)
    assert started_on() == 3


def test_a_start_up_deploy_keeps_a_rollback(app: Flask) -> None:
    deploy(V1)
    deploy(V2)
    activate("versioned", 1)
    [kept] = engine.deploy(read_bpmn(V2), engine.catalog(), reactivate=False)
    assert (kept.version, kept.outcome, kept.before) == (2, "kept", 1)
    assert current("versioned").version == 1


def test_a_clock_moved_back_does_not_undo_an_activation(app: Flask) -> None:
    clock.travel(timedelta(days=1))
    try:
        deploy(V1)
        deploy(V2)
    finally:
        clock.reset()
    activate("versioned", 1)  # earlier by the clock than v2's activation
    assert current("versioned").version == 1
    deploy(V3)
    assert current("versioned").version == 3


def test_call_activities_validate_against_the_current_version(app: Flask) -> None:
    deploy(V1)
    deploy(V2)
    activate("versioned", 1)
    [(key, _name, content, _extras)] = _library()
    assert key == "versioned" and content == read_bpmn(V1)[0][1]
