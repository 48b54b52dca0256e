"""The analysts' form designer: bpmn.io's form-js editor in the browser, the server's check of
the form (what deployment will run), a preview as a user sees it, and the ``.form`` file to
deploy beside the diagram that names it (the upload page takes several files)."""

from __future__ import annotations

import json
from typing import Any

from flask import jsonify, render_template, request

from engine.bundle import MAX_FORM_BYTES
from forms import formjs

from . import bp, session
from .models import ANALYSTS
from .vendor import available


@bp.get("/models/forms/new")
@session.signed_in(*ANALYSTS)
def model_form_new() -> Any:
    return render_template("model_form.html", ready=available("form-js"))


def problems_of(text: str) -> list[str]:
    """What deployment would refuse in a form-js document given as JSON text, in Chinese."""
    if len(text.encode()) > MAX_FORM_BYTES:
        return [f"表单过大（上限 {MAX_FORM_BYTES} 字节）"]
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return [f"不是有效的 JSON: {exc}"]
    if not isinstance(document, dict) or "components" not in document:
        return ["不是 form-js 表单（应是含 components 的 JSON 对象）"]
    return formjs.check(document)


@bp.post("/models/forms/check.json")
@session.signed_in(*ANALYSTS)
def model_form_check() -> Any:
    """The designer's 校验: the problems ``forms.formjs.check`` finds, as JSON."""
    text = request.form.get("form", "")
    return jsonify({"problems": problems_of(text) if text.strip() else ["没有内容"]})
