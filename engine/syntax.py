"""What the JUEL and FEEL translators (engine.juel, engine.feel) share: the tokenizer, the
parser's cursor, and the rules for writing the evaluator's Python.

A translator never copies source text into its output. Names are checked as identifiers,
strings are written with ``repr``, numbers from their parsed values, and every operator and
parenthesis is written by the translator itself; the output is then checked by
engine.expressions like any expression of a diagram (``checked``). Sizes are bounded: the
source (``MAX_SOURCE``), the nesting (``MAX_DEPTH``, far below Python's recursion limit), and
every piece of output as it is written (``MAX_SOURCE``), so no input costs more than a few
milliseconds or ends in a RecursionError.
"""

from __future__ import annotations

import contextlib
import keyword
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from .errors import ExpressionError
from .expressions import check_expression
from .functions import FUNCTIONS
from .limits import MAX_INT_BITS, MAX_SOURCE

MAX_DEPTH = 40
"""Deepest nesting of a dialect expression: parentheses, operators and calls inside others."""

LITERAL, PATH, CODE = "literal", "path", "code"


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "number", "string", "op" or "end"
    text: str
    pos: int
    value: Any = None


@dataclass(frozen=True)
class Code:
    """A piece of output: Python text that can stand anywhere as an operand (a name, a
    literal, a call, or parenthesized), and what it is."""

    text: str
    kind: str = CODE
    value: Any = None  # a literal's value
    bare: str = ""  # a null-guarded value: its expression without the guard,
    needs: tuple[str, ...] = ()  # which is not None when these operands are not None


def literal(value: Any) -> Code:
    """The Python literal of a parsed string, number, boolean or None."""
    return Code(repr(value), LITERAL, value)


def is_null(code: Code) -> bool:
    return code.kind == LITERAL and code.value is None


def _guarded(template: str, operands: Sequence[Code], otherwise: str) -> Code:
    """``template`` filled with the operands if none of those that may be None is None, else
    ``otherwise``. An operand guarded for None itself joins its own guard to this one, so
    ``count(xs) > 0`` tests ``xs`` once rather than nesting a guard in a guard."""
    texts: list[str] = []
    needs: list[str] = []
    for operand in operands:
        if operand.needs:
            texts.append(operand.bare)
            needs.extend(operand.needs)
        else:
            texts.append(operand.text)
            needs.extend([operand.text] if operand.kind != LITERAL else [])
    text = template.format(*texts)
    if not needs:
        return Code(f"({text})")
    unique = tuple(dict.fromkeys(needs))
    test = " and ".join(f"{n} is not None" for n in unique)
    guarded = f"({text} if {test} else {otherwise})"
    return Code(guarded, bare=f"({text})", needs=unique) if otherwise == "None" else Code(guarded)


def number(text: str) -> int | float | None:
    """A number literal's value, or None if it is too big to be one."""
    try:
        value: int | float = int(text) if text.isdigit() else float(text)
    except ValueError:  # more digits than Python converts
        return None
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        return None
    return value if math.isfinite(value) else None


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a variable or key of the task data, or None."""
    if name.startswith("_"):
        return f"不允许使用以下划线开头的名称: {name}"
    if not name.isidentifier() or unicodedata.normalize("NFKC", name) != name:
        return f"名称 {name!r} 含有不能用作变量名的字符"
    return None


def key_problem(name: str) -> str | None:
    """Why ``name`` cannot follow a ``.`` in a path, or None."""
    return f"不允许访问以下划线开头的属性: {name}" if name.startswith("_") else None


def python_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be written as a Python variable in the output, or None."""
    if keyword.iskeyword(name) or name in FUNCTIONS:
        return f"变量名 {name} 与本引擎表达式的关键字或函数同名，无法引用，请给变量改名"
    return name_problem(name)


def token_pattern(string: str, op: str) -> re.Pattern[str]:
    """A dialect's tokens: spaces, numbers (``12``, ``1.5``, ``.5``, ``1e3``), its ``string``
    and ``op`` regular expressions, and names (a letter or ``_``, then letters, digits, ``_``)."""
    return re.compile(rf"""
        (?P<space>\s+)
      | (?P<number>(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
      | (?P<string>{string})
      | (?P<name>[^\W\d]\w*)
      | (?P<op>{op})""", re.VERBOSE)


def tokenize(source: str, pattern: re.Pattern[str], dialect: str,
             unescape: Callable[[str], str]) -> list[Token]:
    """Split ``source`` by ``pattern``, whose groups are ``space``, ``number``, ``string``,
    ``name`` and ``op``; a string's text goes through ``unescape`` (without its quotes)."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        match = pattern.match(source, pos)
        if match is None or match.end() == pos:
            _refuse_char(source, pos, dialect)
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "number":
            tokens.append(Token(kind, text, pos, _number(text, pos, dialect)))
        elif kind == "string":
            tokens.append(Token(kind, text, pos, unescape(text[1:-1])))
        elif kind != "space":
            tokens.append(Token(kind, text, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


def _number(text: str, pos: int, dialect: str) -> int | float:
    value = number(text)
    if value is None:
        shown = text if len(text) <= 20 else f"{text[:20]}…"
        raise ExpressionError(f"{dialect} 表达式中的数字 {shown} 过大（第 {pos + 1} 个字符）")
    return value


def _refuse_char(source: str, pos: int, dialect: str) -> NoReturn:
    char = source[pos]
    if char in "'\"":
        raise ExpressionError(
            f"{dialect} 表达式的文字常量缺少结束引号 {char}（第 {pos + 1} 个字符）")
    raise ExpressionError(f"{dialect} 表达式中有无法识别的字符 {char!r}（第 {pos + 1} 个字符）")


class Parser:
    """The cursor over one expression's tokens, and its limits."""

    dialect = ""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = self.previous = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.previous = self.index
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def untake(self) -> None:
        """Back to the token ``take`` gave last."""
        self.index = self.previous

    def at(self, *texts: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind in ("op", "name") and token.text in texts

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.take()
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            self.unexpected(f"这里应是 {text}")

    def unexpected(self, hint: str = "") -> NoReturn:
        token = self.peek()
        what = f"中有意外的 {token.text}" if token.kind != "end" else "意外地结束"
        self.fail(f"{what}{'，' + hint if hint else ''}", token)

    def fail(self, message: str, token: Token | None = None) -> NoReturn:
        where = f"（第 {(token or self.peek()).pos + 1} 个字符）"
        raise ExpressionError(f"{self.dialect} 表达式{message}{where}")

    @contextlib.contextmanager
    def nested(self) -> Iterator[None]:
        """One level deeper: refused past ``MAX_DEPTH``."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"嵌套过深（超过 {MAX_DEPTH} 层）")
        try:
            yield
        finally:
            self.depth -= 1

    def code(self, text: str, kind: str = CODE) -> Code:
        """A piece of output, refused if it is already longer than an expression may be."""
        if len(text) > MAX_SOURCE:
            self.fail(f"翻译后过长（超过 {MAX_SOURCE} 个字符），请拆成几个较短的条件")
        return Code(text, kind)

    def guard(self, template: str, operands: Sequence[Code], otherwise: str) -> Code:
        """``template`` (``{0}``, ``{1}``: the operands) as output, ``otherwise`` where an
        operand that may be None is None."""
        result = _guarded(template, operands, otherwise)
        self.code(result.text)
        return result

    def name(self, token: Token, problem: Callable[[str], str | None] = name_problem) -> str:
        """A name token's text, refused if it cannot be a name of the task data."""
        if token.kind != "name":
            self.fail(f"中这里应是变量名，而不是 {token.text or '结尾'}", token)
        message = problem(token.text)
        if message:
            self.fail(f"：{message}", token)
        return token.text


def checked(dialect: str, output: str) -> str:
    """The translation, if engine.expressions accepts it (its node limit, for one)."""
    problem = check_expression(output)
    if problem:
        raise ExpressionError(f"{dialect} 表达式翻译后不被接受: {problem}")
    return output


def source_checked(dialect: str, source: str) -> str:
    if len(source) > MAX_SOURCE:
        raise ExpressionError(f"{dialect} 表达式过长（超过 {MAX_SOURCE} 个字符）")
    return source.strip()
