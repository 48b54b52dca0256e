"""The diagrams in processes/: valid, deployable, drawn completely (every element has its
shape or edge, so bpmn.io and Camunda Modeler show all of it), rule ids documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from lxml import etree

import engine
from engine.validation import validate
from registry.traceability import RULE_ID
from tests.processes.helpers import PROCESSES, deploy_processes

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
FILES = sorted(PROCESSES.glob("*.bpmn"))
DRAWN = ("startEvent", "endEvent", "intermediateCatchEvent", "boundaryEvent", "userTask",
         "serviceTask", "scriptTask", "callActivity", "exclusiveGateway", "eventBasedGateway",
         "parallelGateway", "lane", "participant")


def test_every_procedure_of_the_guide_is_there() -> None:
    assert {p.stem for p in FILES} == {"intake", "backfill", "correction", "grade_adjust",
                                       "publicity_and_push", "monthly_sampling",
                                       "key_inspection"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_element_is_drawn(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    for tag in DRAWN:
        for node in root.iterfind(f".//bpmn:{tag}", NS):
            assert node.get("id") in shapes, f"{path.name}: {node.get('id')} has no shape"
    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        assert flow.get("id") in edges, f"{path.name}: {flow.get('id')} has no edge"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_file_name_is_the_process_id_and_labels_are_chinese(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    [process] = root.iterfind(".//bpmn:process", NS)
    assert process.get("id") == path.stem
    for tag in ("userTask", "serviceTask", "callActivity", "startEvent", "endEvent"):
        for node in root.iterfind(f".//bpmn:{tag}", NS):
            name = node.get("name") or ""
            assert any("\u4e00" <= c <= "\u9fff" for c in name), f"{node.get('id')}: {name!r}"


def test_every_file_validates_and_deploys(app: Flask) -> None:
    files = [(p.name, p.read_bytes()) for p in FILES]
    assert validate(files, engine.catalog()).problems == []
    deploy_processes()
    for path in FILES:
        assert engine.latest(path.stem).version == 1


def test_rule_ids_in_documentation_exist_in_the_catalogue() -> None:
    from registry.traceability import read_rules

    known = set(read_rules())
    for path in FILES:
        for doc in etree.parse(str(path)).getroot().iterfind(".//bpmn:documentation", NS):
            assert set(RULE_ID.findall(doc.text or "")) <= known, doc.text
