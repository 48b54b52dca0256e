"""`cqpi rules`: rule id -> BPMN elements -> tests, and the gaps."""

from __future__ import annotations

from pathlib import Path

from registry.traceability import _name_ids, gaps, matrix, read_rules

RULES = """# Rules
| id | rule | guide |
|---|---|---|
| R-COR-2 | Used for qualification: no correction. | 一(三) |
| R-SUP-7 | Key inspection. | 三 |
| A-3 | Objections stop the push. | - |
"""

BPMN = """<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
  targetNamespace="t"><bpmn:process id="p" isExecutable="true">
  <bpmn:userTask id="Task_Check" name="核实"><bpmn:documentation>R-COR-2; A-3</bpmn:documentation>
  </bpmn:userTask></bpmn:process></bpmn:definitions>
"""

TESTS = '''
def test_r_cor_2_refused():
    pass

def test_ruling():
    """A-3: objections stop the push."""

def helper_r_sup_7():
    pass
'''


def test_matrix_and_gaps(tmp_path: Path) -> None:
    (tmp_path / "docs" / "guide").mkdir(parents=True)
    (tmp_path / "docs" / "guide" / "RULES.md").write_text(RULES, encoding="utf-8")
    (tmp_path / "processes").mkdir()
    (tmp_path / "processes" / "p.bpmn").write_text(BPMN, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(TESTS, encoding="utf-8")
    table = {r.id: r for r in matrix(tmp_path)}
    assert table["R-COR-2"].elements == ["p.bpmn:Task_Check (核实)"]
    assert table["R-COR-2"].tests == ["tests/test_x.py::test_r_cor_2_refused"]
    assert table["A-3"].tests == ["tests/test_x.py::test_ruling"]
    assert gaps(list(table.values())) == ["R-SUP-7: 缺少BPMN 元素和测试"]


def test_test_names_carry_rule_ids() -> None:
    assert _name_ids("test_r_ga_2_grades_rise") == {"R-GA-2"}
    assert _name_ids("test_jurisdictions_a_7_are_38") == {"A-7"}
    assert _name_ids("test_a_flaky_job_is_retried") == set()
    assert _name_ids("test_r_sup_10_and_r_cor_1") == {"R-SUP-10", "R-COR-1"}


def test_the_project_catalogue_has_every_rule_of_the_guide() -> None:
    rules = read_rules()
    assert len(rules) == 42
    assert list(rules)[:2] == ["R-SCOPE-1", "R-CAT-1"] and {"A-7", "A-8"} <= set(rules)
