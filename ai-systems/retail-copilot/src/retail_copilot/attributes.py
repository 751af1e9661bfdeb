"""Custom attributes of the prod datasets (issue #15, interfaces #1/#4): which extra columns are dimensions
(strings: region, segment, sub_category, ...) and which are measures (numbers: profit, cost, discount, ...), how a
question names them, and the reporting currency the amounts are in.

Any column of copilot_mart that is not one of its canonical columns is a custom attribute. Names are snake_case
(validated when the contract loads), so a name maps to words ("sub_category" -> "sub category", "sub-category",
"subcategories").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

# columns of copilot_mart / customer_transactions that are not custom attributes
CANONICAL = frozenset(
    {
        "date",
        "country",
        "category",
        "sku",
        "description",
        "units",
        "revenue_reporting",
        "orders",
        "order_id",
        "customer_id",
        "order_ts",
        "revenue",
        "currency",
        "n_lines",
        "is_cancellation",
        "reporting_currency",
        "unconverted",
        "line_description",
    }
)
MAX_VALUES = 2000  # values per dimension the parser learns to recognise (more: groupable, not nameable)
ISO_CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Attributes:
    """The custom dimensions and measures of a frame, in column order."""

    dimensions: tuple[str, ...]
    measures: tuple[str, ...]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Attributes:
        dimensions, measures = [], []
        for column in frame.columns:
            name = str(column)
            if name in CANONICAL or name.startswith("_") or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                continue
            dtype = frame[column].dtype
            if pd.api.types.is_bool_dtype(dtype):
                dimensions.append(name)
            elif pd.api.types.is_numeric_dtype(dtype):
                measures.append(name)
            elif pd.api.types.is_datetime64_any_dtype(dtype):
                continue  # a date attribute is neither a dimension nor a measure here
            else:
                dimensions.append(name)
        return cls(tuple(dimensions), tuple(measures))

    @property
    def has_profit(self) -> bool:
        return "profit" in self.measures or "cost" in self.measures

    @property
    def has_margin(self) -> bool:
        return self.has_profit or "margin" in self.measures


def display(name: str) -> str:
    """'sub_category' -> 'sub category'."""
    return name.replace("_", " ")


def plural(word: str) -> str:
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|x|ch|sh)$", word):
        return word + "es"
    return word + "s"


def name_pattern(name: str) -> str:
    """A regex (no groups) for the ways a question writes a column name: separators optional, last word plural."""
    parts = name.split("_")
    last = parts[-1]
    forms = sorted({last, plural(last)}, key=len, reverse=True)
    head = "".join(re.escape(p) + r"[\s_-]?" for p in parts[:-1])
    return rf"\b{head}(?:{'|'.join(re.escape(f) for f in forms)})\b"


def currency_label(frame: pd.DataFrame, fallback: str | None) -> str:
    """The ISO code amounts are in: the data's own `reporting_currency` column (interfaces #5) when it names one
    currency, else the configured one; '' when neither is known (AUTO and no column), so no wrong code is shown."""
    if "reporting_currency" in frame.columns and not frame.empty:
        codes = frame["reporting_currency"].dropna().astype(str).str.strip().str.upper().unique()
        codes = [c for c in codes if ISO_CODE.match(c)]
        if len(codes) == 1:
            return codes[0]
    code = (fallback or "").strip().upper()
    return code if ISO_CODE.match(code) else ""
