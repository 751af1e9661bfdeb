"""customer_transactions: one row per order and day, sale lines and cancellation lines apart.

Custom attributes: a line dimension is the order's first non-null value (region, segment, ... are the
order's), a line measure is summed; the customers' attributes are joined by customer id.
"""

from __future__ import annotations

import pandas as pd

from marts import attributes
from marts.schema import conform
from tests.reference.pandas_marts import fx

NAME = "customer_transactions"


def build(
    facts: pd.DataFrame,
    orders: pd.DataFrame,
    factors: pd.DataFrame,
    reporting: str,
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`facts`: `sales.line_facts`; `orders`: curated order headers (fill a missing customer id, same day);
    `customers`: curated customers (their attributes), if read."""
    keys = ["date", "order_id", "is_cancellation"]
    dimensions, measures = attributes.split(facts)
    grouped = facts.groupby(keys, sort=True, dropna=False)
    frame = grouped.agg(
        customer_id=("customer_id", "first"),  # first non-null, lines in line_no order
        country=("country", "first"),
        currency=("currency", "first"),
        order_ts=("order_ts", "min"),
        units=("qty", "sum"),
        revenue=("amount", "sum"),
        n_lines=("qty", "size"),
    )
    frame = attributes.with_sums(attributes.with_firsts(frame, grouped, dimensions), grouped, measures).reset_index()
    headers = orders.loc[orders["customer_id"].notna(), ["_date", "order_id", "customer_id"]].rename(
        columns={"_date": "date", "customer_id": "header_customer_id"}
    )
    frame = frame.merge(headers, on=["date", "order_id"], how="left")
    frame["customer_id"] = frame["customer_id"].where(frame["customer_id"].notna(), frame["header_customer_id"])
    frame["revenue_reporting"] = fx.to_reporting(frame, "revenue", factors)
    if customers is not None:
        frame = attributes.join(frame, attributes.by_key(customers, "customers", "customer_id"), "customer_id")
    return conform(frame, NAME, reporting)
