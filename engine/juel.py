"""JUEL (Camunda 7's ``${...}`` expressions) translated into the evaluator's Python.

The supported subset is what conditions are written with: variables and their paths
(``order.amount``, ``order['amount']``, ``items[0]``), literals, ``empty``, the arithmetic,
comparison and logical operators in both spellings (``&&``/``and``, ``gt``/``>``, ...) and
``? :``. A variable that does not exist fails the evaluation, as in Camunda 7; a missing
key of a variable's dict, or a missing list index, is null, as JUEL's map and list resolvers
give. A relational comparison with null is false (EL's rule). Method and function calls,
``instanceof`` and Camunda's Java objects (``execution``, ``task``, ...) are refused with
what to write instead.
"""

from __future__ import annotations

import re

from .errors import ExpressionError
from .syntax import (
    CODE,
    PATH,
    Code,
    Parser,
    Token,
    checked,
    is_null,
    key_problem,
    literal,
    python_name_problem,
    source_checked,
    token_pattern,
    tokenize,
)

DIALECT = "JUEL"

_STRING = r"'(?:[^'\\]|\\.)*'|" + r'"(?:[^"\\]|\\.)*"'
_PATTERN = token_pattern(_STRING, r"&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.\[\](),{}$#]")

_WORDS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=",
          "and": "&&", "or": "||", "not": "!", "div": "/", "mod": "%"}
"""JUEL's word operators, as their symbols."""

_BINARY = {"||": 2, "&&": 3, "==": 4, "!=": 4, "<": 5, ">": 5, "<=": 5, ">=": 5,
           "+": 6, "-": 6, "*": 7, "/": 7, "%": 7}
"""Binding power of each binary operator (all left-associative); ``? :`` binds at 1."""

_UNARY_POWER = 8
_LITERALS = {"true": True, "false": False, "null": None}
_CAMUNDA_OBJECTS = frozenset({
    "execution", "task", "variableScope", "processEngine", "processEngineServices",
    "authenticatedUserId", "connector", "externalTask", "caseExecution"})


def _unescape(text: str) -> str:
    """EL's escapes: ``\\'``, ``\\"`` and ``\\\\``; any other backslash stays as written."""
    return re.sub(r"\\(['\"\\])", r"\1", text)


def translate(source: str) -> str:
    """The evaluator's expression for a JUEL expression ``${...}`` or ``#{...}``; raises
    ExpressionError saying what is not supported and what to write instead."""
    text = source_checked(DIALECT, source)
    if not (text.startswith(("${", "#{")) and text.endswith("}")):
        raise ExpressionError("JUEL 表达式须写成 ${…} 或 #{…}，且只能有一个")
    parser = _JuelParser(_tokens(f"  {text[2:-1]}"))  # positions as in ``text``
    result = parser.expression()
    if parser.peek().kind != "end":
        parser.unexpected("只能有一个 ${…}，组合条件请用 && 或 ||")
    return checked(DIALECT, parser.operand(result).text)


def _tokens(inner: str) -> list[Token]:
    tokens = tokenize(inner, _PATTERN, DIALECT, _unescape)
    return [Token("op", _WORDS[t.text], t.pos) if t.kind == "name" and t.text in _WORDS else t
            for t in tokens]


class _JuelParser(Parser):
    dialect = DIALECT

    def expression(self, power: int = 0) -> Code:
        with self.nested():
            left = self.prefix()
            while True:
                if self.at("instanceof"):
                    self._instanceof()
                op = self.peek().text if self.peek().kind == "op" else ""
                if op == "?" and power < 1:
                    left = self.conditional(left)
                elif op in _BINARY and _BINARY[op] > power:
                    self.take()
                    left = self.binary(op, left, self.expression(_BINARY[op]))
                else:
                    return left

    def conditional(self, test: Code) -> Code:
        self.expect("?")
        yes = self.operand(self.expression(1))
        self.expect(":")
        no = self.operand(self.expression(0))
        return self.code(f"({yes.text} if {self.operand(test).text} else {no.text})")

    def binary(self, op: str, left: Code, right: Code) -> Code:
        a, b = self.operand(left), self.operand(right)
        if op in ("==", "!=") and (is_null(a) or is_null(b)):
            other = b if is_null(a) else a
            return self.code(f"({other.text} {'is' if op == '==' else 'is not'} None)")
        python = {"||": "or", "&&": "and"}.get(op, op)
        if op in ("<", ">", "<=", ">="):
            return self.guard(f"{{0}} {python} {{1}}", [a, b], "False")
        return self.code(f"({a.text} {python} {b.text})")

    def prefix(self) -> Code:
        token = self.peek()
        if token.kind == "op" and token.text in ("-", "!"):
            self.take()
            operand = self.operand(self.expression(_UNARY_POWER))
            return self.code(f"(-{operand.text})" if token.text == "-" else
                             f"(not {operand.text})")
        if token.kind == "name" and token.text == "empty":
            self.take()
            operand = self.operand(self.expression(_UNARY_POWER))
            return self.code(f"({operand.text} in (None, '', [], {{}}))")
        return self.postfix(self.primary())

    def primary(self) -> Code:
        token = self.take()
        if token.kind in ("number", "string"):
            return literal(token.value)
        if token.kind == "name" and token.text in _LITERALS:
            return literal(_LITERALS[token.text])
        if token.kind == "name":
            return self.variable(token)
        if token.text == "(":
            inner = self.operand(self.expression())
            self.expect(")")
            return inner
        self.untake()
        self.unexpected()

    def _instanceof(self) -> None:
        self.fail("的 instanceof 不受支持：流程变量只是数据（文字、数字、列表、字典），"
                  "请比较变量的值")

    def variable(self, token: Token) -> Code:
        if token.text == "instanceof":
            self._instanceof()
        prefixed = self.at(":") and self.peek(1).kind == "name" and self.at("(", offset=2)
        if self.at("(") or prefixed:
            self.fail(f"的函数调用 {token.text}(…) 不受支持：条件只能读取流程变量，请直接写变量名",
                      token)
        if token.text in _CAMUNDA_OBJECTS and not self.at("."):
            self.fail(f"的 Camunda 对象 {token.text} 不受支持：请直接写流程变量名", token)
        return Code(self.name(token, python_name_problem), PATH, (token.text, []))

    def postfix(self, value: Code) -> Code:
        while self.at(".", "[", "("):
            if value.kind != PATH:
                self.unexpected("只有变量名后面可以跟 . 或 […]")
            root, keys = value.value
            if self.at("("):
                self.method(root, keys)
            if self.accept("."):
                key = self.take()
                keys = [*keys, literal(self.name(key, key_problem))]
            else:
                self.take()
                keys = [*keys, self.operand(self.expression())]
                self.expect("]")
            value = Code(value.text, PATH, (root, keys))
        return value

    def method(self, root: str, keys: list[Code]) -> None:
        shown = ".".join([root, *(k.value if isinstance(k.value, str) else "[…]" for k in keys)])
        argument = self.peek(1)
        hint = "条件只能读取流程变量，请直接写变量名"
        if shown.endswith("getVariable") and argument.kind == "string":
            hint = f"请直接写变量名 {argument.value}"
        self.fail(f"的方法调用 {shown}(...) 不受支持：{hint}")

    def operand(self, value: Code) -> Code:
        """``value`` as output: a path becomes a lookup that fails if its variable is missing
        and gives None where a key or index is."""
        if value.kind != PATH:
            return value
        root, keys = value.value
        if root in _CAMUNDA_OBJECTS:
            self.fail(f"的 Camunda 对象 {root} 不受支持：请直接写流程变量名")
        if not keys:
            return Code(root, CODE)
        lookup = ", ".join([repr(root), *(k.text for k in keys)])
        return self.code(f"(data_get({lookup}) if {root} is not None else None)")

