"""Stored diagrams leave the server as downloads that no browser runs: an uploaded BPMN file
is a stranger's XML, and XML opened in a browser on the app's origin could run a script with
the viewer's cookies. They go under their file's own name, never the server path that a
command-line deploy recorded."""

from __future__ import annotations

import re

from flask import Response

from engine.models import Definition

SANDBOX = "default-src 'none'; sandbox"
"""The Content-Security-Policy of a download: nothing loads, nothing runs."""


def shown_name(file_name: str | None) -> str:
    """The last part of a stored file name (a command-line deploy stores the whole path)."""
    return re.split(r"[\\/]", file_name or "")[-1] or "diagram.bpmn"


def bpmn_download(definition: Definition, mimetype: str = "application/octet-stream") -> Response:
    """The version's BPMN XML as an attachment, under a sandboxing CSP, never sniffed."""
    response = Response(definition.bpmn, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment",
                         filename=shown_name(definition.file_name))
    response.headers["Content-Security-Policy"] = SANDBOX
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
