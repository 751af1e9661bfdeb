"""Long tables in, a tidy daily country panel out.

The panel has one row per (date, country) and the columns of PANEL_COLUMNS (missing measures are NaN).
Every day between the first and the last date is present for every country (a day without sales is 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from market_pulse.exceptions import PulseInputError

MEASURES = ("revenue", "revenue_local", "orders", "customers", "units", "cancelled_orders")
PANEL_COLUMNS = ("date", "country", "currency", *MEASURES, "new_customers", "returning_customers", "fx_converted")
MAX_COUNTRIES = 250


def require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PulseInputError(
            f"{what} is missing columns: {', '.join(missing)} (has: {', '.join(map(str, frame.columns))})"
        )


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        example = frame.loc[bad, column].iloc[0]
        raise PulseInputError(f"column {column!r} must be numeric: {int(bad.sum())} values are not, e.g. {example!r}")
    return values


def _dates(frame: pd.DataFrame, column: str, date_format: str | None = None) -> pd.Series:
    try:
        parsed = pd.to_datetime(frame[column], format=date_format, errors="raise")
    except (ValueError, TypeError) as e:
        raise PulseInputError(f"column {column!r} must hold dates: {e}") from e
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.dt.normalize()


def complete(panel: pd.DataFrame) -> pd.DataFrame:
    """Every (date, country) between the first and last date; sums absent on a day become 0."""
    if panel.empty:
        raise PulseInputError("the input has no rows")
    days = pd.date_range(panel["date"].min(), panel["date"].max(), freq="D")
    countries = sorted(panel["country"].unique())
    if len(countries) > MAX_COUNTRIES:
        raise PulseInputError(f"at most {MAX_COUNTRIES} countries are supported, got {len(countries)}")
    index = pd.MultiIndex.from_product([days, countries], names=["date", "country"])
    out = panel.set_index(["date", "country"]).reindex(index)
    for column in MEASURES:
        if column in out and out[column].notna().any():
            out[column] = out[column].fillna(0.0)
    for column in ("new_customers", "returning_customers"):
        if column in out and out[column].notna().any():
            out[column] = out[column].fillna(0.0)
    out = out.reset_index()
    known = out.dropna(subset=["currency"]).drop_duplicates("country").set_index("country")["currency"]
    out["currency"] = out["country"].map(known)
    return out[[c for c in PANEL_COLUMNS if c in out.columns]]


def from_country_kpis(
    kpis: pd.DataFrame, transactions: pd.DataFrame | None = None, returning: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The panel from the prod datasets country_kpis (+ customer_transactions for new vs returning, or those
    counts already made: `returning`, shaped like `new_vs_returning`'s result)."""
    require(kpis, ["date", "country", "orders", "customers", "units", "revenue_local", "currency"], "country_kpis")
    frame = kpis.copy()
    frame["date"] = _dates(frame, "date")
    for column in ("orders", "customers", "units", "revenue_local"):
        frame[column] = _numeric(frame, column)
    if "revenue_reporting" not in frame:
        frame["revenue_reporting"] = np.nan
    frame["revenue_reporting"] = _numeric(frame, "revenue_reporting")
    # A day without an FX rate has no reporting amount: convert it at the median rate of its currency's
    # other days, or (no rate at all) keep the local amount; `fx_converted` says which rows were converted.
    frame["fx_converted"] = frame["revenue_reporting"].notna().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = (frame["revenue_reporting"] / frame["revenue_local"]).where(frame["revenue_local"] > 0)
    median_rate = rate.groupby(frame["currency"]).transform("median")
    frame["revenue_reporting"] = frame["revenue_reporting"].fillna(frame["revenue_local"] * median_rate)
    frame["revenue_reporting"] = frame["revenue_reporting"].fillna(frame["revenue_local"])
    rate = _numeric(frame, "cancellation_rate").fillna(0.0) if "cancellation_rate" in frame else 0.0
    frame["cancelled_orders"] = frame["orders"] * rate
    # one row per currency sold in: local revenue is reported in the country's main currency only
    main_currency = (
        frame.groupby(["country", "currency"])["revenue_local"]
        .sum()
        .reset_index()
        .sort_values(["country", "revenue_local"], ascending=[True, False])
        .drop_duplicates("country")
        .set_index("country")["currency"]
    )
    frame["in_main"] = frame["currency"].to_numpy() == frame["country"].map(main_currency).to_numpy()
    frame["revenue_local_main"] = frame["revenue_local"].where(frame["in_main"], 0.0)
    grouped = frame.groupby(["date", "country"], as_index=False).agg(
        revenue=("revenue_reporting", "sum"),
        revenue_local=("revenue_local_main", "sum"),
        orders=("orders", "sum"),
        customers=("customers", "sum"),
        units=("units", "sum"),
        cancelled_orders=("cancelled_orders", "sum"),
        fx_converted=("fx_converted", "mean"),
    )
    grouped["currency"] = grouped["country"].map(main_currency)
    if returning is None and transactions is not None and not transactions.empty:
        returning = new_vs_returning(transactions)
    if returning is not None:
        grouped = grouped.merge(returning, on=["date", "country"], how="left")
    return complete(grouped)


def new_vs_returning(transactions: pd.DataFrame) -> pd.DataFrame:
    """Distinct new (first purchase that day) and returning customers per date and country."""
    require(transactions, ["date", "country", "customer_id"], "customer_transactions")
    frame = transactions[["date", "country", "customer_id"]].copy()
    if "is_cancellation" in transactions:
        frame = frame[~transactions["is_cancellation"].fillna(False).astype(bool)]
    frame = frame.dropna(subset=["customer_id"])
    frame["date"] = _dates(frame, "date")
    frame = frame.drop_duplicates(["date", "country", "customer_id"])
    first = frame.groupby("customer_id")["date"].transform("min")
    frame["is_new"] = frame["date"] == first
    out = frame.groupby(["date", "country"])["is_new"].agg(new_customers="sum", total="count").reset_index()
    out["returning_customers"] = out["total"] - out["new_customers"]
    return out.drop(columns="total").astype({"new_customers": float, "returning_customers": float})


def from_long_table(
    table: pd.DataFrame,
    *,
    date_col: str = "date",
    country_col: str = "country",
    revenue_col: str | None = "revenue",
    quantity_col: str | None = None,
    price_col: str | None = None,
    order_col: str | None = None,
    customer_col: str | None = None,
    currency_col: str | None = None,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Any multi-country long table (transactions or daily rows) as a daily country panel.

    Revenue is `revenue_col`, or `quantity_col * price_col` when both are given. Orders are distinct values of
    `order_col` per day and country (or the row count when there is no order column).
    """
    use_product = bool(quantity_col and price_col)
    needed = [date_col, country_col]
    needed += [quantity_col, price_col] if use_product else [revenue_col] if revenue_col else []
    needed += [c for c in (order_col, customer_col, currency_col) if c]
    require(table, [c for c in needed if c], "input table")
    if table.empty:
        raise PulseInputError("the input has no rows")
    frame = pd.DataFrame({"date": _dates(table, date_col, date_format), "country": table[country_col].astype("string")})
    if frame["country"].isna().any():
        raise PulseInputError(f"column {country_col!r} has {int(frame['country'].isna().sum())} empty values")
    if use_product:
        frame["revenue"] = _numeric(table, quantity_col) * _numeric(table, price_col)
        frame["units"] = _numeric(table, quantity_col)
    elif revenue_col:
        frame["revenue"] = _numeric(table, revenue_col)
    else:
        raise PulseInputError("give a revenue column, or a quantity and a price column")
    frame["order"] = table[order_col].astype("string") if order_col else pd.Series(range(len(table)), index=table.index)
    if customer_col:
        frame["customer"] = table[customer_col].astype("string")
    grouped = frame.groupby(["date", "country"])
    out = grouped.agg(revenue=("revenue", "sum"), orders=("order", "nunique")).reset_index()
    if "units" in frame:
        out["units"] = grouped["units"].sum().to_numpy()
    if customer_col:
        out["customers"] = grouped["customer"].nunique().to_numpy()
    out["revenue_local"] = out["revenue"]
    if currency_col:
        currency = table.assign(_c=table[country_col]).groupby(country_col)[currency_col].agg(lambda s: s.mode().iat[0])
        out["currency"] = out["country"].map(currency)
    else:
        out["currency"] = pd.NA
    return complete(out)
