"""Error pages that say what happened and where to go next (the API answers JSON instead)."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template

TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在",
          405: "请求方式不正确", 409: "操作冲突", 413: "文件过大", 422: "提交的内容有误",
          429: "操作过于频繁", 500: "服务器出错了", 503: "服务暂时不可用"}

DEFAULTS = {403: "您的角色不能使用此页面。",
            404: "您要找的页面或事项不存在，或不在您的办理范围内。",
            413: "上传的文件超过了大小限制（20 MB）。", 500: "服务器内部错误，已记录，请稍后再试。"}


def page(status: int, message: str) -> Any:
    """The error page: what went wrong, in Chinese, with the way back."""
    detail = message
    if status in DEFAULTS and (not message or message.isascii()):
        detail = DEFAULTS[status]
    return render_template("error.html", status=status, title=TITLES.get(status, "出错了"),
                           message=detail), status


def init_app(app: Flask) -> None:
    app.extensions["cqpi.error_page"] = page
