"""The traceability matrix: every rule of docs/guide/RULES.md, the BPMN elements that carry
it (rule id in the element's documentation) and the tests that check it (rule id in the
test's name, ``test_r_cor_3_...``, or in its docstring)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "guide" / "RULES.md"
RULE_ID = re.compile(r"\b(?:R-[A-Z]+-\d+|A-\d+)\b")
TEST_NAME_ID = re.compile(r"(?:^|_)(?:r_([a-z]+)_(\d+)|a_(\d+))(?=_|$)")
BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


@dataclass
class Rule:
    id: str
    text: str
    elements: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)


def read_rules(path: Path = RULES) -> dict[str, Rule]:
    """The rules in the order of RULES.md."""
    rules = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and RULE_ID.fullmatch(cells[0]):
            rules[cells[0]] = Rule(cells[0], cells[1])
    return rules


def _ids(text: str) -> set[str]:
    return set(RULE_ID.findall(text or ""))


def elements_of(processes: Path) -> dict[str, list[str]]:
    """rule id -> ``file:element_id (name)`` of the elements whose documentation names it."""
    found: dict[str, list[str]] = {}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for path in sorted(processes.glob("*.bpmn")):
        root = etree.parse(str(path), parser).getroot()
        for doc in root.iterfind(".//bpmn:documentation", BPMN_NS):
            owner = doc.getparent()
            label = f"{path.name}:{owner.get('id')} ({owner.get('name') or '-'})"
            for rule in _ids(doc.text or ""):
                found.setdefault(rule, []).append(label)
    return found


def _name_ids(name: str) -> set[str]:
    ids = set()
    for word, number, a_number in TEST_NAME_ID.findall(name):
        ids.add(f"A-{a_number}" if a_number else f"R-{word.upper()}-{number}")
    return ids


def tests_of(tests: Path) -> dict[str, list[str]]:
    """rule id -> ``file::test`` of the tests that name it."""
    found: dict[str, list[str]] = {}
    for path in sorted(tests.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                ids = _name_ids(node.name) | _ids(ast.get_docstring(node) or "")
                for rule in ids:
                    found.setdefault(rule, []).append(
                        f"{path.relative_to(tests.parent)}::{node.name}")
    return found


def matrix(root: Path = ROOT) -> list[Rule]:
    rules = read_rules(root / "docs" / "guide" / "RULES.md")
    for rule_id, labels in elements_of(root / "processes").items():
        if rule_id in rules:
            rules[rule_id].elements = labels
    for rule_id, names in tests_of(root / "tests").items():
        if rule_id in rules:
            rules[rule_id].tests = names
    return list(rules.values())


def gaps(rules: list[Rule]) -> list[str]:
    """One line per rule with an empty column."""
    out = []
    for rule in rules:
        missing = [what for what, have in (("BPMN 元素", rule.elements), ("测试", rule.tests))
                   if not have]
        if missing:
            out.append(f"{rule.id}: 缺少{'和'.join(missing)}")
    return out
