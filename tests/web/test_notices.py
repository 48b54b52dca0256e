"""消息中心 (issue 18): each person reads the notices of their organisation or of their lane
in their scope and no one else's, newest first and paged, titles escaped; opening one (a
POST with the CSRF token) marks it read for that person only and goes to its page; 全部标为
已读; the header's unread count is one COUNT."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from engine.db import db
from handlers.notify import application_moved
from lifecycle import notices
from registry import demo
from registry.models import Notification, NotificationRead, User
from tests.processes.helpers import deploy_processes
from tests.web.test_pages import csrf, sign_in

COUNT = re.compile(r'id="notice-count"[^>]*>(\d+)<')


@pytest.fixture
def demo_app(app: Flask) -> Flask:
    deploy_processes()
    demo.load()
    return app


def _user(username: str) -> User:
    found = db.session.scalar(sa.select(User).filter_by(username=username))
    assert found is not None
    return found


def _notice(audience: str, title: str, link: str | None = None) -> int:
    row = Notification(audience=audience, title=title, link=link)
    db.session.add(row)
    db.session.commit()
    return row.id


def _count(client: Any, path: str = "/portal") -> int:
    """The header's unread count on a page (0 when no badge shows)."""
    text = client.get(path).get_data(as_text=True)
    assert 'id="notices-link"' in text, path
    found = COUNT.search(text)
    return int(found.group(1)) if found else 0


def test_an_enterprise_reads_its_own_notices_and_opening_one_marks_it_read(
        demo_app: Flask) -> None:
    qiye, other = _user("qiye"), _user("shuili")
    assert qiye.organisation_id != other.organisation_id
    own = f"org:{qiye.organisation_id}"
    first = _notice(own, "您的申请（<script>alert(1)</script>项目）被退回，请按意见修改",
                    "/applications/7")
    second = _notice(own, "您的申请（渝中项目）已办结", "/applications/8")
    theirs = _notice(f"org:{other.organisation_id}", "别家单位的申请已办结", "/applications/9")
    reviewers = _notice(notices.audiences(_user("yuzhong"))[0], "新的待办任务: 区县审核")
    client = demo_app.test_client()
    sign_in(client, "qiye")
    assert _count(client) == 2
    page = client.get("/notifications").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "别家单位" not in page and "区县审核" not in page
    assert page.index(f'id="notice-{second}"') < page.index(f'id="notice-{first}"')  # newest
    assert page.count('class="unread"') == 2 and "您有 2 条未读消息" in page
    token = csrf(client, "/notifications")
    for foreign in (theirs, reviewers, 999999):
        refused = client.post(f"/notifications/{foreign}/open", data={"csrf_token": token})
        assert refused.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NotificationRead)) == 0
    assert client.post(f"/notifications/{first}/open").status_code == 400  # no CSRF token
    assert _count(client) == 2
    opened = client.post(f"/notifications/{first}/open", data={"csrf_token": token})
    assert opened.status_code == 302 and opened.headers["Location"] == "/applications/7"
    again = client.post(f"/notifications/{first}/open", data={"csrf_token": token})
    assert again.status_code == 302  # opening a read notice again is harmless
    assert _count(client) == 1
    page = client.get("/notifications").get_data(as_text=True)
    assert re.search(rf'<li class="read" id="notice-{first}">', page)
    assert 'href="/applications/7"' in page  # a read notice is a plain link
    colleague = demo_app.test_client()  # reading is each person's own
    db.session.add(User(username="qiye2", display_name="渝建集团 申报员二", role="enterprise",
                        organisation_id=qiye.organisation_id,
                        password_hash=qiye.password_hash))
    db.session.commit()
    sign_in(colleague, "qiye2")
    assert _count(colleague) == 2


def test_all_read_at_once_then_new_ones_count_again(demo_app: Flask) -> None:
    qiye = _user("qiye")
    own = f"org:{qiye.organisation_id}"
    ids = [_notice(own, f"第 {n} 条消息", f"/applications/{n}") for n in range(1, 26)]
    client = demo_app.test_client()
    sign_in(client, "qiye")
    token = csrf(client, "/notifications")
    client.post(f"/notifications/{ids[3]}/open", data={"csrf_token": token})
    assert _count(client) == 24
    first = client.get("/notifications").get_data(as_text=True)
    assert first.count('<li class="') == 20 and "第 25 条消息" in first and "下一页" in first
    second = client.get("/notifications?page=2").get_data(as_text=True)
    assert second.count('<li class="') == 5 and "第 1 条消息" in second
    assert "上一页" in second and "下一页" not in second
    assert client.get("/notifications?page=abc").status_code == 200  # page 1
    done = client.post("/notifications/read-all", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "已将 24 条未读消息标为已读" in done and 'id="read-all"' not in done
    assert _count(client) == 0 and 'class="unread"' not in done
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NotificationRead)) == 0
    application_moved_notice = _notice(own, "您的申请（新项目）已重新提交", "/applications/30")
    assert _count(client) == 1
    client.post(f"/notifications/{application_moved_notice}/open", data={"csrf_token": token})
    again = client.post("/notifications/read-all", data={"csrf_token": token},
                        follow_redirects=True).get_data(as_text=True)
    assert "没有未读消息" in again and _count(client) == 0


def test_reviewers_read_their_lanes_notices_and_people_of_no_lane_have_none(
        demo_app: Flask) -> None:
    yuzhong, jiangjin = _user("yuzhong"), _user("jiangjin")
    _notice(notices.audiences(yuzhong)[0], "新的待办任务: 渝中审核", "/tasks/abc")
    _notice(notices.audiences(jiangjin)[0], "新的待办任务: 江津审核", "/tasks/def")
    client = demo_app.test_client()
    sign_in(client, "yuzhong")
    assert _count(client, "/tasks") == 1
    page = client.get("/notifications").get_data(as_text=True)
    assert "渝中审核" in page and "江津审核" not in page
    for username in ("yunwei", "fenxi"):
        assert notices.audiences(_user(username)) == []  # no lane, no organisation
        other = demo_app.test_client()
        sign_in(other, username)
        home = other.get("/notifications").get_data(as_text=True)
        assert 'id="notices-link"' not in home and "暂无消息" in home


def test_a_moved_application_is_a_notice_of_its_organisation(demo_app: Flask) -> None:
    from tests.web.test_pages import _application

    application = _application()
    application.status = "returned"
    application_moved(application)
    db.session.commit()
    client = demo_app.test_client()
    sign_in(client, "qiye")
    page = client.get("/notifications").get_data(as_text=True)
    assert "您的申请（页面测试项目）被退回，请按意见修改" in page
    token = csrf(client, "/notifications")
    [notice_id] = db.session.scalars(sa.select(Notification.id).where(
        Notification.audience == f"org:{application.applicant_id}")).all()
    opened = client.post(f"/notifications/{notice_id}/open", data={"csrf_token": token},
                         follow_redirects=True)
    assert opened.status_code == 200 and f"申请 {application.id}" in opened.get_data(
        as_text=True)
    assert _count(client) == 0


def test_the_unread_count_is_one_indexed_count(demo_app: Flask) -> None:
    qiye = _user("qiye")
    for n in range(5):
        _notice(f"org:{qiye.organisation_id}", f"消息 {n}")
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert notices.unread_count(qiye) == 5
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT COUNT")
    indexes = {tuple(c.name for c in ix.columns) for ix in Notification.__table__.indexes}
    assert ("audience", "id") in indexes
