"""Evaluate a contract's derived-column expression over a batch, column by column (numpy and Arrow kernels).

The tree comes from `retail_platform.contracts.expressions`, already checked when the contract loaded; nothing
here calls `eval`. A missing input gives a missing result; a row where the expression fails (a source cell that
is not a number, a division by zero, an overflow) gets a message and a missing result, and its row is handled
by the column's `parse` action (quarantine by default), e.g.
`unit_price: expression 'Sales / Quantity' failed: division by zero`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from curation.arrowcols import as_strings
from retail_platform.contracts.expressions import NUMBER, TEXT, Binary, Call, Column, Expression, Literal, Negate, Node

_NO_SEPARATOR = pa.scalar("", type=pa.large_string())  # text is large_string throughout (one kernel signature)


@dataclass
class Derived:
    """An expression's result: numbers (Float64) or text (Arrow strings), and the rows where it failed."""

    values: pd.Series
    failed: np.ndarray  # bool per row
    messages: list[str]  # one per failed row, in row order


@dataclass
class _Value:
    kind: str  # number | text | any (a source column's cells, typed by their use)
    numbers: np.ndarray | None = None  # float64, NaN = missing
    text: pa.Array | None = None


class _Evaluation:
    def __init__(
        self,
        n: int,
        column: Callable[[str], pd.Series],
        parse_numbers: Callable[[pd.Series], np.ndarray],
        shown: Callable[[object], str],
    ) -> None:
        self.n = n
        self.column = column
        self.parse_numbers = parse_numbers
        self.shown = shown
        self.errors = np.full(n, None, dtype=object)  # the first failure of each row

    def fail(self, mask: np.ndarray, message: str | np.ndarray) -> None:
        new = mask & np.equal(self.errors, None)
        if new.any():
            self.errors[new] = message if isinstance(message, str) else message[new]

    # --- conversions ---------------------------------------------------------------------------------
    def numbers(self, value: _Value, label: str) -> np.ndarray:
        if value.numbers is not None:
            return value.numbers
        if value.kind == TEXT:  # checked at load: text never reaches arithmetic
            raise TypeError("text in arithmetic")
        cells = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([value.text.cast(pa.string())])))
        parsed = self.parse_numbers(cells)
        bad = cells.notna().to_numpy(dtype=bool) & np.isnan(parsed)
        if bad.any():
            messages = np.full(self.n, None, dtype=object)
            positions = np.flatnonzero(bad)
            texts = value.text.take(pa.array(positions)).to_pylist()
            messages[positions] = [f"{label} is not a number ({self.shown(t)!r})" for t in texts]
            self.fail(bad, messages)
        return parsed

    @staticmethod
    def text(value: _Value) -> pa.Array:
        if value.text is not None:
            return value.text
        numbers = value.numbers if value.numbers is not None else np.array([])
        return pa.array(numbers, type=pa.float64(), from_pandas=True).cast(pa.large_string())

    # --- nodes ---------------------------------------------------------------------------------------
    def evaluate(self, node: Node) -> _Value:
        if isinstance(node, Literal):
            if node.kind == NUMBER:
                return _Value(NUMBER, numbers=np.full(self.n, float(node.value)))
            return _Value(TEXT, text=pa.array(np.full(self.n, node.value, dtype=object), type=pa.large_string()))
        if isinstance(node, Column):
            return _Value("any", text=as_strings(self.column(node.name)).cast(pa.large_string()))
        if isinstance(node, Negate):
            return _Value(NUMBER, numbers=-self.numbers(self.evaluate(node.operand), _label(node.operand)))
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(f"unknown expression node {type(node).__name__}")

    def binary(self, node: Binary) -> _Value:
        left, right = self.evaluate(node.left), self.evaluate(node.right)
        if node.op == "concat":
            joined = pc.binary_join_element_wise(
                self.text(left), self.text(right), _NO_SEPARATOR, null_handling="emit_null"
            )
            return _Value(TEXT, text=joined)
        a = self.numbers(left, _label(node.left))
        b = self.numbers(right, _label(node.right))
        with np.errstate(all="ignore"):
            if node.op == "+":
                out = a + b
            elif node.op == "-":
                out = a - b
            elif node.op == "*":
                out = a * b
            else:
                zero = (b == 0) & ~np.isnan(a)
                self.fail(zero, "division by zero")
                out = np.where(zero, np.nan, a / np.where(zero, 1.0, b))
        return _Value(NUMBER, numbers=out)

    def formatted(self, value: _Value, source: Node, percent: bool) -> np.ndarray:
        """Cells written as money or percents ('$1,706', '-$383', '20%') read as numbers; a percent as a fraction."""
        if value.numbers is None and value.text is not None:
            symbols = "[$\u20ac\u00a3\u00a5\\s%]" if percent else "[$\u20ac\u00a3\u00a5\\s]"  # $ € £ ¥, spaces
            value = _Value(value.kind, text=pc.replace_substring_regex(value.text, symbols, ""))
        numbers = self.numbers(value, _label(source))
        return numbers / 100.0 if percent else numbers

    def call(self, node: Call) -> _Value:
        args = [self.evaluate(a) for a in node.args]
        name = node.function
        if name == "round":
            digits = int(node.args[1].value) if len(node.args) == 2 else 0  # type: ignore[attr-defined]
            return _Value(NUMBER, numbers=np.round(self.numbers(args[0], _label(node.args[0])), digits))
        if name == "abs":
            return _Value(NUMBER, numbers=np.abs(self.numbers(args[0], _label(node.args[0]))))
        if name in ("number", "percent"):
            return _Value(NUMBER, numbers=self.formatted(args[0], node.args[0], percent=name == "percent"))
        if name in ("lower", "upper", "trim"):
            kernel = {"lower": pc.utf8_lower, "upper": pc.utf8_upper, "trim": pc.utf8_trim_whitespace}[name]
            return _Value(TEXT, text=kernel(self.text(args[0])))
        if name == "concat":
            texts = [self.text(a) for a in args]
            joined = pc.binary_join_element_wise(*texts, _NO_SEPARATOR, null_handling="replace", null_replacement="")
            return _Value(TEXT, text=joined)
        if node.kind == NUMBER:  # coalesce of numbers
            out = self.numbers(args[0], _label(node.args[0]))
            for arg, sub in zip(args[1:], node.args[1:], strict=True):
                out = np.where(np.isnan(out), self.numbers(arg, _label(sub)), out)
            return _Value(NUMBER, numbers=out)
        return _Value(node.kind, text=pc.coalesce(*[self.text(a) for a in args]))


def _label(node: Node) -> str:
    return node.name if isinstance(node, Column) else "a part of it"


def evaluate(
    expression: Expression,
    target: str,
    column: Callable[[str], pd.Series],
    parse_numbers: Callable[[pd.Series], np.ndarray],
    shown: Callable[[object], str],
    index: pd.Index,
) -> Derived:
    """The expression over the batch's rows: `column(name)` gives a source column's cells, `parse_numbers` reads
    them as numbers with the contract's separators, `shown` masks values for messages."""
    run = _Evaluation(len(index), column, parse_numbers, shown)
    value = run.evaluate(expression.tree)
    if value.kind == NUMBER:
        numbers = run.numbers(value, "")
        overflow = np.isinf(numbers)
        run.fail(overflow, "the result is not a finite number")
        failed = ~np.equal(run.errors, None)
        missing = np.isnan(numbers) | failed
        values = pd.Series(pd.arrays.FloatingArray(np.where(missing, 0.0, numbers), missing), index=index)
    else:
        failed = ~np.equal(run.errors, None)
        text = run.text(value)
        if failed.any():
            text = pc.if_else(pa.array(failed), pa.scalar(None, type=pa.large_string()), text)
        values = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([text.cast(pa.string())])), index=index)
    positions = np.flatnonzero(failed)
    prefix = f"{target}: expression {expression.text!r} failed: "
    return Derived(values, failed, [prefix + str(m) for m in run.errors[positions]])
