"""What the engine reads survives the modeler: every diagram of processes/ and tests/bpmn/,
read and saved by bpmn-moddle with our spiffworkflow extension (as the modeler opens and
deploys it), keeps each spiffworkflow element with its attributes and text. An element type
missing from web/static/spiffworkflow.json would be dropped on save (a message's variable
once was). Skipped without node or the front-end packages (make install)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DIAGRAMS = sorted([*(ROOT / "processes").glob("*.bpmn"), *(ROOT / "tests" / "bpmn").glob("*.bpmn")])


def _extension_elements(xml: bytes) -> Counter[tuple[str, tuple[tuple[str, str], ...], str]]:
    root = etree.fromstring(xml)
    return Counter((etree.QName(e).localname, tuple(sorted(e.attrib.items())),
                    (e.text or "").strip()) for e in root.iter(f"{{{SPIFF}}}*"))


def test_the_modeler_keeps_every_spiffworkflow_element() -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "bpmn-moddle").is_dir():
        pytest.skip("node or the front-end packages are missing (make install)")
    run = subprocess.run([node, str(ROOT / "tests" / "web" / "moddle_roundtrip.mjs"),
                          *map(str, DIAGRAMS)], capture_output=True, text=True, check=True,
                         timeout=120)
    saved = json.loads(run.stdout)
    kept = 0
    for path in DIAGRAMS:
        before = _extension_elements(path.read_bytes())
        assert _extension_elements(saved[str(path)].encode()) == before, path.name
        kept += sum(before.values())
    assert kept > 200  # the product's diagrams hold a few hundred
