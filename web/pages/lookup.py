"""查询办理进度 (issue 18): the public page on which the filer of a complaint or an objection
looks up its progress by number and check code, without signing in."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from forms.html import parse, render
from registry import applications as apps
from web import lookup as lookups
from web.addresses import client_address
from web.signin import SignInRefused

from . import bp


@bp.route("/lookup", methods=["GET", "POST"])
def lookup() -> Any:
    data: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    progress, error, status = None, None, 200
    if request.method == "POST":
        data = parse(lookups.LookupIn(), request.form)
        try:
            asked = lookups.parse(data)
            progress = lookups.attempt(asked["number"], asked["code"], client_address())
            if progress is None:
                error, status = lookups.NOT_FOUND, 404
        except apps.FormInvalid as exc:
            errors, error, status = exc.messages, "请填写编号和查询码", 422
        except SignInRefused as exc:
            error, status = str(exc), 429
    shown = {"number": data.get("number")}  # the code is never written back into the page
    return render_template("lookup.html", progress=progress, error=error,
                           form=render(lookups.LookupIn(), shown, errors)), status, {
                               "Cache-Control": "no-store"}
