"""What the intake clients send: the shape of the tests' data (tests/registry and tests/forms),
copied here so that the benchmark does not import the tests."""

from __future__ import annotations

import copy
from typing import Any

from forms.credit_code import check_char

DEMO_PASSWORD = "cqpi-demo-2026"
UNIT, REVIEWER = "qiye", "yuzhong"
"""The demo enterprise user who applies and the district reviewer (渝中区) who reviews."""

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
ATTACHMENTS = ("report", "commitment", "application_form", "evidence")
"""The four materials an intake needs (R-IB-1)."""

REVIEW_OK = {"items": [{"item": item, "result": "pass"}
                       for item in ("bidding", "completion", "contract", "attachments")]}
"""A pass of every item of an intake with ``STAGES`` (R-IB-2: each stage and the materials)."""


def _code(body: str = "91500000MA5U7G3L1") -> str:
    return body + check_char(body)


STAGES: dict[str, dict[str, Any]] = {
    "bidding": {
        "notice_number": "ZB-2024-001", "tender_class": "003", "tender_method": "001",
        "result_date": "2024-01-20", "amount": "9800", "winner_name": "重庆某建工集团",
        "winner_credit_code": _code("91500000202801234"), "project_manager": "李四",
    },
    "contract": {
        "record_number": "HT-2024-001", "contract_number": "C-001", "contract_type": "100",
        "amount": "9800", "signed_on": "2024-01-25", "employer_name": "重庆某置业有限公司",
        "employer_credit_code": _code(), "contractor_name": "重庆某建工集团",
        "contractor_credit_code": _code("91500000202801234"), "consortium": False,
    },
    "completion": {
        "record_number": "JG-2025-7", "actual_start": "2024-02-05",
        "actual_completion": "2025-11-30", "actual_cost": "10100", "actual_area": "35100",
    },
}


def application(i: int) -> dict[str, Any]:
    """The body of ``POST /api/v1/applications`` for the ``i``-th intake (a new HM project in
    渝中区, managed by the district)."""
    project = {"name": f"基准入库项目 {i}", "category": "HM", "sector": "01",
               "location_code": "500103", "city_managed": False, "managing_code": "500103",
               "role": "施工"}
    return {"kind": "intake", "project": project, "stages": copy.deepcopy(STAGES)}
