"""copilot_mart: compact daily sales per country x category x SKU with a readable description."""

from __future__ import annotations

import pandas as pd

from marts import fx
from marts.sales import categories, unconverted, with_category
from marts.schema import conform

NAME = "copilot_mart"


def build(facts: pd.DataFrame, products: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """Only SKU-days with order lines. Description from the catalogue, else the day's last line text."""
    converted = fx.to_reporting(facts, "amount", factors)
    facts = facts.assign(amount_reporting=converted, unconverted=unconverted(converted))
    grouped = facts.groupby(["date", "country", "sku"], sort=True, dropna=False)
    frame = grouped.agg(
        units=("qty", "sum"),
        revenue_reporting=("amount_reporting", "sum"),
        unconverted=("unconverted", "sum"),
        orders=("sale_order", "nunique"),
        line_description=("description", "last"),  # last non-null of the day, lines in order
    ).reset_index()
    frame["revenue_reporting"] = frame["revenue_reporting"].where(frame["unconverted"] == 0)
    catalogue = categories(products).set_index("sku")["description"]
    frame["description"] = frame["sku"].map(catalogue)
    frame["description"] = frame["description"].where(frame["description"].notna(), frame["line_description"])
    frame["category"] = with_category(frame, products)
    return conform(frame, NAME)
