"""The wizard's fields (issue 18): districts chosen from the jurisdictions, not typed, and
refused by name when posted wrong with every entry kept; required marks derived from the
forms' own ``required``; categories by their labels; the step bar on every step."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from marshmallow import Schema, fields

from engine.db import db
from forms import STAGES
from forms.project import ProjectHeader
from registry import demo, jurisdictions
from registry.models import Application, WizardDraft
from tests.forms.test_stages import VALID
from tests.processes.helpers import deploy_processes
from tests.registry.test_applications import header
from tests.web.test_pages import csrf, sign_in


@pytest.fixture
def demo_app(app: Flask) -> Flask:
    deploy_processes()
    demo.load()
    return app


def _posted(values: dict[str, Any]) -> dict[str, str]:
    return {f"project-{k}": str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in values.items()}


def _to_project_step(client: Any) -> str:
    sign_in(client, "qiye")
    token = csrf(client, "/applications/new")
    client.post("/applications/new?step=kind", data={"kind": "intake", "csrf_token": token})
    return token


VOID = {"input", "br", "meta", "link", "img", "hr", "source", "col", "wbr"}


class Node:
    """An element of a parsed page, enough to ask what the tests ask."""

    def __init__(self, tag: str, attrs: dict[str, str | None],
                 parent: Node | None = None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def __getitem__(self, name: str) -> str:
        return self.attrs[name] or ""

    def get(self, name: str) -> str | None:
        return self.attrs.get(name)

    def has_attr(self, name: str) -> bool:
        return name in self.attrs

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def elements(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.elements()

    def find_all(self, tag: str | None = None, cls: str | None = None,
                 **attrs: str) -> list[Node]:
        return [e for e in self.elements() if (tag is None or e.tag == tag)
                and (cls is None or cls in e.classes())
                and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def find(self, tag: str | None = None, cls: str | None = None,
             **attrs: str) -> Node | None:
        return next(iter(self.find_all(tag, cls, **attrs)), None)

    def by_id(self, ident: str) -> Node:
        found = next((e for e in self.elements() if e.attrs.get("id") == ident), None)
        assert found is not None, f"no #{ident}"
        return found

    def label_for(self, ident: str) -> Node | None:
        return next((e for e in self.find_all("label") if e.attrs.get("for") == ident), None)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.at = Node("#document", {})

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_endtag(self, tag: str) -> None:
        at: Node | None = self.at
        while at is not None and at.tag != tag:
            at = at.parent
        if at is not None and at.parent is not None:
            self.at = at.parent

    def handle_data(self, data: str) -> None:
        self.at.children.append(data)


def _soup(answer: Any) -> Node:
    tree = _Tree()
    tree.feed(answer.get_data(as_text=True))
    return tree.root


def test_the_districts_are_a_choice_grouped_by_kind_whose_value_is_the_code(
        demo_app: Flask) -> None:
    client = demo_app.test_client()
    _to_project_step(client)
    page = _soup(client.get("/applications/new?step=project"))
    for name in ("location_code", "managing_code"):
        select = page.by_id(f"project-{name}")
        assert select.tag == "select", name
        groups = {g["label"]: {o["value"]: o.text() for o in g.find_all("option")}
                  for g in select.find_all("optgroup")}
        assert list(groups) == ["区", "县", "功能区"]
        assert groups["区"]["500103"] == "渝中区" and groups["功能区"]["CQ-LJ"] == "两江新区"
        assert sum(map(len, groups.values())) == len(jurisdictions.table()) == 43
    label = page.label_for("project-managing_code")
    assert label is not None and "管理区县" in label.text()
    assert "区划代码" not in page.text()


def _selected(page: Node, ident: str) -> str:
    found = [o["value"] for o in page.by_id(ident).find_all("option") if o.has_attr("selected")]
    assert len(found) == 1, (ident, found)
    return found[0]


def test_a_wrong_district_is_refused_naming_the_field_and_every_entry_is_kept(
        demo_app: Flask) -> None:
    client = demo_app.test_client()
    token = _to_project_step(client)
    form = {"csrf_token": token, "project_id": "new",
            **_posted(header(name="<b>错区县</b>项目", managing_code="500999"))}
    wrong = client.post("/applications/new?step=project", data=form)
    assert wrong.status_code == 200
    text = wrong.get_data(as_text=True)
    assert "「管理区县」不在区划代码表中: 500999" in text and "<b>错区县</b>" not in text
    page = _soup(wrong)
    assert page.by_id("project-name")["value"] == "<b>错区县</b>项目"
    kept = {n: _selected(page, f"project-{n}") for n in (
        "category", "sector", "location_code", "city_managed", "managing_code", "role")}
    assert kept == {"category": "HM", "sector": "01", "location_code": "500103",
                    "city_managed": "false", "managing_code": "500999", "role": "施工"}
    assert "管理区县" in page.by_id("project-managing_code-error").text()
    outside = client.post("/applications/new?step=project",
                          data={**form, **_posted({"location_code": "110101",
                                                   "managing_code": "500103"})})
    assert "项目所在地“110101”不是重庆市的区县或功能区（R-SCOPE-1）" in \
        _soup(outside).by_id("project-location_code-error").text()
    missing = client.post("/applications/new?step=project",
                          data={**form, "project-managing_code": ""})
    assert "「管理区县」非市管项目须指明管理区县（A-7）" in \
        _soup(missing).by_id("project-managing_code-error").text()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 0
    right = client.post("/applications/new?step=project", data={
        **form, **_posted({"managing_code": "CQ-LJ", "name": "两江项目"})})
    assert right.status_code == 302 and right.headers["Location"].endswith("step=stages")
    db.session.expire_all()
    draft = db.session.scalar(sa.select(WizardDraft))
    assert draft is not None and draft.data["project"]["managing_code"] == "CQ-LJ"


def _marks(page: Node, schema: Schema, prefix: str) -> int:
    """Each field's label is marked exactly when the schema requires it (or requires it
    under a condition, said in words), and its control says required just as the schema;
    how many fields were compared."""
    compared = 0
    for name, field in schema.fields.items():
        if isinstance(field, fields.List) or field.dump_only:
            continue
        label = page.label_for(f"{prefix}{name}")
        if label is None:
            assert name == "general_project_id"  # asked as the general project's number
            continue
        control = page.by_id(f"{prefix}{name}")
        star = label.find(cls="required")
        when = field.metadata.get("required_when")
        assert (star is not None) == (field.required or bool(when)), f"{prefix}{name}"
        assert control.has_attr("required") == field.required, f"{prefix}{name}"
        assert (control.get("aria-required") == "true") == field.required
        hidden = label.find(cls="sr-only")
        assert (hidden is not None and "必填" in hidden.text()) == field.required
        assert (f"{when}必填" in label.text()) == bool(when)
        compared += 1
    return compared


def test_required_marks_are_the_forms_required_fields(demo_app: Flask) -> None:
    client = demo_app.test_client()
    token = _to_project_step(client)
    page = _soup(client.get("/applications/new?step=project"))
    assert _marks(page, ProjectHeader(), "project-") == 8
    managing = page.label_for("project-managing_code")
    assert managing is not None and "非市管项目必填" in managing.text()
    client.post("/applications/new?step=project", data={
        "csrf_token": token, "project_id": "new", **_posted(header(name="标记项目"))})
    stages = _soup(client.get("/applications/new?step=stages"))
    names = [fs["id"].removeprefix("stage-") for fs in stages.find_all("fieldset", cls="stage")]
    assert {"bidding", "contract", "completion"} <= set(names)
    assert sum(_marks(stages, STAGES[name](), f"{name}-") for name in names) > 20
    rows = [row for fs in stages.find_all("fieldset", cls="rows")
            for row in fs.find_all(cls="row")]
    for row in rows:  # a list's rows mark their required fields too
        for label in row.find_all("label"):
            name = label["for"].rsplit("-", 1)[-1]
            assert label.find(cls="required") is not None or \
                not row.by_id(label["for"]).has_attr("required"), name


def test_the_category_shows_its_label_not_its_code(demo_app: Flask) -> None:
    client = demo_app.test_client()
    _to_project_step(client)
    for path in ("/portal", "/applications/new?step=project"):
        text = client.get(path).get_data(as_text=True)
        assert "房屋建筑和市政工程总承包" in text, path
        assert not re.search(r">HM<| · HM · ", text), path


def test_the_step_bar_stays_on_every_step_with_the_current_one_marked(
        demo_app: Flask) -> None:
    client = demo_app.test_client()
    token = _to_project_step(client)

    def current(answer: Any) -> list[str]:
        page = _soup(answer)
        assert all(s.find("h2") is None for s in page.find_all("summary"))  # no bare ▶
        return [li.text().strip() for li in page.find_all("li", aria_current="step")
                if li.parent is not None and "steps" in li.parent.classes()]

    assert current(client.get("/applications/new?step=kind")) == ["1 申请类型"]
    assert current(client.get("/applications/new?step=project")) == ["2 项目"]
    client.post("/applications/new?step=project", data={
        "csrf_token": token, "project_id": "new", **_posted(header(name="步骤项目"))})
    assert current(client.get("/applications/new?step=stages")) == ["3 环节信息"]
    opened = client.post("/applications/new?step=stages", data={
        "csrf_token": token, "action": "open",
        **{f"contract-{k}": str(v).lower() if isinstance(v, bool) else str(v)
           for k, v in VALID["contract"].items()}})
    assert opened.status_code == 302, opened.get_data(as_text=True)
    application = client.get(opened.headers["Location"])
    assert current(application) == ["4 申报材料"]
    done = _soup(application).find_all("li", cls="done")
    assert [li.text().strip() for li in done] == [
        "1 申请类型（已完成）", "2 项目（已完成）", "3 环节信息（已完成）"]
