"""Fixtures of the browser tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from engine.db import db
from registry import demo
from tests.processes.helpers import deploy_processes
from tests.web.browser import served


@pytest.fixture
def site(app: Flask) -> Iterator[str]:
    """The app with the procedures deployed and the demo data, served over real HTTP."""
    deploy_processes()
    demo.load()
    db.session.commit()
    with served(app) as url:
        yield url
