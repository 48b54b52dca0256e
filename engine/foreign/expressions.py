"""Conditions, timers and scripts written in JUEL (Camunda 7) or FEEL (Camunda 8), rewritten in
the engine's Python subset so that every dialect runs through the same restricted evaluator.

A bare ISO 8601 literal in a timer (``PT5M``, ``R3/PT10M``, ``2026-01-01T00:00:00Z``), as
every modeler writes it, becomes the engine's quoted string. Scripts are Python: a script in
another language is refused; Camunda 8's FEEL script (``zeebe:script``) becomes an assignment
to its result variable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from ..errors import ExpressionError
from ..problems import Problem
from .tree import BPMN, CAMUNDA, ZEEBE, attr, extension, problem, xp
from .values import ISO_LITERAL, is_foreign, timer, translated

TEXTS = ("//bpmn:conditionExpression | //bpmn:completionCondition | //bpmn:loopCardinality"
         " | //bpmn:condition")
TIMERS = "//bpmn:timeDuration | //bpmn:timeDate | //bpmn:timeCycle"
LANGUAGES = {"", "python", "juel", "http://www.w3.org/1999/xpath"}
"""Expression languages read as written (XPath is BPMN's default: what is written is checked);
FEEL (``feel`` or an OMG FEEL address) is read as FEEL with or without its leading ``=``."""
SCRIPTS = {"", "python", "text/x-python", "py"}


def adapt(file: str, root: Any) -> Iterator[Problem]:
    default = root.get("expressionLanguage") or ""
    for node in xp(root, TEXTS):
        yield from _rewrite(file, node, _condition, default)
    for node in xp(root, TIMERS):
        yield from _rewrite(file, node, timer, default)
    for task in xp(root, "//bpmn:scriptTask"):
        yield from _script(file, task)


def _condition(text: str) -> str | None:
    return translated(text) if is_foreign(text) else None


def _rewrite(file: str, node: Any, rewrite: Any, default: str) -> Iterator[Problem]:
    written = node.get("language") or default
    language = written.strip().lower()
    feel = language == "feel" or "/feel" in language
    if not feel and language not in LANGUAGES or attr(node, CAMUNDA, "resource"):
        yield problem(file, node, f"表达式语言 “{written or '外部资源'}” 不受支持："
                                  "请写成 JUEL ${…}、FEEL =… 或本系统的 Python 表达式")
        return
    text = node.text or ""
    if feel and text.strip() and not text.lstrip().startswith("=") \
            and not ISO_LITERAL.fullmatch(text.strip()):
        text = f"={text.strip()}"
    try:
        engine = rewrite(text) if text.strip() else None
    except ExpressionError as exc:
        yield problem(file, node, f"表达式 {text.strip()!r} 不可用: {exc}")
        return
    if engine is not None:
        node.text = engine
        node.attrib.pop("language", None)


def _script(file: str, task: Any) -> Iterator[Problem]:
    written = task.get("scriptFormat") or ""
    if attr(task, CAMUNDA, "resource"):
        yield problem(file, task, "外部脚本文件（camunda:resource）不受支持：请把 Python 脚本"
                                  "写在图中")
    elif written.strip().lower() not in SCRIPTS:
        yield problem(file, task, f"脚本语言 “{written}” 不受支持：请用本系统的 Python 子集改写，"
                                  "或改用服务任务")
    for script in extension(task, ZEEBE, "script"):
        yield from _feel_script(file, task, script)


def _feel_script(file: str, task: Any, script: Any) -> Iterator[Problem]:
    variable = script.get("resultVariable") or ""
    expression = script.get("expression") or ""
    if task.find(f"{{{BPMN}}}script") is not None:
        return
    if not variable.isidentifier():
        yield problem(file, task, f"脚本的结果变量 “{variable}” 不是有效的变量名")
        return
    try:
        engine = translated(expression) if is_foreign(expression) else repr(expression)
    except ExpressionError as exc:
        yield problem(file, task, f"表达式 {expression!r} 不可用: {exc}")
        return
    body = etree.SubElement(task, f"{{{BPMN}}}script")
    body.text = f"{variable} = {engine}"
