"""What a deployment holds beside its diagrams: the forms its user tasks name, and what it
declares about its lanes (``deployment.json``).

A form is a form-js document (``.form``, what bpmn.io's form editor and Camunda Modeler
write) or a JSON Schema form (``.json``, spiff-arena's convention); the application checks
each kind (``Catalog.form_kinds``) and the engine keeps the forms a process names with its
version, so that its tasks show the form they were designed with. A user task names a form
by its id or its file name.

``deployment.json`` declares lanes: ``{"lanes": {"自查企业": "enterprise"}}`` maps a lane (or
a candidate group) to a role or to one of the catalog's lanes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from .catalog import Catalog
from .problems import Problem

MANIFEST = "deployment.json"
MAX_FORM_BYTES = 512 * 1024
"""Largest form file."""


@dataclass(frozen=True)
class Form:
    kind: str  # "form-js" or "json-schema"
    id: str
    file: str
    document: dict[str, Any]

    def stored(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "file": self.file, "document": self.document}


@dataclass
class Bundle:
    diagrams: list[tuple[str, bytes]] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    lanes: dict[str, str] = field(default_factory=dict)
    """Declared lane or candidate group -> role or catalog lane."""
    problems: list[Problem] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    """Names of the form files refused (their problems are said once, on the file)."""

    def holds(self, key: str) -> bool:
        """Whether the deployment has a form file for ``key``, accepted or refused."""
        return self.form(key) is not None or key in self.refused

    def form(self, key: str) -> Form | None:
        """The form a user task names by ``key``: its id, or its file's name."""
        for form in self.forms:
            if key in (form.id, PurePosixPath(form.file).name):
                return form
        return None


def split(files: list[tuple[str, bytes]], catalog: Catalog) -> Bundle:
    """Sort a deployment's files into diagrams, forms and declarations, checking the latter."""
    bundle = Bundle()
    for name, content in files:
        base = PurePosixPath(name.replace("\\", "/")).name.lower()
        if base == MANIFEST:
            _manifest(bundle, name, content)
        elif base.endswith((".form", ".json")):
            _form(bundle, name, content, catalog)
        elif base.endswith(".dmn"):
            bundle.problems.append(Problem(name, None, "", "", "暂不支持 DMN 决策表：请把决策写成"
                                           "网关条件或脚本任务"))
        else:
            bundle.diagrams.append((name, content))
    ids: dict[str, str] = {}
    for form in bundle.forms:
        if form.id in ids:
            bundle.problems.append(Problem(form.file, None, form.id, "", f"表单 id “{form.id}” "
                                           f"与 {ids[form.id]} 重复"))
        ids.setdefault(form.id, form.file)
    return bundle


def files_of(forms: dict[str, dict[str, Any]] | None,
             lanes: dict[str, str] | None) -> list[tuple[str, bytes]]:
    """The files a version was deployed with beside its diagram, from what it keeps (its
    forms as ``Form.stored``, its declared lanes): deployed again with an edited diagram, they
    say what they said the first time."""
    files: dict[str, bytes] = {}
    for stored in (forms or {}).values():
        name = PurePosixPath(str(stored["file"]).replace("\\", "/")).name
        files[name] = json.dumps(stored["document"], ensure_ascii=False).encode()
    if lanes:
        files[MANIFEST] = json.dumps({"lanes": lanes}, ensure_ascii=False).encode()
    return list(files.items())


def _json(bundle: Bundle, name: str, content: bytes) -> Any:
    if len(content) > MAX_FORM_BYTES:
        bundle.problems.append(Problem(name, None, "", "",
                                       f"文件过大（上限 {MAX_FORM_BYTES} 字节）"))
        return None
    try:
        return json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        bundle.problems.append(Problem(name, None, "", "", f"不是有效的 JSON: {exc}"))
        return None


def _form(bundle: Bundle, name: str, content: bytes, catalog: Catalog) -> None:
    document = _json(bundle, name, content)
    if document is None:
        return
    if not isinstance(document, dict):
        bundle.problems.append(Problem(name, None, "", "", "表单文件应是一个 JSON 对象"))
        return
    kind = "form-js" if "components" in document else "json-schema"
    check = catalog.form_kinds.get(kind)
    if check is None:
        bundle.problems.append(Problem(name, None, "", "", f"不支持的表单类型 {kind}"))
        return
    problems = check(document)
    bundle.problems.extend(Problem(name, None, "", "", p) for p in problems)
    if problems:
        bundle.refused.add(PurePosixPath(name.replace("\\", "/")).name)
        if isinstance(document.get("id"), str):
            bundle.refused.add(document["id"])
    else:
        stem = PurePosixPath(name.replace("\\", "/")).stem
        form_id = document.get("id") if kind == "form-js" else None
        bundle.forms.append(Form(kind, str(form_id or stem), name, document))


def _manifest(bundle: Bundle, name: str, content: bytes) -> None:
    document = _json(bundle, name, content)
    lanes = document.get("lanes", {}) if isinstance(document, dict) else None
    if not isinstance(lanes, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in lanes.items()):
        if document is not None:
            bundle.problems.append(Problem(name, None, "", "", "deployment.json 应形如 "
                                           '{"lanes": {"泳道名": "角色"}}'))
        return
    bundle.lanes.update(lanes)
