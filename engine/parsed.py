"""From parsed specs to what a process version stores: every task in one of the catalog's
lanes (whatever name the deployment gave it), the forms its user tasks name, and a content
hash that covers them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .bundle import Bundle
from .catalog import Catalog
from .state import specs_to_dict


@dataclass
class ParsedProcess:
    key: str
    name: str | None
    file_name: str
    content_hash: str
    bpmn: bytes
    specs: dict[str, Any]
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The deployment's forms its user tasks name (by the name they use), kept with it."""
    lanes: dict[str, str] = field(default_factory=dict)
    """The lanes its deployment declared (deployment.json), kept for those who call it."""


@dataclass(frozen=True)
class Extras:
    """What a process was deployed with beside its diagram."""

    lanes: dict[str, str]
    """Its deployment's declared lanes (deployment.json)."""
    forms: dict[str, dict[str, Any]]
    """The forms its user tasks name, as stored (Form.stored)."""


@dataclass(frozen=True)
class Finish:
    """What turns parsed specs into what runs: the catalog's lanes, the deployment's forms,
    and what each file (uploaded or deployed before) was deployed with."""

    catalog: Catalog
    bundle: Bundle
    extras: dict[str, Extras]

    def apply(self, spec: Any, file_name: str, forms: dict[str, dict[str, Any]]) -> None:
        """Give each task of ``spec`` its catalog lane (so that runtime knows only those) and
        collect the forms its user tasks name into ``forms``."""
        extras = self.extras.get(file_name, Extras({}, {}))
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "lane", None):
                lane = self.catalog.lane_of(task_spec.lane, extras.lanes)
                task_spec.lane = lane or task_spec.lane
            key = (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(
                "formKey")
            if not key or key in self.catalog.form_keys:
                continue
            if key in extras.forms:
                forms[key] = extras.forms[key]
            elif (form := self.bundle.form(key)) is not None:
                forms[key] = form.stored()

    def parsed(self, key: str, spec: Any, subs: dict[str, Any], parser: Any,
               trees: dict[str, tuple[Any, bytes]]) -> ParsedProcess:
        """What a version of process ``key`` stores, from its parsed specs."""
        file_name = parser.get_process_parser(key).filename
        content = trees[file_name][1]
        digest = hashlib.sha256(content)
        for dep in sorted({parser.get_process_parser(k).filename for k in subs} - {file_name}):
            digest.update(trees[dep][1])
        forms: dict[str, dict[str, Any]] = {}
        self.apply(spec, file_name, forms)
        for sub_key, sub in subs.items():
            self.apply(sub, parser.get_process_parser(sub_key).filename, forms)
        declared = self.extras.get(file_name, Extras({}, {})).lanes
        if forms or declared:  # a plain diagram's hash stays what it always was
            digest.update(json.dumps([forms, declared], sort_keys=True).encode())
        name = spec.bpmn_name if hasattr(spec, "bpmn_name") else spec.description
        return ParsedProcess(key, name, file_name, digest.hexdigest(), content,
                             specs_to_dict(spec, subs), forms, declared)
