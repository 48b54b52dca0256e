"""What a completed task decided, in Chinese, read from the data entered on it (its
``task_completed`` event): 已办 and the supervision lists show the same."""

from __future__ import annotations

from typing import Any

DECISIONS: dict[str, dict[Any, str]] = {
    "review": {"approve": "审核通过", "return": "退回修改"},
    "objection_ruling": {"uphold": "异议成立，退回申请单位", "dismiss": "异议不成立，继续推送"},
    "amendment": {"resubmit": "修改后重新提交", "withdraw": "撤回申请"},
    "ministry_reply": {True: "部同意勘误", False: "部不同意勘误"},
    "sampling_result": {True: "抽查合格", False: "抽查不合格"},
    "inspection": {"genuine": "信息属实", "false": "确认造假（虚假项目）"},
    "grade_decision": {True: "核实通过", False: "核实不通过"},
}
"""What each task form's deciding field says, as people read it."""

DECIDING = {"review": "decision", "objection_ruling": "decision", "amendment": "action",
            "ministry_reply": "agreed", "sampling_result": "passed", "inspection": "result",
            "grade_decision": "approved"}
DOCUMENTS = {"formal_document": "已上报正式公文", "ministry_request": "已报部申请勘误"}


def decision_of(form_key: str | None, data: dict[str, Any]) -> str:
    """The decision a completed task took, in Chinese, from the data entered on it: a
    review's outcome with the number of items with problems, a ruling, a document's number;
    ``已办理`` for a form that decides nothing (a deployed procedure's form)."""
    key = form_key or ""
    if key in DOCUMENTS:
        number = data.get("document_number")
        return f"{DOCUMENTS[key]}（{number}）" if number else DOCUMENTS[key]
    said = DECISIONS.get(key, {}).get(data.get(DECIDING.get(key, "")))
    if said is None:
        return "已办理"
    if key == "review" and data.get("decision") == "return":
        problems = sum(1 for i in data.get("items", []) if i.get("result") == "problem")
        return f"{said}（{problems} 项有问题）"
    return said
