"""Fuzz the API from its own OpenAPI document (schemathesis, bounded): no input gives a 500,
whether anonymous, as an enterprise user or as a reviewer."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

from tests.processes.helpers import deploy_processes, people
from tests.web.test_api import login

EXAMPLES = 15
"""Examples per operation and caller: enough to find crashes, small enough for `make test`.
The examples are derandomized so that CI is repeatable; raise this locally to explore."""


@pytest.fixture
def callers(app: Flask, client: Any) -> dict[str, dict[str, str]]:
    from engine.db import db
    from registry import users

    deploy_processes()
    who = people()
    who.unit.password_hash = users.generate_password_hash("password-123", method="scrypt")
    db.session.commit()
    return {"anonymous": {}, "unit": login(client, who.unit.username),
            "reviewer": login(client, "yz-reviewer")}


def test_no_input_makes_the_api_fail(app: Flask, callers: dict[str, dict[str, str]]) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[Any] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda o: o.path.endswith("/auth/logout"))  # it ends their tokens
    for operation in operations:
        for headers in callers.values():
            _fuzz(operation, headers, failures)
    assert failures == []


def _fuzz(operation: Any, headers: dict[str, str], failures: list[Any]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def call(case: Any) -> None:
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append((case.method, case.formatted_path, case.body, response.text[:200]))

    call()
