"""daily_sales: net sales per day x SKU x country with the shelf price, promotion and stock of that day.

Custom attributes: the lines' measures summed per SKU-day, the catalogue's attributes joined by SKU (line
dimensions would split the series the forecasts read, so they are not carried here).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marts import attributes
from marts.schema import conform
from tests.reference.pandas_marts import fx
from tests.reference.pandas_marts.sales import sku_day

NAME = "daily_sales"
KEYS = ["date", "sku", "country", "currency"]


def _prices(prices: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": prices["_date"],
            "sku": prices["sku"],
            "country": prices["country"],
            "currency": prices["currency"],
            "price": prices["price"],
            "price_promo": prices["promo_flag"].fillna(False).astype(bool),
        }
    )


def _stock(inventory: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": inventory["_date"],
            "sku": inventory["sku"],
            "country": inventory["location"],
            "on_hand": inventory["on_hand"],
        }
    )


def build(
    facts: pd.DataFrame,
    prices: pd.DataFrame,
    inventory: pd.DataFrame,
    factors: pd.DataFrame,
    reporting: str,
    products: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Union of SKU-days that sold, had a shelf price or a stock snapshot; zero measures where nothing sold.

    `facts`: `sales.line_facts` of the order lines; `factors`: `fx.daily_factors` covering every date;
    `products`: the curated catalogue (its attributes), if read.
    """
    sold = sku_day(facts)
    frame = sold.merge(_prices(prices), on=KEYS, how="outer")
    stock = _stock(inventory)
    frame = frame.merge(stock, on=["date", "sku", "country"], how="outer")
    if frame["currency"].isna().any():  # stock-only rows: the currency the country sold or priced in that day
        known = (
            frame.dropna(subset=["currency"])
            .groupby(["date", "country"], as_index=False)["currency"]
            .min()
            .rename(columns={"currency": "_country_currency"})
        )
        frame = frame.merge(known, on=["date", "country"], how="left")
        frame["currency"] = frame["currency"].where(frame["currency"].notna(), frame["_country_currency"])

    for column in ("units", "gross_units", "revenue", "gross_revenue", "orders"):
        frame[column] = frame[column].fillna(0.0)
    line_promo = frame["line_promo"].astype("boolean").fillna(False)
    frame["promo_flag"] = line_promo | frame["price_promo"].astype("boolean").fillna(False)
    frame["avg_price"] = np.where(
        frame["gross_units"] > 0,
        frame["gross_revenue"] / frame["gross_units"].where(frame["gross_units"] > 0),
        np.nan,
    )
    frame["revenue_reporting"] = fx.to_reporting(frame, "revenue", factors)
    frame["stockout_flag"] = (frame["on_hand"] == 0).astype("boolean").where(frame["on_hand"].notna())
    if products is not None:
        frame = attributes.join(frame, attributes.by_key(products, "products", "sku"), "sku")
    return conform(frame, NAME, reporting)
