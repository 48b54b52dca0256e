"""Sign-in and sign-out, and the home page that sends each role to its work."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, url_for

from registry import sessions
from registry.models import Role
from web import signin
from web.addresses import client_address

from . import bp, session

HOME_OF_ROLE = {Role.ENTERPRISE: "pages.portal", Role.DISTRICT: "pages.tasks",
                Role.CITY: "pages.tasks", Role.OPS: "pages.ops_instances",
                Role.ADMIN: "pages.ops_instances", Role.ANALYST: "pages.models"}


@bp.get("/")
def home() -> Any:
    user = session.current_user()
    if user is None:
        return render_template("home.html")
    if user.role in HOME_OF_ROLE:
        return redirect(url_for(HOME_OF_ROLE[Role(user.role)]))
    return render_template("home.html")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_url = session.local_path(request.args.get("next"))
    if request.method == "GET":
        error = sessions.EXPIRED if session.expired() else None
        return render_template("login.html", next=next_url, username="", error=error,
                               demo=current_app.config.get("CQPI_DEMO_USERS"))
    username = request.form.get("username", "").strip()
    try:
        user = signin.attempt(username, request.form.get("password", ""), client_address())
    except signin.SignInRefused as exc:
        return render_template("login.html", next=next_url, username=username, error=str(exc),
                               demo=current_app.config.get("CQPI_DEMO_USERS")), exc.status
    session.sign_in(user)
    return redirect(next_url or url_for("pages.home"))


@bp.post("/logout")
def logout() -> Any:
    session.sign_out()
    return redirect(url_for("pages.login"))
