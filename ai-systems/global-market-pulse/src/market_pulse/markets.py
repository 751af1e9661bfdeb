"""What a "market" is: countries (the default) or custom string attributes of prod (region, segment, ...).

A source contract's string attributes reach prod's customer_transactions as extra columns (one value per
order). With `dimensions=("region",)` every region is a market; with `("country", "segment")` every country
and segment that sold is one, labelled "US | Consumer". The market panel is built from customer_transactions
with the same FX fallback as the country panel (panel.from_country_kpis), so every pulse table, test and
chart works unchanged on it; holidays are those of the market's country when it has one.
"""

from __future__ import annotations

import pandas as pd

from market_pulse import panel as panels
from market_pulse.config import COUNTRY
from market_pulse.exceptions import PulseInputError

SEPARATOR = " | "
MISSING = "(none)"
REQUIRED = ["date", "order_id", "country", "units", "revenue", "currency"]


def is_countries(dimensions: tuple[str, ...]) -> bool:
    return tuple(dimensions) == COUNTRY


def label(dimensions: tuple[str, ...]) -> str:
    """How the markets are named in the report and the documents, e.g. "region" or "country x segment"."""
    return " x ".join(dimensions)


def market_column(frame: pd.DataFrame, dimensions: tuple[str, ...], what: str = "customer_transactions") -> pd.Series:
    """Each row's market label: its dimension values joined (an empty value is "(none)")."""
    missing = [d for d in dimensions if d not in frame.columns]
    if missing:
        raise PulseInputError(
            f"{what} has no column {', '.join(missing)} for the market dimension: {_candidates(frame, what)}"
        )
    parts = [frame[d].astype("string").str.strip().replace("", pd.NA).fillna(MISSING) for d in dimensions]
    out = parts[0]
    for part in parts[1:]:
        out = out + SEPARATOR + part
    return out.astype(str)


def _candidates(frame: pd.DataFrame, what: str) -> str:
    """The columns that could be dimensions: prod's custom attributes, or every column of a user's table."""
    if what != "customer_transactions":
        return f"its columns are {sorted(map(str, frame.columns))[:30]}"
    from retail_platform.contracts import load_prod

    canonical = load_prod("customer_transactions").columns
    extras = sorted(str(c) for c in frame.columns if c not in canonical and not str(c).startswith("_"))
    return f"custom attributes in prod are {extras or 'none'} (name them in the source contract's attributes)"


def panel_from_transactions(transactions: pd.DataFrame, dimensions: tuple[str, ...]) -> pd.DataFrame:
    """The daily market panel (column `country` holds the market label) from prod customer_transactions."""
    panels.require(transactions, REQUIRED, "customer_transactions")
    frame = transactions.copy()
    frame["market"] = market_column(frame, dimensions)
    cancelled = frame["is_cancellation"].fillna(False).astype(bool) if "is_cancellation" in frame else False
    frame["sale_order"] = frame["order_id"].where(~cancelled)
    frame["cancelled_order"] = frame["order_id"].where(cancelled)
    frame["buyer"] = frame["customer_id"].where(~cancelled) if "customer_id" in frame else pd.NA
    if "revenue_reporting" not in frame:
        frame["revenue_reporting"] = float("nan")
    daily = frame.groupby([frame["date"], "market", "currency"], dropna=False).agg(
        orders=("sale_order", "nunique"),
        cancelled=("cancelled_order", "nunique"),
        customers=("buyer", "nunique"),
        units=("units", "sum"),
        revenue_local=("revenue", "sum"),
        revenue_reporting=("revenue_reporting", lambda s: s.sum(min_count=1)),
    )
    daily = daily.reset_index().rename(columns={"market": "country"})
    daily["cancellation_rate"] = (daily["cancelled"] / daily["orders"].where(daily["orders"] > 0)).fillna(0.0)
    new_vs_returning = frame.assign(country=frame["market"])
    return panels.from_country_kpis(daily.drop(columns="cancelled"), new_vs_returning)


def holiday_countries(transactions: pd.DataFrame, dimensions: tuple[str, ...]) -> dict[str, str]:
    """Each market's country when all its rows share one (its public holidays apply), else ''."""
    frame = pd.DataFrame({"market": market_column(transactions, dimensions), "country": transactions["country"]})
    countries = frame.dropna().groupby("market")["country"].agg(lambda s: s.iat[0] if s.nunique() == 1 else "")
    return {str(k): str(v) for k, v in countries.items()}
