"""Marks on the diagrams of an instance with a call activity: the call activity takes the
state of what is active inside the called process, whose diagram has marks of its own."""

from __future__ import annotations

import pytest
from flask import Flask

import engine
from engine import marks
from engine.db import db
from engine.models import Definition, Instance
from tests.conftest import BPMN, CALLS
from tests.engine.test_failures import PUSH, drain
from tests.engine.test_runtime import fresh, open_tasks

CALLER = (BPMN / "calls_flow.bpmn").read_bytes()


def start(wait: str = "PT1H") -> Instance:
    engine.deploy([("push.bpmn", PUSH.encode()), ("calls_flow.bpmn", CALLER)], engine.catalog())
    return engine.start("calls_flow", business_key="C-1", data={"title": "t", "wait": wait})


def test_a_call_activity_takes_the_state_of_what_waits_inside_it(app: Flask) -> None:
    inst = start()
    assert marks.marks(fresh(Instance, inst.id))["Call_Flow"] == "active"  # a person inside
    inside = marks.marks(fresh(Instance, inst.id), ("Call_Flow",))
    assert inside["Task_Enter"] == "active" and inside["Event_Start"] == "completed"
    assert "Call_Flow" not in inside
    assert marks.calls(fresh(Instance, inst.id)) == ["Call_Flow"]
    assert marks.called(fresh(Instance, inst.id), ("Call_Flow",)) == "flow"
    with pytest.raises(engine.NotFound, match="没有经由"):
        marks.called(fresh(Instance, inst.id), ("Task_Archive",))

    [task] = open_tasks(inst.id)
    engine.complete_task(task.id, {}, actor="alice")
    top = marks.marks(fresh(Instance, inst.id))
    assert top["Call_Flow"] == "waiting" and "Task_Publish" not in top  # a job inside
    assert marks.marks(fresh(Instance, inst.id), ("Call_Flow",))["Task_Publish"] == "waiting"

    CALLS.fail_times = 100  # the job runs out of attempts: an incident inside
    drain(app)
    top = marks.marks(fresh(Instance, inst.id))
    assert top["Call_Flow"] == "failed" and top["Event_Start"] == "completed"
    inside = marks.marks(fresh(Instance, inst.id), ("Call_Flow",))
    assert inside["Task_Publish"] == "failed" and inside["Task_Enter"] == "completed"

    CALLS.fail_times = 0
    engine.retry(inst.id, actor="ops")
    drain(app)
    top = marks.marks(fresh(Instance, inst.id))
    assert top["Call_Flow"] == "waiting"  # the timer inside
    assert marks.marks(fresh(Instance, inst.id), ("Call_Flow",))["Event_Wait"] == "waiting"


def test_the_called_diagram_is_the_version_the_caller_runs(app: Flask) -> None:
    inst = start()
    caller = db.session.get(Definition, inst.definition_id)
    assert caller is not None
    called = marks.called_definition(caller, "flow")
    assert called is not None and (called.key, called.version) == ("flow", 1)
    assert called.spec["spec"] == caller.spec["subprocess_specs"]["flow"]  # found by its specs
    assert marks.called_definition(caller, "nothing") is None

