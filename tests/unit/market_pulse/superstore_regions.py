"""Golden pulse figures per region of the real Superstore export, computed with pandas from the raw CSV."""

from __future__ import annotations

import pandas as pd

from tests.support import DATA

SUPERSTORE = DATA / "superstore-tableau" / "superstore_orders_sample.csv"
WINDOW_DAYS = 28


def sales_lines() -> pd.DataFrame:
    """The export's lines that its contract curates (positive quantity, sales >= 0), money parsed."""
    raw = pd.read_csv(SUPERSTORE, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(raw["Order Date"], format="%m/%d/%Y"),
            "country": raw["Country"],
            "region": raw["Region"],
            "order": raw["Order ID"],
            "customer": raw["Customer Name"],
            "sales": pd.to_numeric(raw["Sales"].str.replace(r"[$,]", "", regex=True)),
            "quantity": pd.to_numeric(raw["Quantity"]),
        }
    )
    return frame[(frame["quantity"] > 0) & (frame["sales"] >= 0)].reset_index(drop=True)


def last_window_by_region(frame: pd.DataFrame) -> pd.DataFrame:
    """Per region over the last 28 days: revenue, distinct orders, and distinct customers per day summed."""
    window = frame[frame["date"] > frame["date"].max() - pd.Timedelta(days=WINDOW_DAYS)]
    return pd.DataFrame(
        {
            "revenue": window.groupby("region")["sales"].sum(),
            "orders": window.groupby("region")["order"].nunique(),
            "customers": window.groupby(["date", "region"])["customer"].nunique().groupby("region").sum(),
        }
    ).astype(float)
