"""FEEL (Camunda 8's ``=...`` expressions) translated into the evaluator's Python.

The supported subset is what conditions and small expressions are written with: variables
and paths (``order.amount``), literals (numbers, "strings", true, false, null, lists), the
comparisons, ``and``/``or``/``not(x)``, arithmetic, ``x in [a, b]``, ``x in [1..10]`` and the
other ranges, ``x in < 10``, ``x between a and b``, ``if c then a else b`` and a few built-in
functions mapped onto the evaluator's. FEEL's null is kept: a missing variable or key is
null (``data_get``), a comparison or arithmetic with null is null, ``not(null)`` is null,
and a condition that is null is not taken.
"""

from __future__ import annotations

import re
from typing import NoReturn

from .syntax import (
    LITERAL,
    Code,
    Parser,
    Token,
    checked,
    is_null,
    key_problem,
    literal,
    source_checked,
    token_pattern,
    tokenize,
)

DIALECT = "FEEL"

_PATTERN = token_pattern(r'"(?:[^"\\]|\\.)*"',
                         r"\.\.|\*\*|!=|<=|>=|[-+*/=<>.\[\](),{}:@']")

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "'": "'", "\\": "\\"}

_COMPARISONS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_BINARY = {"or": 1, "and": 2, **dict.fromkeys(_COMPARISONS, 3),
           "+": 4, "-": 4, "*": 5, "/": 5, "**": 6}
"""Binding power of each binary operator; ``between``, ``in`` and ``instance of`` bind as
the comparisons."""

_UNARY_POWER = 7
_LITERALS = {"true": True, "false": False, "null": None}

_MULTIWORD = ("string length", "starts with", "ends with", "upper case", "lower case",
              "list contains", "date and time", "substring before", "substring after",
              "is defined", "get value", "get entries", "index of", "distinct values",
              "day of week", "day of year", "month of year", "week of year", "string join",
              "years and months duration", "last day of month")
"""FEEL's built-in functions whose names have spaces (read as one name before ``(``)."""

_SUPPORTED = "count、sum、min、max、abs、string、string length、contains、starts with、" \
             "ends with、list contains、not"
_HINTS = {
    "upper case": "本引擎的表达式没有大小写转换，请直接比较原文",
    "lower case": "本引擎的表达式没有大小写转换，请直接比较原文",
    "is defined": "请写 x != null",
    "date": "日期时间请在表单或服务任务中处理，条件中比较已存好的值",
    "date and time": "日期时间请在表单或服务任务中处理，条件中比较已存好的值",
    "now": "日期时间请在表单或服务任务中处理，条件中比较已存好的值",
    "today": "日期时间请在表单或服务任务中处理，条件中比较已存好的值",
    "duration": "定时器的时长请用本引擎的 days(n)",
}
_REFUSED_WORDS = {
    "for": "的 for 循环不受支持：请在服务任务或脚本中计算好再比较",
    "some": "的 some … satisfies 不受支持：请写 x in [a, b] 或 list contains(…)",
    "every": "的 every … satisfies 不受支持：请在服务任务或脚本中计算好再比较",
    "function": "的函数定义不受支持",
}


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] == "u":
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, "\\" + code)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", one, text, flags=re.DOTALL)


def translate(source: str) -> str:
    """The evaluator's expression for a FEEL expression (with or without its leading ``=``);
    raises ExpressionError saying what is not supported and what to write instead."""
    text = source_checked(DIALECT, source)
    text = f" {text[1:]}" if text.startswith("=") else text  # positions as in ``text``
    parser = _FeelParser(tokenize(text, _PATTERN, DIALECT, _unescape))
    if parser.peek().kind == "end":
        parser.fail("是空的")
    result = parser.expression()
    if parser.peek().kind != "end":
        parser.unexpected()
    return checked(DIALECT, result.text)


class _FeelParser(Parser):
    dialect = DIALECT

    def expression(self, power: int = 0) -> Code:
        with self.nested():
            left = self.prefix()
            while True:
                token = self.peek()
                op = token.text if token.kind in ("op", "name") else ""
                if op in ("between", "in", "instance") and power < 3:
                    left = self.test(left)
                elif op in _BINARY and _BINARY[op] > power:
                    self.take()
                    right = self.expression(_BINARY[op] if op not in _COMPARISONS else 3)
                    left = self.binary(op, left, right)
                else:
                    return left

    def binary(self, op: str, a: Code, b: Code) -> Code:
        if op in ("and", "or"):
            return self.code(f"({a.text} {op} {b.text})")
        if op in ("=", "!=") and (is_null(a) or is_null(b)):
            other = b if is_null(a) else a
            return self.code(f"({other.text} {'is' if op == '=' else 'is not'} None)")
        if op in ("=", "!="):
            return self.code(f"({a.text} {_COMPARISONS[op]} {b.text})")
        return self.guard(f"{{0}} {_COMPARISONS.get(op, op)} {{1}}", [a, b], "None")

    def test(self, value: Code) -> Code:
        """``x between a and b``, ``x in …``; ``instance of`` is refused."""
        word = self.take()
        if word.text == "instance":
            self.fail("的 instance of 不受支持：流程变量只是数据，请比较变量的值", word)
        if word.text == "between":
            low = self.expression(3)
            self.expect("and")
            high = self.expression(3)
            return self.guard("{1} <= {0} <= {2}", [value, low, high], "None")
        return self.membership(value)

    def membership(self, value: Code) -> Code:
        if self.at("<", "<=", ">", ">="):
            op = self.take().text
            return self.binary(op, value, self.expression(3))
        if self.at("[", "(", "]"):
            return self.bracketed(value)
        other = self.expression(3)
        if other.kind == LITERAL:
            return self.binary("=", value, other)
        return self.guard(f"{value.text} in {{0}}", [other], "None")

    def bracketed(self, value: Code) -> Code:
        opening = self.take()
        if self.at("]", ")") and opening.text == "[":
            self.take()
            return literal(False)
        first = self.expression()
        if self.accept(".."):
            return self.range(value, opening.text, first)
        items = [first]
        while self.accept(","):
            items.append(self.expression())
        self.expect("]" if opening.text == "[" else ")")
        if opening.text == "]":
            self.fail("中的区间缺少 ..", opening)
        listed = self.code(f"[{', '.join(item.text for item in items)}]")
        return self.code(f"({value.text} in {listed.text})")

    def range(self, value: Code, opening: str, low: Code) -> Code:
        high = self.expression()
        closing = self.take()
        if closing.text not in ("]", ")", "["):
            self.untake()
            self.unexpected("区间应以 ]、) 或 [ 结束")
        left = "<=" if opening == "[" else "<"
        right = "<=" if closing.text == "]" else "<"
        return self.guard(f"{{1}} {left} {{0}} {right} {{2}}", [value, low, high], "None")

    def prefix(self) -> Code:
        if self.accept("-"):
            operand = self.expression(_UNARY_POWER)
            return self.guard("-{0}", [operand], "None")
        if self.at("if"):
            return self.conditional()
        return self.primary()

    def conditional(self) -> Code:
        self.take()
        test = self.expression()
        self.expect("then")
        yes = self.expression()
        self.expect("else")
        no = self.expression()
        return self.code(f"({yes.text} if {test.text} is True else {no.text})")

    def primary(self) -> Code:
        token = self.take()
        if token.kind in ("number", "string"):
            return literal(token.value)
        if token.kind == "name":
            return self.named(token)
        if token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if token.text == "[":
            return self.listed()
        self.refuse_symbol(token)

    def refuse_symbol(self, token: Token) -> NoReturn:
        if token.text == "{":
            self.fail("的上下文 {…} 不受支持：请把数据存为流程变量后按路径读取，如 order.amount",
                      token)
        if token.text == "@":
            self.fail("的日期时间字面量 @\"…\" 不受支持：日期时间请在表单或服务任务中处理", token)
        if token.text == "'":
            self.fail("的文字常量须用双引号 \"…\"", token)
        self.untake()
        self.unexpected()

    def listed(self) -> Code:
        items: list[Code] = []
        while not self.accept("]"):
            if items:
                self.expect(",")
            items.append(self.expression())
        return self.code(f"[{', '.join(item.text for item in items)}]")

    def named(self, token: Token) -> Code:
        if token.text in _LITERALS:
            return literal(_LITERALS[token.text])
        if token.text in _REFUSED_WORDS:
            self.fail(_REFUSED_WORDS[token.text], token)
        function = self.function_name(token)
        if function:
            return self.call(function, token)
        keys = [self.name(token)]
        while self.accept("."):
            keys.append(self.name(self.take(), key_problem))
        if self.at("["):
            self.fail(f"的列表过滤或下标 {'.'.join(keys)}[…] 不受支持：请在服务任务中取出需要的值")
        if self.at("("):
            self.fail(f"的方法调用 {'.'.join(keys)}(…) 不受支持")
        return self.code(f"data_get({', '.join(repr(k) for k in keys)})")

    def function_name(self, token: Token) -> str | None:
        """The built-in function named from ``token`` on (one or more words) if a ``(``
        follows; its other words are taken."""
        for words in sorted((w.split() for w in _MULTIWORD), key=len, reverse=True):
            if words[0] == token.text and all(
                    self.at(word, offset=i) for i, word in enumerate(words[1:])) \
                    and self.at("(", offset=len(words) - 1):
                self.index += len(words) - 1
                return " ".join(words)
        return token.text if self.at("(") else None

    def call(self, function: str, token: Token) -> Code:
        self.expect("(")
        args: list[Code] = []
        while not self.accept(")"):
            if args:
                self.expect(",")
            if self.peek().kind == "name" and self.at(":", offset=1):
                self.fail(f"的命名参数不受支持：请按位置写 {function}(…) 的参数")
            args.append(self.expression())
        return self.builtin(function, args, token)

    def builtin(self, function: str, args: list[Code], token: Token) -> Code:
        template = _builtin_template(function, len(args))
        if template is None:
            hint = _HINTS.get(function, f"可用的函数有 {_SUPPORTED}")
            self.fail(f"的函数 {function}(…)（{len(args)} 个参数）不受支持：{hint}", token)
        return self.guard(template, args, "None")


_ONE = {"count": "len({0})", "string length": "len({0})", "abs": "abs({0})",
        "string": "str({0})", "not": "not {0}"}
_TWO = {"contains": "{1} in {0}", "list contains": "{1} in {0}",
        "starts with": "{0}[:len({1})] == {1}", "ends with": "{0}[len({0}) - len({1}):] == {1}"}


def _builtin_template(function: str, count: int) -> str | None:
    """The Python for a FEEL built-in function's call with ``count`` arguments (``{0}``,
    ``{1}``, ...), or None if it has no equivalent."""
    if count == 1 and function in _ONE:
        return _ONE[function]
    if count == 2 and function in _TWO:
        return _TWO[function]
    if function in ("sum", "min", "max") and count:
        listed = ", ".join(f"{{{i}}}" for i in range(count))
        return f"{function}({{0}})" if count == 1 else f"{function}([{listed}])"
    return None
