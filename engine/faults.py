"""How a failure's stored text (an incident's error, a job's last error) is shown to people:
a one-line cause, and the technical detail without the server's file paths. Every display
(the ops pages, the API's incidents) goes through ``explain``."""

from __future__ import annotations

import json
import re
import sys
import sysconfig
from pathlib import Path
from typing import Any, NamedTuple

MESSAGE_KEYS = ("message", "error", "msg", "detail", "title", "description")
"""Where an HTTP service's JSON error body usually says what went wrong, in that order."""

_JSON_TAIL = re.compile(r"[{\[].*$", re.DOTALL)
_FILE = re.compile(r'File "(/[^"]*/)?([^"/]+)"')


class Explained(NamedTuple):
    cause: str
    detail: str


def _prefixes() -> list[str]:
    """The directories that are nobody's business outside the server: the installed
    packages, the interpreter's library and the application's own checkout."""
    found = {str(Path(__file__).resolve().parent.parent), sys.prefix, sys.base_prefix,
             sys.exec_prefix}
    for name in ("purelib", "platlib", "stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(name)
        if path:
            found.add(path)
    return sorted((p.rstrip("/") + "/" for p in found if p and p != "/"), key=len,
                  reverse=True)


PREFIXES = _prefixes()


def without_paths(text: str) -> str:
    """``text`` with the server's directory prefixes removed (a traceback keeps the module's
    path inside its package; any other absolute file path keeps its file name)."""
    for prefix in PREFIXES:
        text = text.replace(prefix, "")
    return _FILE.sub(lambda m: f'File "{m.group(2)}"', text)


def _message(body: Any) -> str | None:
    """The message of a decoded JSON error body, if it holds one."""
    if isinstance(body, dict):
        for key in MESSAGE_KEYS:
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
            found = _message(value)
            if found:
                return found
    if isinstance(body, list) and body:
        return _message(body[0])
    return None


def _decoded(line: str, whole: bool = False) -> str:
    """The first line with a JSON body at its end decoded: its message when it has one (or
    ``whole``), else the JSON written readably (``\\u540c`` escapes as the characters)."""
    tail = _JSON_TAIL.search(line)
    if tail is None:
        return line
    try:
        body = json.loads(tail.group(0))
    except ValueError:
        return line
    head = line[:tail.start()].rstrip()
    message = None if whole else _message(body)
    shown = message if message else json.dumps(body, ensure_ascii=False)
    return f"{head} {shown}" if head else shown


def explain(error: str | None) -> Explained:
    """The cause (one line, the exception's class name left out) and the whole text
    without paths, JSON bodies decoded."""
    text = without_paths(error or "")
    lines = text.strip().splitlines()
    first = lines[0] if lines else ""
    cause = re.sub(r"^[A-Za-z_][\w.]*: ", "", first)
    cause = _decoded(cause).strip()
    detail_lines = [_decoded(line, whole=True) for line in lines]
    return Explained(cause or "未知错误", "\n".join(detail_lines))
