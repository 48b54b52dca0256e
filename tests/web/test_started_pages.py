"""我发起的 on the pages: 办理其他事项 (``/start``) lists what the signed-in user started, paged
(business key, 事项, 当前环节, 状态, 发起时间 in Beijing time), and the enterprise portal shows
the latest five with a link to the rest; names from a diagram are escaped."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import engine
from engine.db import db
from engine.models import Instance
from lifecycle import starts
from tests.lifecycle.test_starts import START, TESTS, deployment, self_check_people
from tests.processes.helpers import People, submit_intake
from tests.registry import factory
from tests.web.test_pages import sign_in
from web.pages import portal
from web.pages import starts as start_pages


@pytest.fixture
def who(app: Flask) -> People:
    return self_check_people()


def _client(app: Flask, username: str) -> Any:
    client = app.test_client()
    sign_in(client, username, "password-123")
    return client


def _start(who: People, key: str = "self_check") -> str:
    return starts.start(key, START, who.unit).business_key


def _section(page: str) -> str:
    """The page from its 我发起的 heading on."""
    return page[page.index('<h2 id="started">我发起的</h2>'):]


def test_the_start_page_lists_what_i_started_and_not_a_colleagues(app: Flask,
                                                                  who: People) -> None:
    key = _start(who)
    application = submit_intake(who)
    db.session.execute(sa.update(Instance).where(Instance.business_key == key).values(
        started_at=datetime(2026, 3, 2, 16, 30)))  # UTC: the 3rd, 00:30 in Beijing
    db.session.commit()

    page = _section(_client(app, who.unit.username).get("/start").get_data(as_text=True))
    row = re.search(rf"<tr><td>{key}</td>(.*?)</tr>", page, re.DOTALL)
    assert row, page
    cells = [re.sub(r"<[^>]+>", "", c).strip()
             for c in re.findall(r"<td>(.*?)</td>", row.group(1), re.DOTALL)]
    assert cells == ["项目数据年度自查", "区县审核", "等待中", "2026-03-03 00:30"]
    link = f'<a href="/applications/{application.id}">application-{application.id}</a>'
    assert link in page  # the application's procedure links to its page
    assert page.index(link) < page.index(key)  # newest first
    assert "下一页" not in page and "上一页" not in page

    colleague = factory.enterprise_user(who.org)
    db.session.commit()
    theirs = _client(app, colleague.username).get("/start").get_data(as_text=True)
    assert "您还没有发起过事项" in _section(theirs)
    assert key not in theirs and f"application-{application.id}" not in theirs


def test_the_start_page_pages_what_i_started(app: Flask, who: People,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(start_pages, "PER_PAGE", 2)
    keys = [_start(who) for _ in range(3)]
    client = _client(app, who.unit.username)
    first = _section(client.get("/start").get_data(as_text=True))
    assert keys[2] in first and keys[1] in first and keys[0] not in first
    assert 'href="/start?page=2#started">下一页</a>' in first and "上一页" not in first
    second = _section(client.get("/start?page=2").get_data(as_text=True))
    assert keys[0] in second and keys[1] not in second
    assert 'href="/start?page=1#started">上一页</a>' in second and "下一页" not in second
    beyond = client.get("/start?page=x")  # not a page number: the first page
    assert beyond.status_code == 200 and keys[2] in beyond.get_data(as_text=True)


def test_the_portal_shows_the_latest_five_and_links_to_the_rest(app: Flask,
                                                                who: People) -> None:
    keys = [_start(who) for _ in range(portal.LATEST + 1)]
    page = _section(_client(app, who.unit.username).get("/portal").get_data(as_text=True))
    assert [k for k in keys if k in page] == keys[1:]
    assert 'href="/start#started">查看全部我发起的事项</a>' in page
    reviewer = _client(app, "yz-reviewer").get("/start").get_data(as_text=True)
    assert "您还没有发起过事项" in _section(reviewer)


def test_names_from_the_diagram_are_escaped(app: Flask, who: People) -> None:
    diagram = (TESTS / "bpmn" / "self_check.bpmn").read_text()
    hostile = "&lt;script&gt;alert(1)&lt;/script&gt;"
    diagram = (diagram.replace('"self_check"', '"script_check"')
               .replace('name="项目数据年度自查"', f'name="{hostile}自查"')
               .replace('name="区县审核"', f'name="{hostile}审核"'))
    engine.deploy([("script_check.bpmn", diagram.encode()), *deployment()[1:]],
                  engine.catalog())
    key = _start(who, "script_check")
    whole = _client(app, who.unit.username).get("/start").get_data(as_text=True)
    page = _section(whole)
    assert key in page
    assert f"{hostile}自查" in page and f"{hostile}审核" in page
    assert "<script>alert" not in whole
