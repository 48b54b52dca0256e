"""A deployment as named files: a ``.bpmn`` file, a folder or a ``.zip`` holding diagrams with
their forms (``.form``, ``.json``) and a ``deployment.json`` declaring lanes.

A zip is data from a stranger: its members are read only after their declared sizes pass
the limits, read no further than the limit whatever the header says (a bomb stops there),
and named by safe relative paths (no absolute path, no ``..``); what is not a deployment file
(a README, macOS's ``__MACOSX``, hidden files) is left out. Nothing is extracted to disk.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

from .problems import Problem
from .validation import MAX_FILE_BYTES

MAX_FILES = 200
"""Files one deployment may hold."""

MAX_TOTAL_BYTES = 50 * 1024 * 1024
"""Bytes one deployment may hold, unpacked."""

KINDS = (".bpmn", ".form", ".json", ".dmn")
"""What a folder or a zip contributes to a deployment; anything else is left out."""

Files = list[tuple[str, bytes]]


def expand(name: str, content: bytes) -> tuple[Files, list[Problem]]:
    """An uploaded file as the files it stands for: a zip its members, anything else itself."""
    if not (name.lower().endswith(".zip") or content[:4] == b"PK\x03\x04"):
        return [(name, content)], []
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return _members(name, archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        return [], [Problem(name, None, "", "", f"不是有效的 zip 文件: {exc}")]


def expand_all(uploads: Files) -> tuple[Files, list[Problem]]:
    """``expand`` over several uploads: all their files, and what could not be read."""
    files: Files = []
    problems: list[Problem] = []
    for name, content in uploads:
        more, trouble = expand(name, content)
        files.extend(more)
        problems.extend(trouble)
    return files, problems


def _members(name: str, archive: zipfile.ZipFile) -> tuple[Files, list[Problem]]:
    infos = [i for i in archive.infolist() if not i.is_dir() and _wanted(i.filename)]
    if len(infos) > MAX_FILES:
        return [], [_too_many(name)]
    if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        return [], [Problem(name, None, "", "", f"解压后过大（上限 {MAX_TOTAL_BYTES} 字节）")]
    files: Files = []
    problems: list[Problem] = []
    for info in infos:
        member = f"{name}/{info.filename}"
        inner = _safe_name(info.filename)
        if inner is None:
            problems.append(Problem(member, None, "", "", "文件名不安全（绝对路径或含 ..）"))
        elif info.flag_bits & 0x1:
            problems.append(Problem(member, None, "", "", "文件已加密，无法读取"))
        elif info.file_size > MAX_FILE_BYTES:
            problems.append(_too_big(member))
        else:
            with archive.open(info) as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:  # the header understated it
                problems.append(_too_big(member))
            else:
                files.append((f"{name}/{inner}", data))
    return files, problems


def _too_big(name: str) -> Problem:
    return Problem(name, None, "", "", f"文件过大（上限 {MAX_FILE_BYTES} 字节）")


def _too_many(name: str) -> Problem:
    return Problem(name, None, "", "", f"文件过多（上限 {MAX_FILES} 个）")


def _wanted(path: str) -> bool:
    parts = PurePosixPath(path.replace("\\", "/")).parts
    hidden = any((p.startswith(".") and p not in (".", "..")) or p == "__MACOSX"
                 for p in parts)
    return not hidden and path.lower().endswith(KINDS)


def _safe_name(path: str) -> str | None:
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or ":" in posix.parts[0]:
        return None
    return str(posix)


def read_paths(paths: list[Path]) -> tuple[Files, list[Problem]]:
    """The files of ``paths``: each file (a zip expanded), each folder's deployment files
    (its sub-folders too); a path that does not exist is a problem."""
    files: Files = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file()
                           and _wanted(str(p.relative_to(path))))
            if len(found) > MAX_FILES:
                problems.append(_too_many(str(path)))
                continue
            files.extend((str(p), p.read_bytes()) for p in found)
        elif path.is_file():
            more, trouble = expand(str(path), path.read_bytes())
            files.extend(more)
            problems.extend(trouble)
        else:
            problems.append(Problem(str(path), None, "", "", "文件不存在"))
    return files, problems
