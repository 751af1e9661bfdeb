"""Derived-column expressions: a small, safe language over source columns, checked when a contract loads.

`{expr: "Sales / Quantity"}` is parsed with Python's `ast` and rebuilt into a whitelist of node types:
numeric and string literals, source column names (back-quoted when they are not identifiers:
`` `Sub-Category` ``), `+ - * /`, unary minus, parentheses and the functions in FUNCTIONS. Anything
else (attribute access, subscripts, lambdas, comprehensions, `**`, comparisons, keyword arguments, names
of functions not listed) is refused with a message naming the construct. Nothing is ever evaluated by
Python: the pipeline evaluates the tree column by column (curation/derived.py).

Each node has a static kind: "number", "text" or "any" (a source column, read as a number in arithmetic
and as text in string functions). `+` is string concatenation when one side is text, so
`Region + " / " + City` joins and `Sales + Profit` adds; mixing text and numbers in `+` is refused.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

from retail_platform.exceptions import PlatformError

MAX_LENGTH = 500  # characters of one expression
MAX_NODES = 100  # nodes of its tree
MAX_LITERAL = 1e15  # |numeric literal|
MAX_ROUND_DIGITS = 10

NUMBER, TEXT, ANY = "number", "text", "any"


class ExpressionError(PlatformError, ValueError):
    """An expression outside the language; the message says which construct and why."""


@dataclass(frozen=True)
class Node:
    kind: str


@dataclass(frozen=True)
class Column(Node):
    name: str


@dataclass(frozen=True)
class Literal(Node):
    value: float | str


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / or "concat"
    left: Node
    right: Node


@dataclass(frozen=True)
class Negate(Node):
    operand: Node


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Expression:
    text: str
    tree: Node
    columns: tuple[str, ...]  # source columns it reads, in order of first use

    @property
    def kind(self) -> str:
        return self.tree.kind


# name -> (min args, max args or None for any number)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "round": (1, 2),
    "abs": (1, 1),
    "lower": (1, 1),
    "upper": (1, 1),
    "trim": (1, 1),
    "concat": (1, None),
    "coalesce": (2, None),
    "number": (1, 1),  # formatted money as a number: "$1,706" -> 1706, "-$383" -> -383
    "percent": (1, 1),  # a percent as a fraction: "20%" -> 0.2
}
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def parse(text: str) -> Expression:
    """The checked tree of an expression, or ExpressionError saying what is not allowed."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("an expression must be a non-empty string")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
    source, quoted = _unquote_names(text)
    try:
        module = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise ExpressionError(f"not a valid expression: {getattr(e, 'msg', e)}") from None
    nodes = sum(1 for _ in ast.walk(module))
    if nodes > MAX_NODES:
        raise ExpressionError(f"expression has {nodes} parts, more than {MAX_NODES}")
    columns: list[str] = []
    tree = _build(module.body, quoted, columns)
    return Expression(text=text, tree=tree, columns=tuple(dict.fromkeys(columns)))


def _unquote_names(text: str) -> tuple[str, dict[str, str]]:
    """Replace back-quoted column names with placeholder identifiers (string literals are left alone)."""
    out: list[str] = []
    quoted: dict[str, str] = {}
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is not None:
            out.append(ch)
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise ExpressionError("unclosed back-quote in a column name")
            name = text[i + 1 : end]
            if not name.strip():
                raise ExpressionError("empty back-quoted column name")
            placeholder = f"_bq{len(quoted)}_"
            quoted[placeholder] = name
            out.append(f" {placeholder} ")
            i = end + 1
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out), quoted


def _build(node: ast.AST, quoted: dict[str, str], columns: list[str]) -> Node:
    if isinstance(node, ast.Constant):
        return _literal(node.value)
    if isinstance(node, ast.Name):
        name = quoted.get(node.id, node.id)
        columns.append(name)
        return Column(ANY, name)
    if isinstance(node, ast.BinOp):
        op = _OPERATORS.get(type(node.op))
        if op is None:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed (allowed: + - * /)")
        return _binary(op, _build(node.left, quoted, columns), _build(node.right, quoted, columns))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _build(node.operand, quoted, columns)
        if operand.kind == TEXT:
            raise ExpressionError("a sign cannot apply to text")
        return Negate(NUMBER, operand) if isinstance(node.op, ast.USub) else _as_number(operand)
    if isinstance(node, ast.Call):
        return _call(node, quoted, columns)
    raise ExpressionError(
        f"{type(node).__name__} is not allowed: use column names, numbers, 'text', + - * /, "
        f"parentheses and {', '.join(sorted(FUNCTIONS))}()"
    )


def _literal(value: object) -> Literal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ExpressionError(f"literal {value!r} is not allowed (numbers and 'text' only)")
    if isinstance(value, str):
        return Literal(TEXT, value)
    if not math.isfinite(value) or abs(value) > MAX_LITERAL:
        raise ExpressionError(f"number {value!r} is out of range (at most {MAX_LITERAL:g})")
    return Literal(NUMBER, float(value))


def _as_number(node: Node) -> Node:
    return node if node.kind == NUMBER else Binary(NUMBER, "+", node, Literal(NUMBER, 0.0))


def _binary(op: str, left: Node, right: Node) -> Binary:
    kinds = {left.kind, right.kind}
    if op == "+" and TEXT in kinds:
        if NUMBER in kinds:
            raise ExpressionError("cannot add text and a number: use concat() to join them")
        return Binary(TEXT, "concat", left, right)
    if TEXT in kinds:
        raise ExpressionError(f"operator {op} needs numbers, not text")
    return Binary(NUMBER, op, left, right)


def _call(node: ast.Call, quoted: dict[str, str], columns: list[str]) -> Call:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        what = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
        raise ExpressionError(f"function {what!r} is not allowed (allowed: {', '.join(sorted(FUNCTIONS))})")
    name = node.func.id
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise ExpressionError(f"{name}() takes positional arguments only")
    low, high = FUNCTIONS[name]
    if len(node.args) < low or (high is not None and len(node.args) > high):
        expected = f"{low}" if low == high else f"{low} to {high}" if high else f"at least {low}"
        raise ExpressionError(f"{name}() takes {expected} argument(s), got {len(node.args)}")
    args = tuple(_build(a, quoted, columns) for a in node.args)
    kinds = {a.kind for a in args}
    if name in ("round", "abs"):
        if args[0].kind == TEXT:
            raise ExpressionError(f"{name}() needs a number, not text")
        if len(args) == 2:
            digits = args[1]
            if not isinstance(digits, Literal) or digits.value != int(digits.value):
                raise ExpressionError("round()'s second argument must be a whole number literal")
            if not 0 <= digits.value <= MAX_ROUND_DIGITS:
                raise ExpressionError(f"round() keeps 0 to {MAX_ROUND_DIGITS} digits")
        return Call(NUMBER, name, args)
    if name in ("number", "percent"):
        if args[0].kind == TEXT:
            raise ExpressionError(f"{name}() reads a source column such as '$1,706' or '20%', not a text literal")
        return Call(NUMBER, name, args)
    if name in ("lower", "upper", "trim"):
        if args[0].kind == NUMBER:
            raise ExpressionError(f"{name}() needs text, not a number")
        return Call(TEXT, name, args)
    if name == "concat":
        return Call(TEXT, name, args)
    if {NUMBER, TEXT} <= kinds:
        raise ExpressionError("coalesce() cannot mix text and numbers")
    return Call(TEXT if TEXT in kinds else NUMBER if NUMBER in kinds else ANY, name, args)
