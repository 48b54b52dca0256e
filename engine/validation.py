"""Validate BPMN files before deployment: safe XML, the BPMN 2.0 XSD, then what this engine runs.

Each problem names the file, line, element id and name, in words an analyst understands;
no input produces a traceback. Files are parsed from bytes with entity resolution, DTDs and
network access off, and any DOCTYPE is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from .bundle import Bundle, split
from .catalog import Catalog
from .cycles import endless
from .expressions import check_expression, check_script
from .foreign import adapt, take_forms
from .parsed import Extras, Finish, ParsedProcess
from .problems import Problem
from .specs import Parser

MAX_FILE_BYTES = 5 * 1024 * 1024
"""Largest BPMN file accepted."""

RESERVED_IDS = {"Start", "End", "Root"}
"""Ids of SpiffWorkflow's internal task specs; an element with one of them breaks the process."""

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


@dataclass
class Result:
    problems: list[Problem] = field(default_factory=list)
    processes: list[ParsedProcess] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_pis=True,
    )


def _problem(file: str, node: Any, message: str) -> Problem:
    if node is None:
        return Problem(file, None, "", "", message)
    return Problem(file, node.sourceline, node.get("id", ""), node.get("name", ""), message)


def parse_xml(name: str, content: bytes) -> tuple[Any, list[Problem]]:
    """Parse ``content`` safely; return the tree, or None and the reasons it was refused."""
    if len(content) > MAX_FILE_BYTES:
        return None, [Problem(name, None, "", "", f"文件过大（上限 {MAX_FILE_BYTES} 字节）")]
    try:
        root = etree.fromstring(content, _safe_parser())
    except etree.XMLSyntaxError as exc:
        return None, [Problem(name, exc.lineno, "", "", f"XML 格式错误: {exc.msg}")]
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        reason = "不允许 DOCTYPE 或实体声明（可能是 XML 炸弹或外部实体攻击）"
        return None, [Problem(name, 1, "", "", reason)]
    return root, []


def check_schema(name: str, root: Any) -> list[Problem]:
    """Problems against the BPMN 2.0 XSD (with the spiffworkflow extensions)."""
    schema = VALIDATOR.validator
    if schema.validate(root):
        return []
    by_line = {node.sourceline: node for node in root.iter() if isinstance(node.tag, str)}
    problems = []
    for err in schema.error_log:
        node = _element_of(by_line.get(err.line))
        problems.append(_problem(name, node, f"不符合 BPMN 2.0 规范: {err.message}"))
        if node is None:
            problems[-1] = Problem(name, err.line, "", "", problems[-1].message)
    return problems


def _xp(root: Any, path: str) -> list[Any]:
    return root.xpath(path, namespaces=NS)


def _check_ids(name: str, root: Any) -> Iterable[Problem]:
    for node in _xp(root, "//bpmn:*[@id]"):
        node_id = node.get("id")
        if node_id in RESERVED_IDS or node_id.endswith(".EndJoin"):
            yield _problem(name, node, f"元素 id “{node_id}” 是引擎保留名，请改名")


def _check_gateways(name: str, root: Any) -> Iterable[Problem]:
    for gw in _xp(root, "//bpmn:exclusiveGateway | //bpmn:inclusiveGateway"):
        flows = _xp(gw, f"../bpmn:sequenceFlow[@sourceRef='{gw.get('id')}']")
        if len(flows) < 2:
            continue
        for flow in flows:
            has_condition = bool(_xp(flow, "bpmn:conditionExpression"))
            if not has_condition and flow.get("id") != gw.get("default"):
                label = flow.get("name") or flow.get("id")
                yield _problem(name, flow, f"网关“{gw.get('name') or gw.get('id')}”的分支“{label}”"
                                           "既没有条件也不是默认分支")


def _check_expressions(name: str, root: Any) -> Iterable[Problem]:
    paths = ("//bpmn:conditionExpression", "//bpmn:timeDuration", "//bpmn:timeDate",
             "//bpmn:timeCycle", "//spiffworkflow:parameter/@value",
             "//spiffworkflow:property[@name='scope']/@value")
    for path in paths:
        for node in _xp(root, path):
            is_attr = isinstance(node, etree._ElementUnicodeResult)
            text = str(node) if is_attr else (node.text or "")
            owner = node.getparent() if is_attr else node
            problem = check_expression(text) if text.strip() else "表达式为空"
            if problem:
                message = f"表达式 {text.strip()!r} 不可用: {problem}"
                yield _problem(name, _element_of(owner), message)
    for node in _xp(root, "//bpmn:script | //spiffworkflow:preScript | //spiffworkflow:postScript"):
        problem = check_script(node.text or "")
        if problem:
            yield _problem(name, _element_of(node), problem)


def _element_of(node: Any) -> Any:
    """The flow element a node belongs to: its nearest ancestor with an id, skipping
    event definitions (a timer's expression belongs to its event)."""
    while node is not None and (node.get("id") is None
                                or etree.QName(node).localname.endswith("EventDefinition")):
        node = node.getparent()
    return node


def _check_catalog(name: str, root: Any, catalog: Catalog, bundle: Bundle) -> Iterable[Problem]:
    for task in _xp(root, "//bpmn:serviceTask"):
        ops = _xp(task, "bpmn:extensionElements/spiffworkflow:serviceTaskOperator/@id")
        if not ops:
            yield _problem(name, task, "服务任务没有指定服务操作 (serviceTaskOperator)")
        elif ops[0] not in catalog.operations:
            known = "、".join(sorted(catalog.operations)) or "无"
            yield _problem(name, task, f"未知的服务操作“{ops[0]}”（已注册: {known}）")
    for task in _xp(root, "//bpmn:userTask"):
        props = "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
        for due in _xp(task, f"{props}[@name='dueIn']/@value"):
            if not _is_duration(due):
                yield _problem(name, task, f"期限 dueIn “{due}” 不是 ISO 8601 时长（如 P5D）")
        keys = _xp(task, f"{props}[@name='formKey']/@value")
        if not keys:
            yield _problem(name, task, "用户任务没有指定表单 (属性 formKey)")
        yield from _unknown_form(name, task, keys, catalog, bundle)
    for start in _xp(root, "//bpmn:startEvent"):  # a start form is optional, but must exist
        props = "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
        yield from _unknown_form(name, start, _xp(start, f"{props}[@name='formKey']/@value"),
                                 catalog, bundle)


def _unknown_form(name: str, node: Any, keys: list[str], catalog: Catalog,
                  bundle: Bundle) -> Iterable[Problem]:
    if keys and keys[0] not in catalog.form_keys and not bundle.holds(keys[0]):
        yield _problem(name, node, f"未知的表单“{keys[0]}”：既不是系统表单，也不在本次部署的"
                                   "表单文件（.form、.json）中")


def _check_messages(name: str, root: Any, catalog: Catalog) -> Iterable[Problem]:
    """A catch event must wait for a message that something delivers."""
    names = {m.get("id"): m.get("name") or m.get("id") for m in _xp(root, "//bpmn:message")}
    refs = "//bpmn:messageEventDefinition/@messageRef | //bpmn:receiveTask/@messageRef"
    for ref in _xp(root, refs):
        owner = ref.getparent()
        if etree.QName(owner).localname == "messageEventDefinition" and _is_thrown(owner):
            continue
        message = names.get(str(ref), str(ref))
        if message not in catalog.messages:
            known = "、".join(sorted(catalog.messages)) or "无"
            yield _problem(name, _element_of(owner), f"未知的消息“{message}”：没有任何功能会"
                                                     f"送达它（系统送达的消息: {known}）")


def _check_lanes(name: str, root: Any, catalog: Catalog, bundle: Bundle) -> Iterable[Problem]:
    """A user task must sit in a lane that names a candidate group someone works: in any
    other lane (or in none) it would wait for a person who never sees it."""
    if not catalog.lanes:
        return
    lanes = {ref.text.strip(): lane for lane in _xp(root, "//bpmn:lane")
             for ref in _xp(lane, "bpmn:flowNodeRef") if ref.text}
    known = "、".join(sorted(catalog.lanes))
    for task in _xp(root, "//bpmn:userTask"):
        lane = lanes.get(task.get("id", ""))
        if lane is None:
            yield _problem(name, task, f"用户任务不在任何泳道中，无人能办理（泳道即办理角色: "
                                       f"{known}）")
        elif catalog.lane_of(lane.get("name"), bundle.lanes) is None:
            yield _problem(name, task, f"泳道“{lane.get('name') or lane.get('id')}”没有对应的"
                                       f"办理角色，其中的用户任务无人能办理（可用的泳道: {known}，"
                                       "或角色名；其他名称请在 deployment.json 中声明）")


def _is_thrown(definition: Any) -> bool:
    return etree.QName(definition.getparent()).localname in (
        "intermediateThrowEvent", "endEvent")


def _is_duration(text: str) -> bool:
    try:
        TimerEventDefinition.parse_iso_duration(text)
    except Exception:  # the library raises a bare Exception for a bad duration
        return False
    return text.upper().startswith("P")


def check_semantics(name: str, root: Any, catalog: Catalog,
                    bundle: Bundle | None = None) -> list[Problem]:
    """What the XSD allows but this engine cannot run safely (``bundle``: the forms and
    declarations deployed with the diagram)."""
    bundle = bundle or Bundle()
    problems = [*_check_ids(name, root), *_check_gateways(name, root),
                *_check_expressions(name, root), *_check_catalog(name, root, catalog, bundle),
                *_check_messages(name, root, catalog), *_check_lanes(name, root, catalog, bundle)]
    if not _xp(root, "//bpmn:process[@isExecutable='true']"):
        problems.append(Problem(name, None, "", "", "文件中没有可执行的流程 (isExecutable)"))
    return problems


def _spiff_problem(name: str, root: Any, exc: ValidationException) -> Problem:
    node = None
    if exc.id:
        found = _xp(root, f"//*[@id='{exc.id}']") if "'" not in exc.id else []
        node = found[0] if found else None
    line = node.sourceline if node is not None else (exc.line_number or None)
    return Problem(exc.file_name or name, line, exc.id, exc.name, f"引擎无法执行: {exc}")


Library = Iterable[tuple[str, str, bytes, Extras]]
"""Processes deployed before: (key, file name, content, what they were deployed with)."""


def validate(files: Iterable[tuple[str, bytes]], catalog: Catalog,
             library: Library = ()) -> Result:
    """Validate a deployment's files together (call activities may cross files; its forms and
    ``deployment.json`` go with its diagrams) and parse them.

    ``library`` holds processes deployed before: a call activity may call them, and they are
    not validated or deployed again. One that an upload redefines is left out.
    """
    result = Result()
    bundle = split(list(files), catalog)
    result.problems.extend(bundle.problems)
    trees: dict[str, tuple[Any, bytes]] = {}
    for name, content in bundle.diagrams:
        root, problems = parse_xml(name, content)
        if root is not None:
            problems = _checked(name, root, catalog, bundle)
        result.problems.extend(problems)
        if root is not None and not problems:
            trees[name] = (root, content)
    if trees and not result.problems:
        uploaded = {key for root, _ in trees.values() for key in _xp(root, "//bpmn:process/@id")}
        library = [entry for entry in library if entry[0] not in uploaded]
        deployed = {f"{LIBRARY}{name}": (_adapted(name, content, catalog, more), content)
                    for _, name, content, more in library}
        deployed = {k: v for k, v in deployed.items() if v[0] is not None}
        result.problems.extend(_check_cycles(trees, deployed))
        extras = {name: Extras(bundle.lanes, {}) for name in trees}
        extras.update({f"{LIBRARY}{name}": more for _, name, _, more in library})
        if not result.problems:
            _parse_specs(trees, deployed, result, Finish(catalog, bundle, extras))
    return result


def _checked(name: str, root: Any, catalog: Catalog, bundle: Bundle) -> list[Problem]:
    """The diagram's problems once adapted from a foreign dialect (engine.foreign): what
    cannot be adapted, then the checks' problems on the other elements."""
    foreign = [*take_forms(name, root, bundle, catalog),
               *adapt(name, root, lambda group: catalog.lane_of(group, bundle.lanes))]
    named = {p.element_id for p in foreign if p.element_id}
    checked = check_schema(name, root) or check_semantics(name, root, catalog, bundle)
    return [*foreign, *(p for p in checked if p.element_id not in named)]


def _adapted(name: str, content: bytes, catalog: Catalog, extras: Extras) -> Any:
    """A deployed diagram's tree, adapted again as when it was deployed (it is stored as
    uploaded)."""
    root = parse_xml(name, content)[0]
    if root is not None:
        adapt(name, root, lambda group: catalog.lane_of(group, extras.lanes))
    return root


def _check_cycles(trees: dict[str, tuple[Any, bytes]],
                  deployed: dict[str, tuple[Any, bytes]]) -> Iterable[Problem]:
    processes = {p.get("id"): p for root, _ in [*deployed.values(), *trees.values()]
                 for p in _xp(root, "//bpmn:process")}
    for name, (root, _) in trees.items():
        for cycle in endless(root, processes):
            path = " → ".join(f"“{n.get('name') or n.get('id')}”" for n in cycle)
            yield _problem(name, cycle[0], f"循环 {path} 中没有等待环节（用户任务、接收消息、"
                                           "定时器或服务任务），一次办理会无休止地运行：请在循环"
                                           "中加入等待环节")


LIBRARY = "deployed:"
"""Prefix of the names under which deployed processes are given to the parser."""


def _parse_specs(trees: dict[str, tuple[Any, bytes]], library: dict[str, tuple[Any, bytes]],
                 result: Result, finish: Finish) -> None:
    parser = Parser()
    current = ""
    try:
        for name, (root, _) in library.items():
            parser.add_bpmn_xml(root, filename=name)
        for name, (root, _) in trees.items():
            current = name
            parser.add_bpmn_xml(root, filename=name)
        for key in parser.get_process_ids():
            current = parser.get_process_parser(key).filename
            if current not in trees:
                continue
            spec = parser.get_spec(key)
            subs = parser.get_subprocess_specs(key)
            result.processes.append(finish.parsed(key, spec, subs, parser, {**library, **trees}))
    except ValidationException as exc:
        missing = MISSING_PROCESS.search(str(exc))
        if missing:
            result.problems.extend(_missing_calls(trees, missing.group(1)))
        else:
            result.problems.append(_spiff_problem(current, trees[current][0], exc))
    except Exception as exc:  # the parser raises many kinds; none may escape as a traceback
        result.problems.append(Problem(current, None, "", "", f"引擎无法解析: {exc}"))


MISSING_PROCESS = re.compile(r"The process '([^']+)' was not found")


def _missing_calls(trees: dict[str, tuple[Any, bytes]], key: str) -> list[Problem]:
    """A problem on each call activity that calls ``key``, which is neither uploaded nor
    deployed."""
    message = f"调用的流程“{key}”不存在：请与它的文件一同校验，或先部署它"
    problems = [_problem(name, node, message) for name, (root, _) in trees.items()
                for node in _xp(root, f"//bpmn:callActivity[@calledElement='{key}']")
                if "'" not in key]
    return problems or [Problem(next(iter(trees)), None, "", "", message)]
