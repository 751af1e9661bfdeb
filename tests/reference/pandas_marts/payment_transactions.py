"""payment_transactions: payments with their order's header and sale total, for fraud features.

The order is looked up within ORDER_WINDOW_DAYS of the payment's day (payments follow their order by
seconds to minutes; a declined first attempt can precede it), so a payment partition depends only on
the order partitions around it and an incremental rebuild gives what a full rebuild gives.
The card number is never carried: only BIN (at most the first eight digits) and the last four.
"""

from __future__ import annotations

import pandas as pd

from marts.schema import conform
from tests.reference.pandas_marts import fx

NAME = "payment_transactions"
ORDER_WINDOW_DAYS = 1


def _within_window(frame: pd.DataFrame, left: str, right: str) -> pd.Series:
    return (frame[left] - frame[right]).abs() <= pd.Timedelta(days=ORDER_WINDOW_DAYS)


def _order_totals(facts: pd.DataFrame) -> pd.DataFrame:
    sales = facts.loc[~facts["is_cancellation"]]
    return (
        sales.groupby(["order_id", "date"], sort=True)
        .agg(order_amount=("amount", "sum"), order_currency=("currency", "first"))
        .reset_index()
    )


def build(
    payments: pd.DataFrame, orders: pd.DataFrame, facts: pd.DataFrame, factors: pd.DataFrame, reporting: str
) -> pd.DataFrame:
    """`payments`/`orders`: normalised curated frames; `facts`: `sales.line_facts` of the order lines."""
    frame = payments.drop(columns=["card_number"]).rename(columns={"_date": "date"})
    frame["card_bin"] = frame["card_bin"].astype("string").str.replace(r"\D", "", regex=True).str[:8]
    frame["card_last4"] = frame["card_last4"].astype("string").str.replace(r"\D", "", regex=True).str[-4:]
    frame["amount_reporting"] = fx.to_reporting(frame, "amount", factors)

    keyed = frame.loc[frame["order_id"].notna(), ["payment_id", "order_id", "date"]]
    headers = orders[["order_id", "_date", "country", "channel", "customer_id", "shipping_country"]].rename(
        columns={
            "_date": "order_date",
            "country": "order_country",
            "channel": "order_channel",
            "customer_id": "order_customer_id",
            "shipping_country": "order_shipping_country",
        }
    )
    matched = keyed.merge(headers, on="order_id", how="inner")
    matched = matched.loc[_within_window(matched, "date", "order_date")].drop_duplicates("payment_id")
    frame = frame.merge(matched.drop(columns=["order_id", "date", "order_date"]), on="payment_id", how="left")

    totals = keyed.merge(_order_totals(facts).rename(columns={"date": "order_date"}), on="order_id", how="inner")
    totals = totals.loc[_within_window(totals, "date", "order_date")]
    totals = (
        totals.groupby("payment_id", sort=False)
        .agg(order_amount=("order_amount", "sum"), order_currency=("order_currency", "first"))
        .reset_index()
    )
    frame = frame.merge(totals, on="payment_id", how="left")

    frame["customer_id"] = frame["customer_id"].where(frame["customer_id"].notna(), frame["order_customer_id"])
    frame["shipping_country"] = frame["shipping_country"].where(
        frame["shipping_country"].notna(), frame["order_shipping_country"]
    )
    return conform(frame, NAME, reporting)
