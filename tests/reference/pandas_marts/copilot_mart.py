"""copilot_mart: compact daily sales per country x category x SKU with a readable description.

Custom attributes: the lines' dimensions (region, segment, ...) split the rows (one per combination
that sold), their measures (profit, ...) are summed; the catalogue's attributes are joined by SKU.
"""

from __future__ import annotations

import pandas as pd

from marts import attributes
from marts.schema import conform
from tests.reference.pandas_marts import fx
from tests.reference.pandas_marts.sales import categories, unconverted, with_category

NAME = "copilot_mart"


def build(facts: pd.DataFrame, products: pd.DataFrame, factors: pd.DataFrame, reporting: str) -> pd.DataFrame:
    """Only SKU-days with order lines. Description from the catalogue, else the day's last line text."""
    converted = fx.to_reporting(facts, "amount", factors)
    facts = facts.assign(amount_reporting=converted, unconverted=unconverted(converted))
    dimensions, measures = attributes.split(facts)
    grouped = facts.groupby(["date", "country", "sku", *dimensions], sort=True, dropna=False)
    frame = grouped.agg(
        units=("qty", "sum"),
        revenue_reporting=("amount_reporting", "sum"),
        unconverted=("unconverted", "sum"),
        orders=("sale_order", "nunique"),
        line_description=("description", "last"),  # last non-null of the day, lines in order
    )
    frame = attributes.with_sums(frame, grouped, measures).reset_index()
    frame["revenue_reporting"] = frame["revenue_reporting"].where(frame["unconverted"] == 0)
    catalogue = categories(products).set_index("sku")["description"]
    frame["description"] = frame["sku"].map(catalogue)
    frame["description"] = frame["description"].where(frame["description"].notna(), frame["line_description"])
    frame["category"] = with_category(frame, products)
    frame = attributes.join(frame, attributes.by_key(products, "products", "sku"), "sku")
    return conform(frame, NAME, reporting)
