"""Order-line facts shared by the sales marts.

A line counts on the UTC day of its own timestamp, which is also the curated partition it lives in: a
cancellation (negative quantity) reduces net units on the day it was recorded. Partitions are therefore
self-contained, and rebuilding one day never needs another day's lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marts import attributes

UNCATEGORISED = "uncategorised"
LINE_CATEGORY = attributes.PREFIX + "category"  # a denormalised export's own category attribute


def line_facts(order_lines: pd.DataFrame) -> pd.DataFrame:
    """One row per curated order line with date, signed amount, sale-only measures and the lines' custom
    attributes (PREFIX-named)."""
    lines = order_lines.sort_values(["_date", "order_id", "line_no", "sku"], kind="mergesort", na_position="last")
    qty = lines["quantity"].fillna(0.0).to_numpy()
    amount = qty * lines["unit_price"].fillna(0.0).to_numpy()
    cancel = lines["is_cancellation"].fillna(False).to_numpy(dtype=bool)
    sale = ~cancel
    facts = pd.DataFrame(
        {
            "date": lines["_date"].to_numpy(),
            "order_id": lines["order_id"].to_numpy(),
            "line_no": lines["line_no"].to_numpy(),
            "order_ts": lines["order_ts"].to_numpy(),
            "sku": lines["sku"].to_numpy(),
            "description": lines["description"].to_numpy(),
            "country": lines["country"].to_numpy(),
            "currency": lines["currency"].to_numpy(),
            "customer_id": lines["customer_id"].to_numpy(),
            "is_cancellation": cancel,
            "promo": lines["promo_flag"].fillna(False).to_numpy(dtype=bool),
            "qty": qty,
            "amount": amount,
            "gross_qty": np.where(sale, qty, 0.0),
            "gross_amount": np.where(sale, amount, 0.0),
            "sale_order": np.where(sale, lines["order_id"].to_numpy(dtype=object), None),
            "sale_customer": np.where(sale, lines["customer_id"].to_numpy(dtype=object), None),
            "cancel_order": np.where(cancel, lines["order_id"].to_numpy(dtype=object), None),
        }
    )
    extra = attributes.prefixed(lines, "order_lines")
    if len(extra.columns):
        facts = pd.concat([facts, extra.reset_index(drop=True)], axis=1)
    return facts


def sku_day(facts: pd.DataFrame) -> pd.DataFrame:
    """Lines aggregated per date x sku x country x currency (net and gross measures, distinct orders, the
    lines' custom measures summed)."""
    keys = ["date", "sku", "country", "currency"]
    grouped = facts.groupby(keys, sort=True, dropna=False)
    out = grouped.agg(
        units=("qty", "sum"),
        gross_units=("gross_qty", "sum"),
        revenue=("amount", "sum"),
        gross_revenue=("gross_amount", "sum"),
        line_promo=("promo", "max"),
        orders=("sale_order", "nunique"),
    )
    return attributes.with_sums(out, grouped, attributes.split(facts)[1]).reset_index()


def unconverted(amount_reporting: pd.Series) -> pd.Series:
    """1 where an amount has no rate to the reporting currency: summed per group, any > 0 nulls the total
    (an understated total would pass for a real one)."""
    return amount_reporting.isna().astype("int64")


def categories(products: pd.DataFrame) -> pd.DataFrame:
    """sku -> category, description from the product catalogue (one row per SKU)."""
    return products[["sku", "category", "description"]].dropna(subset=["sku"]).drop_duplicates("sku", keep="last")


def with_category(frame: pd.DataFrame, products: pd.DataFrame) -> pd.Series:
    """The catalogue's category of each row's SKU, else the row's own `category` attribute (an export
    with no product catalogue), else UNCATEGORISED."""
    lookup = categories(products).set_index("sku")["category"]
    category = frame["sku"].map(lookup)
    if LINE_CATEGORY in frame:
        category = category.where(category.notna(), frame[LINE_CATEGORY])
    return category.fillna(UNCATEGORISED).astype(object)


def category_keys(facts: pd.DataFrame) -> list[str]:
    """Extra group keys that keep a line's own category through a per-SKU aggregation."""
    return [LINE_CATEGORY] if LINE_CATEGORY in facts else []


def week_start(dates: pd.Series) -> pd.Series:
    """The Monday starting each date's ISO week."""
    return (dates - pd.to_timedelta(dates.dt.weekday, unit="D")).astype("datetime64[ns]")
