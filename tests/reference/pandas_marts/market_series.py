"""market_series: weekly net sales per category x country, with country "ALL" and category "ALL" totals.

The category is the catalogue's, else the lines' own `category` attribute (a denormalised export).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marts.schema import conform
from tests.reference.pandas_marts import fx
from tests.reference.pandas_marts.sales import category_keys, unconverted, week_start, with_category

NAME = "market_series"
ALL = "ALL"


def build(facts: pd.DataFrame, products: pd.DataFrame, factors: pd.DataFrame, reporting: str) -> pd.DataFrame:
    """`facts` must hold every day of each week wanted (a partial week gives a partial total)."""
    converted = fx.to_reporting(facts, "amount", factors)
    facts = facts.assign(amount_reporting=converted, unconverted=unconverted(converted))
    daily = (
        facts.groupby(["date", "sku", "country", *category_keys(facts)], sort=False, dropna=False)
        .agg(
            units=("qty", "sum"),
            gross_units=("gross_qty", "sum"),
            revenue_reporting=("amount_reporting", "sum"),
            unconverted=("unconverted", "sum"),
        )
        .reset_index()
    )
    daily["week"] = week_start(daily["date"])
    daily["category"] = with_category(daily, products)
    daily["sold_sku"] = daily["sku"].where(daily["gross_units"] > 0)

    levels = []
    for category_all, country_all in ((False, False), (False, True), (True, False), (True, True)):
        level = daily[["week", "category", "country", "units", "revenue_reporting", "unconverted", "sold_sku"]].copy()
        if category_all:
            level["category"] = ALL
        if country_all:
            level["country"] = ALL
        levels.append(level)
    stacked = pd.concat(levels, ignore_index=True)
    frame = (
        stacked.groupby(["week", "category", "country"], sort=True, dropna=False)
        .agg(
            units=("units", "sum"),
            revenue_reporting=("revenue_reporting", "sum"),
            unconverted=("unconverted", "sum"),
            n_skus=("sold_sku", "nunique"),
        )
        .reset_index()
        .rename(columns={"week": "date"})
    )
    frame["revenue_reporting"] = frame["revenue_reporting"].where(frame["unconverted"] == 0)
    positive = frame["units"] > 0
    frame["avg_price_reporting"] = np.where(
        positive, frame["revenue_reporting"] / frame["units"].where(positive), np.nan
    )
    return conform(frame, NAME, reporting)
