"""A reviewer's task page in a real browser (issue 18): the second round of an intake shows
the last return's reasons, the 修改说明 and the changed field marked; an objection task puts
the objection first and previews a PDF with pdf.js page by page into a canvas, only when
asked; the checklist reads at 1366, 1920 and on a phone; no Content-Security-Policy
violation anywhere."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

import lifecycle
from engine.db import db
from registry import applications as apps
from registry import demo
from registry.models import Application, PublicityNotice, User
from tests.processes.helpers import open_task, settle
from tests.registry.test_applications import header, hm_stages
from tests.web.browser import Shots, browser, sign_in, sign_out
from tests.web.test_browser import _quiet, _review
from tests.web.test_browser_csp import Violations

PASSWORD = demo.PASSWORD


def pdf(pages: int = 2) -> bytes:
    """A valid PDF of ``pages`` pages, each with a black block whose height tells the page."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(
                   f"{3 + 2 * n} 0 R".encode() for n in range(pages)) +
               f"] /Count {pages} >>".encode()]
    for n in range(pages):
        stream = f"0 0 0 rg 72 {500 - 100 * n} 451 {200 + 100 * n} re f".encode()
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       f"/Contents {4 + 2 * n} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream +
                       b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref))
    return out.getvalue()


def png(width: int = 60, height: int = 30) -> bytes:
    """A red PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + b"\xcc\x22\x22" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                                 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def ofd() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("OFD.xml", "<ofd:OFD/>")
    return out.getvalue()


def _user(username: str) -> User:
    user = db.session.scalar(sa.select(User).filter_by(username=username))
    assert user is not None
    return user


def _intake(name: str) -> Application:
    """qiye's HM intake in Yuzhong with real files: PDFs, a photo and an OFD document."""
    user = _user("qiye")
    opened = apps.open_application(user, "intake", hm_stages(), project=header(name=name))
    for kind in ("report", "commitment", "application_form"):
        apps.add_attachment(opened.id, user, kind, pdf(), f"{kind}.pdf")
    apps.add_attachment(opened.id, user, "evidence", png(), "现场照片.png")
    apps.add_attachment(opened.id, user, "evidence", ofd(), "电子证照.ofd")
    return lifecycle.submission.submit(opened.id, user)


DARK = """() => { const c = document.querySelector('#viewer-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let dark = 0, light = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 200 && d[i] < 40 && d[i + 1] < 40 && d[i + 2] < 40) dark++;
    else if (d[i] > 220) light++;
  }
  return {dark: dark / (c.width * c.height), light: light / (c.width * c.height),
          width: c.width, height: c.height}; }"""
"""The canvas's share of black (the drawn block) and of white (the page) pixels."""


def test_a_second_round_shows_the_return_the_note_and_the_changed_field(
        app: Flask, site: str, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    application = _intake("第二轮审核项目")
    settle(app)
    _quiet(app)
    refused = Violations()
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        refused.watch(page)
        sign_in(page, site, "yuzhong", PASSWORD)
        page.goto(f"{site}/tasks/{open_task(application).id}")
        _checklist_reads(page, 1366)
        page.locator("#items").screenshot(path=str(shot.folder / "checklist-1366.png"))
        shot(page, "first-round-1366")
        _review(page, problem={"contract": "合同金额与中标金额不一致，请核对"})
        page.fill("#comment", "<b>请按中标通知书核对</b>")
        _decisions_stand_out(page)
        page.locator("#items").screenshot(path=str(shot.folder / "checklist-decided.png"))
        page.click("#complete")
        page.wait_for_selector(".flash.ok:has-text('已办理')")
        sign_out(page)
        _quiet(app)
        settle(app)

        _amend_and_resubmit(page, site, application)
        _quiet(app)
        settle(app)

        sign_in(page, site, "yuzhong", PASSWORD)
        page.goto(f"{site}/tasks/{open_task(application).id}")
        _second_round_shown(page)
        shot(page, "second-round-1366")
        for width, height in ((1920, 1080), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            _checklist_reads(page, width)
            page.locator("#items").screenshot(path=str(shot.folder / f"checklist-{width}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "second-round-phone")
        page.close()
    assert refused == []


def _amend_and_resubmit(page: Any, site: str, application: Application) -> None:
    """qiye changes the contract's amount and resubmits with a 修改说明."""
    sign_in(page, site, "qiye", PASSWORD)
    page.goto(f"{site}/applications/{application.id}")
    page.click("a:has-text('修改申报信息') >> nth=0")
    page.fill("[id='contract-amount']", "9750")
    page.click("button:has-text('保存修改')")
    page.wait_for_selector("text=申报信息已修改")
    page.fill("#note", "已按中标通知书<核对>合同金额")
    page.click("#submit")
    page.wait_for_selector("text=已重新提交")
    sign_out(page)


def _second_round_shown(page: Any) -> None:
    """Above the dossier and the form: the reasons, the note as typed, the changed field."""
    assert "第 2 轮审核" in page.inner_text("#previous-round")
    assert "合同金额与中标金额不一致，请核对" in page.inner_text("#previous-reasons")
    assert "<b>请按中标通知书核对</b>" in page.inner_text("#previous-reasons")  # as text
    assert page.inner_text("#amendment-note") == "已按中标通知书<核对>合同金额"
    assert page.locator("#changed-fields tbody tr").count() == 1
    assert "合同金额" in page.inner_text("#changed-fields")
    assert "9800.00 万元" in page.inner_text("#changed-fields td.was")
    assert "9750.00 万元" in page.inner_text("#changed-fields td.now")
    marked = page.locator("#stage-contract dt.changed")
    assert marked.count() == 1 and "本轮已修改" in marked.inner_text()
    assert page.locator("dt.changed").count() == 1
    assert "上一轮：9800.00 万元" in page.inner_text("#stage-contract dd.changed")
    box = page.locator("#previous-round").bounding_box()
    assert box is not None and box["y"] < page.locator("#work").bounding_box()["y"]



def _decisions_stand_out(page: Any) -> None:
    """A chosen decision is coloured (green pass, red problem), the other stays plain."""
    colour = "e => getComputedStyle(e).backgroundColor"
    row = page.locator("#items tbody tr", has=page.locator("input[value=contract]"))
    assert row.locator("label.pill.problem").evaluate(colour) == "rgb(253, 236, 234)"
    assert row.locator("label.pill.pass").evaluate(colour) == "rgb(255, 255, 255)"
    other = page.locator("#items tbody tr", has=page.locator("input[value=bidding]"))
    assert other.locator("label.pill.pass").evaluate(colour) == "rgb(232, 245, 233)"

def _checklist_reads(page: Any, width: int) -> None:
    """Every checklist header and item name on one line, and both decisions side by side."""
    page.wait_for_selector("#items tbody tr")
    for selector in ("#items thead th.nowrap", "#items th.check-item"):
        for n in range(page.locator(selector).count()):
            cell = page.locator(selector).nth(n)
            if not cell.is_visible() or cell.bounding_box()["width"] <= 1:
                continue  # the headers are for screen readers only in the narrow layout
            lines = page.evaluate("""e => { const s = getComputedStyle(e);
                const r = document.createRange(); r.selectNodeContents(e);
                return Math.round(r.getBoundingClientRect().height /
                                  parseFloat(s.lineHeight)); }""", cell.element_handle())
            assert lines == 1, (width, cell.inner_text())
    for n in range(page.locator("#items tbody tr").count()):
        passed = page.locator(f"#items tbody tr >> nth={n} >> label.pill.pass").bounding_box()
        problem = page.locator(f"#items tbody tr >> nth={n} >> label.pill.problem").bounding_box()
        assert abs(passed["y"] - problem["y"]) < 2, width  # one row of two clear choices
        assert passed["height"] >= 36  # a finger's size


def _objected(app: Flask) -> Any:
    """The ruling task on an objection to an intake in publicity (A-3)."""
    application = _intake("异议处理项目")
    lifecycle.tasks.complete_task(open_task(application).id, {"items": [
        {"item": i, "result": "pass"} for i in [*sorted(application.stages), "attachments"]]},
        _user("yuzhong"))
    settle(app)
    notice = db.session.scalar(sa.select(PublicityNotice))
    assert notice is not None
    lifecycle.events.raise_objection(notice.id, {"name": "王五", "contact": "023-12345678",
                                                 "content": "该项目实际未竣工，竣工验收资料不实"})
    task = open_task(application)
    _quiet(app)
    return task


def test_an_objection_task_shows_the_objection_first_and_previews_pdfs_with_pdfjs(
        app: Flask, site: str, request: pytest.FixtureRequest) -> None:
    shot = Shots(request.node.name)
    task = _objected(app)
    refused = Violations()
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page.set_default_timeout(20000)
        refused.watch(page)
        loaded: list[str] = []
        page.on("request", lambda r: loaded.append(r.url))
        sign_in(page, site, "yuzhong", PASSWORD)
        page.goto(f"{site}/tasks/{task.id}")
        page.wait_for_load_state("networkidle")
        objection = page.locator("#objections").bounding_box()
        assert objection is not None and objection["y"] < 400  # first, not 3000 px down
        assert "该项目实际未竣工" in page.inner_text("#objections")
        assert "王五" in page.inner_text("#objections") and "异议处理项目" in page.inner_text(
            "#objections")
        assert objection["y"] < page.locator("#work").bounding_box()["y"] \
            < page.locator("#attachments").bounding_box()["y"]
        assert not [u for u in loaded if "/attachments/" in u or "pdfjs" in u]  # on demand only
        files = page.locator("#attachments li")
        assert files.count() == 5
        assert "PDF" in files.nth(0).inner_text() and "KB" in files.nth(0).inner_text()
        assert files.nth(4).locator("a[download]").count() == 1  # the OFD: a download
        assert files.nth(4).locator("button.preview-open").count() == 0
        shot(page, "objection-first")

        _pdf_previewed(page, files.nth(0), loaded, shot)
        files.nth(3).locator("button.preview-open").click()  # the photo: shown as an image
        page.wait_for_selector("#viewer[data-ready=true] #viewer-image:not([hidden])")
        assert page.evaluate("document.querySelector('#viewer-image').naturalWidth") == 60
        assert page.locator("#viewer-canvas").is_hidden()
        shot(page, "image")
        page.keyboard.press("Escape")
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "objection-on-a-phone")
        page.close()
    assert refused == []


def _pdf_previewed(page: Any, item: Any, loaded: list[str], shot: Shots) -> None:
    """预览 draws page 1 with pdf.js (its worker from our origin), 下一页 page 2, and back."""
    item.locator("button.preview-open").click()
    page.wait_for_selector("#viewer[data-ready=true] #viewer-canvas[data-page='1']")
    assert page.inner_text("#viewer-pages") == "第 1 / 2 页"
    first = page.evaluate(DARK)
    assert first["dark"] > 0.1 and first["light"] > 0.2, first  # the block on a white page
    assert any(u.endswith("/vendor/pdfjs/build/pdf.worker.min.mjs") for u in loaded)
    shot(page, "pdf-page-1")
    page.click("#viewer-next")
    page.wait_for_selector("#viewer-canvas[data-page='2']")
    assert page.inner_text("#viewer-pages") == "第 2 / 2 页"
    assert page.is_disabled("#viewer-next") and not page.is_disabled("#viewer-prev")
    second = page.evaluate(DARK)
    assert second["dark"] > first["dark"] + 0.05, (first, second)  # page 2's block is taller
    shot(page, "pdf-page-2")
    page.click("#viewer-prev")
    page.wait_for_selector("#viewer-canvas[data-page='1']")
    page.click("#viewer-close")
    assert not page.locator("#viewer").is_visible()
