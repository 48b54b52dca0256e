"""Camunda 8's forms kept inside the diagram (``zeebe:userTaskForm``, what Camunda Modeler
wrote before linked forms): each is taken into the deployment as the form file ``ID.form``,
checked like any form file, and its user tasks (``formKey="camunda-forms:bpmn:ID"``) name it."""

from __future__ import annotations

from typing import Any

from ..bundle import Bundle, split
from ..catalog import Catalog
from ..problems import Problem
from .tree import ZEEBE

PREFIX = "camunda-forms:bpmn:"


def file_name(form_id: str) -> str:
    """The form file name under which an embedded form is kept and named."""
    return f"{form_id}.form"


def take_forms(file: str, root: Any, bundle: Bundle, catalog: Catalog) -> list[Problem]:
    """Add the diagram's embedded forms to ``bundle``; the problems of those refused."""
    problems: list[Problem] = []
    for node in root.iter(f"{{{ZEEBE}}}userTaskForm"):
        form_id = (node.get("id") or "").strip()
        if not form_id:
            continue
        found = split([(f"{file}/{file_name(form_id)}", (node.text or "").encode())], catalog)
        bundle.forms.extend(found.forms)
        if found.problems:  # said once, here; its tasks are not told it is missing
            bundle.refused.add(file_name(form_id))
        problems.extend(Problem(file, node.sourceline, form_id, "", f"内嵌表单: {p.message}")
                        for p in found.problems)
    return problems
