"""Browser-test helpers: the app served from a thread of this process (so that tests can move
the engine's clock and run the worker between steps), and Debian's Chromium driven by
Playwright. Screenshots go under ``test-output/browser/`` for people to look at."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.web import axe

CHROMIUM = os.environ.get("CQPI_CHROMIUM", "/usr/bin/chromium")
OUTPUT = Path(os.environ.get("CQPI_TEST_OUTPUT", Path(__file__).resolve().parents[2] /
                             "test-output")) / "browser"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
"""As root, without a screen, on a machine with no way out: no sandbox, nothing phoning home."""


def chromium() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CQPI_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Chromium is required for the browser tests but {CHROMIUM} is missing")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@contextmanager
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    path = chromium()
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=path, args=FLAGS, headless=True)
        pages = _accessible(instance)
        try:
            yield instance
            for page in pages:  # the last page each test left open
                axe.settle(page)
        finally:
            instance.close()


def _accessible(instance: Any) -> list[Any]:
    """Every page opened on ``instance`` gets the accessibility check (``tests/web/axe.py``)."""
    pages: list[Any] = []

    def opened(page: Any) -> Any:
        axe.watch(page)
        pages.append(page)
        return page

    def new_page(*args: Any, **kwargs: Any) -> Any:
        return opened(plain_new_page(*args, **kwargs))

    def new_context(*args: Any, **kwargs: Any) -> Any:
        context = plain_new_context(*args, **kwargs)
        context_new_page = context.new_page
        context.new_page = lambda *a, **k: opened(context_new_page(*a, **k))
        return context

    plain_new_page, plain_new_context = instance.new_page, instance.new_context
    instance.new_page, instance.new_context = new_page, new_context
    return pages


class Shots:
    """Numbered screenshots of one test's steps."""

    def __init__(self, name: str) -> None:
        self.folder = OUTPUT / re.sub(r"[^\w.-]+", "_", name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, page: Any, step: str) -> None:
        self.count += 1
        axe.check_now(page)
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{step}.png"), full_page=True)


def sign_in(page: Any, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]:has-text('登录')")
    page.wait_for_selector("header .user")


def sign_out(page: Any) -> None:
    page.click("header button:has-text('退出')")
    page.wait_for_selector("#username")


def fill(page: Any, prefix: str, data: dict[str, Any]) -> None:
    """Fill a rendered form's fields (``prefix + name``) from data, selects by value."""
    for name, value in data.items():
        if isinstance(value, list | dict):
            continue
        selector = f"[id='{prefix}{name}']"
        shown = {True: "true", False: "false"}.get(value, str(value)) \
            if isinstance(value, bool) else str(value)
        if page.eval_on_selector(selector, "e => e.tagName") == "SELECT":
            page.select_option(selector, shown)
        else:
            page.fill(selector, shown)
