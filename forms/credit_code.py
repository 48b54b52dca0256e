"""统一社会信用代码 (unified social credit code), checked by the GB 32100-2015 algorithm."""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of the code (no I, O, S, V, Z); a character's value is its index."""

WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""Weight of each of the first 17 characters: 3**i mod 31."""

_SHAPE = re.compile(rf"^[{ALPHABET}]{{2}}\d{{6}}[{ALPHABET}]{{10}}$")


def check_char(body: str) -> str:
    """The 18th character for the first 17."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why ``code`` is not a valid credit code, or None."""
    if len(code) != 18:
        return "应为 18 位"
    if not _SHAPE.match(code):
        return "含有不允许的字符（第 3-8 位为行政区划数字，不含 I、O、S、V、Z）"
    if check_char(code[:17]) != code[17]:
        return "校验位不正确"
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None
