"""country_kpis: daily orders, customers, units, revenue, AOV and cancellation rate per country."""

from __future__ import annotations

import numpy as np
import pandas as pd

from marts.schema import conform
from tests.reference.pandas_marts import fx

NAME = "country_kpis"


def build(facts: pd.DataFrame, factors: pd.DataFrame, reporting: str) -> pd.DataFrame:
    """`facts`: `sales.line_facts`. Cancellation rate = orders with a cancellation line that day / orders."""
    grouped = facts.groupby(["date", "country", "currency"], sort=True, dropna=False)
    frame = grouped.agg(
        orders=("sale_order", "nunique"),
        customers=("sale_customer", "nunique"),
        units=("qty", "sum"),
        revenue_local=("amount", "sum"),
        cancelled=("cancel_order", "nunique"),
    ).reset_index()
    frame["revenue_reporting"] = fx.to_reporting(frame, "revenue_local", factors)
    has_orders = frame["orders"] > 0
    per_order = frame["orders"].where(has_orders)
    frame["aov_reporting"] = np.where(has_orders, frame["revenue_reporting"] / per_order, np.nan)
    frame["cancellation_rate"] = np.where(has_orders, frame["cancelled"] / per_order, np.nan)
    return conform(frame, NAME, reporting)
