"""The derived-column expression language: what it accepts, what it refuses at load, how it evaluates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curation import derived
from curation.coercion import shown
from retail_platform.contracts.expressions import ExpressionError, parse


@pytest.mark.parametrize(
    ("text", "columns", "kind"),
    [
        ("Sales / Quantity", ("Sales", "Quantity"), "number"),
        ("round(Sales / (Quantity * (1 - Discount)), 2)", ("Sales", "Quantity", "Discount"), "number"),
        ("`Sub-Category` + ' / ' + Category", ("Sub-Category", "Category"), "text"),
        ("concat(City, ', ', `State Name`)", ("City", "State Name"), "text"),
        ("coalesce(Net, Gross)", ("Net", "Gross"), "any"),
        ("coalesce(Net, 0)", ("Net",), "number"),
        ("-abs(Profit)", ("Profit",), "number"),
        ("lower(trim(Segment))", ("Segment",), "text"),
        ("'a`b' + Name", ("Name",), "text"),  # a back-quote inside a string literal is text, not a name
    ],
)
def test_accepted_expressions_name_their_columns_and_kind(text, columns, kind):
    expression = parse(text)
    assert expression.columns == columns and expression.kind == kind


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "function '__import__' is not allowed"),
        ("Sales.real", "Attribute is not allowed"),
        ("(lambda: 1)()", "not allowed"),
        ("lambda x: x", "Lambda is not allowed"),
        ("2 ** 99999999", "operator Pow is not allowed"),
        ("Sales ** 2", "operator Pow is not allowed"),
        ("Sales[0]", "Subscript is not allowed"),
        ("[x for x in Sales]", "ListComp is not allowed"),
        ("Sales if Sales else 0", "IfExp is not allowed"),
        ("Sales > 0", "Compare is not allowed"),
        ("open('/etc/passwd')", "function 'open' is not allowed"),
        ("round(Sales, ndigits=2)", "positional arguments only"),
        ("round(Sales, Digits)", "whole number literal"),
        ("round(Sales, 99)", "0 to 10 digits"),
        ("abs()", "takes 1 argument"),
        ("1e999 * Sales", "out of range"),
        ("10000000000000000 * Sales", "out of range"),
        ("'x' + 1", "cannot add text and a number"),
        ("'x' * 3", "needs numbers, not text"),
        ("upper(1)", "needs text, not a number"),
        ("coalesce('a', 1)", "cannot mix"),
        ("Sales Quantity", "not a valid expression"),
        ("`Sub-Category", "unclosed back-quote"),
        ("True + Sales", "literal True is not allowed"),
        ("", "non-empty"),
        ("x" * 501, "longer than 500"),
        ("abs(" * 90 + "Sales" + ")" * 90, "more than 100"),
        ("+".join(["Sales"] * 60), "more than 100"),
    ],
)
def test_everything_else_is_refused_with_the_construct_named(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse(text)


def _evaluate(text: str, frame: pd.DataFrame, decimal: str = "."):
    cells = frame.astype("string[pyarrow]")

    def numbers(series: pd.Series) -> np.ndarray:
        text = series.astype(object).where(series.notna(), None)
        cleaned = text.map(lambda v: None if v is None else v.replace(decimal, "."))
        return pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float)

    return derived.evaluate(parse(text), "field", lambda c: cells[c], numbers, shown, cells.index)


def test_arithmetic_fails_per_row_with_the_reason_and_keeps_missing_inputs_missing():
    frame = pd.DataFrame({"Sales": ["10", "5", "abc", None, "1e308"], "Quantity": ["4", "0", "2", "2", "0.1"]})
    result = _evaluate("Sales / Quantity", frame)
    assert result.values.iloc[0] == 2.5 and result.values.iloc[1:].isna().all()
    assert result.failed.tolist() == [False, True, True, False, True]
    assert result.messages == [
        "field: expression 'Sales / Quantity' failed: division by zero",
        "field: expression 'Sales / Quantity' failed: Sales is not a number ('abc')",
        "field: expression 'Sales / Quantity' failed: the result is not a finite number",
    ]


def test_text_functions_concatenation_and_coalesce():
    frame = pd.DataFrame(
        {"City": [" Henderson", "Seattle", None], "State": ["KY", None, "TX"], "Net": [None, "2", "3"]}
    )
    joined = _evaluate("upper(trim(City)) + '-' + State", frame).values
    assert joined.tolist()[0] == "HENDERSON-KY" and joined.isna().tolist()[1:] == [True, True]  # + keeps missing
    assert _evaluate("concat(City, ', ', State)", frame).values.tolist() == [" Henderson, KY", "Seattle, ", ", TX"]
    assert _evaluate("coalesce(Net, 0) * 2", frame).values.tolist() == [0.0, 4.0, 6.0]
    assert _evaluate("coalesce(Net, State)", frame).values.tolist() == ["KY", "2", "3"]


def test_round_abs_and_contract_decimals():
    frame = pd.DataFrame({"Sales": ["957,5775", "-22,368"], "Quantity": ["5", "2"], "Discount": ["0,45", "0,2"]})
    result = _evaluate("round(abs(Sales) / (Quantity * (1 - Discount)), 2)", frame, decimal=",")
    assert result.values.tolist() == [348.21, 13.98]  # 957.5775 / 2.75 and 22.368 / 1.6
