"""The walk over a form-js document: its components, bounds and key conflicts.

What is accepted and refused, and why, is told in :mod:`forms.formjs`.
"""

from __future__ import annotations

from typing import Any

from . import formjs_limits as limits
from .formjs_fields import (
    DISPLAY,
    INPUTS,
    REFUSED,
    Field,
    id_problem,
    name_of,
    path_problem,
    read_input,
)


class FormError(ValueError):
    """A document that :func:`check` refuses, used where a checked one is required."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


def fields(document: Any) -> list[Field]:
    """The input fields of a document, in form order; :class:`FormError` if it is refused."""
    found, problems = read(document)
    if problems:
        raise FormError(problems)
    return found


def read(document: Any) -> tuple[list[Field], list[str]]:
    """The input fields of ``document`` and its problems (Chinese), never raising."""
    problems = size_problems(document)
    if problems:
        return [], problems
    if not isinstance(document, dict):
        return [], ["表单应为 JSON 对象"]
    if document.get("type") != "default":
        problems.append("表单的 type 应为 \"default\"（form-js 表单）")
    if (why := id_problem(document.get("id"))) is not None:
        problems.append(f"表单的 id {why}")
    components = document.get("components")
    if not isinstance(components, list):
        return [], [*problems, "表单的 components 应为数组"]
    walk = _Walk()
    walk.components(components, (), 1)
    problems += walk.problems + _conflicts(walk.fields)
    return walk.fields, problems


class _Walk:
    """One pass over the components, collecting fields and problems."""

    def __init__(self) -> None:
        self.fields: list[Field] = []
        self.problems: list[str] = []
        self.count = 0
        self.ids: set[str] = set()

    def components(self, items: Any, prefix: tuple[str, ...], depth: int) -> None:
        if not isinstance(items, list):
            self.problems.append("分组的 components 应为数组")
            return
        for item in items:
            self.count += 1
            if self.count == limits.MAX_COMPONENTS + 1:
                self.problems.append(f"组件过多（不能超过 {limits.MAX_COMPONENTS} 个）")
            if self.count > limits.MAX_COMPONENTS:
                return
            if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                self.problems.append(f"第 {self.count} 个组件应为带 type 的对象")
                continue
            self.component(item, prefix, depth)

    def component(self, item: dict[str, Any], prefix: tuple[str, ...], depth: int) -> None:
        kind, where = item["type"], f"组件 {name_of(item)}"
        if not self._common(item, where):
            return
        if kind in REFUSED:
            self.problems.append(f"{where}的类型 {kind} 不予接受：{REFUSED[kind]}")
        elif kind in INPUTS:
            self._input(item, prefix, where)
        elif kind == "group":
            self._group(item, prefix, depth, where)
        elif kind in DISPLAY:
            if (why := _display_problem(item)) is not None:
                self.problems.append(f"{where}{why}")
        else:
            self.problems.append(f"{where}的类型 {kind[:40]} 不受支持")

    def _common(self, item: dict[str, Any], where: str) -> bool:
        before = len(self.problems)
        ident = item.get("id")
        if ident is not None:
            if (why := id_problem(ident)) is not None:
                self.problems.append(f"{where}的 id {why}")
            elif ident in self.ids:
                self.problems.append(f"{where}的 id 重复")
            else:
                self.ids.add(ident)
        if item.get("conditional"):
            self.problems.append(
                f"{where}设有显示条件（conditional），服务端暂不支持：被隐藏的字段无法判断"
                "是否必填；请去掉显示条件，或拆成两个表单")
        return len(self.problems) == before

    def _input(self, item: dict[str, Any], prefix: tuple[str, ...], where: str) -> None:
        disabled = item.get("disabled", False)
        if disabled is True:
            return
        if disabled is not False:
            self.problems.append(f"{where}的 disabled 应为 true 或 false（不支持表达式）")
            return
        label = item.get("label")
        if isinstance(label, str) and len(label) > limits.MAX_LABEL:
            self.problems.append(f"{where}的标签过长（不能超过 {limits.MAX_LABEL} 个字符）")
            return
        field = read_input(item, prefix, self.problems)
        if field is not None:
            self.fields.append(field)

    def _group(self, item: dict[str, Any], prefix: tuple[str, ...], depth: int,
               where: str) -> None:
        if depth >= limits.MAX_NESTING:
            self.problems.append(f"{where}嵌套过深（分组不能超过 {limits.MAX_NESTING} 层）")
            return
        path = item.get("path")
        if path not in (None, ""):
            if (why := path_problem(path)) is not None:
                self.problems.append(f"{where}的 path {why}")
                return
            prefix = prefix + tuple(path.split("."))
        self.components(item.get("components", []), prefix, depth + 1)


def _display_problem(item: dict[str, Any]) -> str | None:
    if item["type"] == "button" and item.get("action", "submit") not in ("submit", "reset"):
        return "的按钮动作只能是 submit 或 reset"
    if item["type"] == "image":
        source = item.get("source")
        if source is not None and not (isinstance(source, str) and (
                source.startswith("data:image/") or
                (source.startswith("/") and not source.startswith("//")))):
            return ("的图片来源只能是 data:image/ 内嵌图片或本站路径（以 / 开头）："
                    "外站图片会让第三方得知谁在填表，表达式来源服务端无法核对")
    return None


def _conflicts(found: list[Field]) -> list[str]:
    problems: list[str] = []
    paths = sorted(found, key=lambda f: f.path)
    for before, after in zip(paths, paths[1:], strict=False):
        if before.path == after.path:
            problems.append(f"key “{after.key}” 重复")
        elif after.path[:len(before.path)] == before.path:
            problems.append(f"key “{before.key}” 与 “{after.key}” 冲突：一个是另一个的上级")
    return problems


def size_problems(document: Any) -> list[str]:
    """The bounds of :mod:`forms.formjs_limits` (Chinese), walked without recursion."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > limits.MAX_NODES:
            return [f"表单过大（JSON 值不能超过 {limits.MAX_NODES} 个）"]
        if isinstance(value, str) and len(value) > limits.MAX_STRING:
            return [f"表单中的文字过长（单个字符串不能超过 {limits.MAX_STRING} 个字符）"]
        if isinstance(value, dict | list) and depth > limits.MAX_DEPTH:
            return [f"表单嵌套过深（不能超过 {limits.MAX_DEPTH} 层）"]
        if isinstance(value, dict):
            stack.extend((k, depth) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return []
