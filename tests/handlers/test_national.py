"""The national-platform client against the simulator, over real HTTP."""

from __future__ import annotations

import time

import pytest

from handlers.national.client import NationalClient, NationalError
from handlers.national.simulator import create_simulator
from tests.conftest import SIM_TOKEN, Simulator

PROJECT = {"project_number": "5001032024010001", "name": "某项目"}


@pytest.fixture
def sim(national: Simulator) -> Simulator:
    national.reset()
    return national


def client(sim: Simulator, token: str | None = SIM_TOKEN, timeout: float = 5) -> NationalClient:
    return NationalClient(sim.url, token, timeout)


def test_a_push_is_stored_once_per_idempotency_key(sim: Simulator) -> None:
    first = client(sim).push("k-1", "stage", PROJECT, {"grades": {"contract": "D"}})
    again = client(sim).push("k-1", "stage", PROJECT, {"grades": {"contract": "D"}})
    assert again["national_id"] == first["national_id"] and again["replayed"] is True
    assert len(sim.state.pushes) == 1
    held = client(sim).lookup("5001032024010001")
    assert held is not None and held["stages"] == {"contract": "D"}


def test_lookup_of_an_unknown_project_is_none(sim: Simulator) -> None:
    assert client(sim).lookup("5009992024010009") is None


def test_wrong_token_is_refused(sim: Simulator) -> None:
    with pytest.raises(NationalError, match="401"):
        client(sim, token="wrong").push("k", "stage", PROJECT, {})


def test_told_to_fail_it_fails_then_recovers(sim: Simulator) -> None:
    sim.state.fail_next = 1
    with pytest.raises(NationalError, match="503"):
        client(sim).push("k-2", "stage", PROJECT, {})
    assert client(sim).push("k-2", "stage", PROJECT, {})["national_id"]


def test_a_slow_platform_times_out_clearly(sim: Simulator) -> None:
    sim.state.delay_seconds = 1.0
    with pytest.raises(NationalError, match="无法访问"):
        client(sim, timeout=0.2).push("k-3", "stage", PROJECT, {})
    # the platform still takes the slow request: that is why pushes carry idempotency keys;
    # waited for here so that it does not land in the next test's simulator state
    deadline = time.monotonic() + 5
    while "k-3" not in sim.state.pushes:
        assert time.monotonic() < deadline, "the slow request never completed"
        time.sleep(0.05)


def test_an_unreachable_platform_is_a_clear_error() -> None:
    with pytest.raises(NationalError, match="无法访问"):
        NationalClient("http://127.0.0.1:1", None, 1).push("k", "stage", PROJECT, {})


def test_its_controls_are_off_unless_enabled_and_its_api_needs_the_token() -> None:
    app = create_simulator("a-token").test_client()
    assert app.post("/_control", json={"fail_next": 1000000}).status_code == 404
    assert app.get("/_pushes").status_code == 404
    for method, path in (("get", "/api/v1/projects/5001"), ("put", "/api/v1/projects/5001"),
                         ("post", "/api/v1/pushes")):
        answer = getattr(app, method)(path, json={})
        assert answer.status_code == 401 and "令牌" in answer.get_json()["error"], path
    wrong = {"Authorization": "Bearer not-it"}
    assert app.get("/api/v1/projects/5001", headers=wrong).status_code == 401
    assert app.get("/api/v1/projects/5001",
                   headers={"Authorization": "Bearer a-token"}).status_code == 404
    with pytest.raises(ValueError):
        create_simulator("")


@pytest.mark.parametrize("body", [{"fail_next": "x"}, {"fail_next": -1}, {"fail_next": 1.5},
                                  {"fail_next": True}, {"delay_seconds": 1e9},
                                  {"delay_seconds": "slow"}, [1]])
def test_enabled_controls_refuse_what_they_cannot_do(body: object) -> None:
    app = create_simulator("a-token", control=True)
    answer = app.test_client().post("/_control", json=body)
    assert answer.status_code in (400, 422) and answer.get_json()["error"]
    assert app.extensions["national_sim"].fail_next == 0  # nothing half-set
    assert app.extensions["national_sim"].delay_seconds == 0


def test_enabled_controls_set_what_they_are_told() -> None:
    app = create_simulator("a-token", control=True).test_client()
    answer = app.post("/_control", json={"fail_next": 2, "delay_seconds": 0.5})
    assert answer.get_json() == {"fail_next": 2, "delay_seconds": 0.5}
    assert app.get("/_pushes").get_json() == []
