"""Daily conversion factors into the reporting currency from curated `fx_rates`.

A row (date, base, quote, rate) says 1 base = rate quote. Every pair is forward-filled over a daily
calendar (the last known rate holds on days without one: weekends, holidays, a late feed), then each
currency is linked to the reporting currency through the pairs (directly or via a common base such as
EUR -> GBP and EUR -> USD for GBP -> USD). The factor of a currency is "reporting units per 1 unit":
with base EUR and reporting EUR, GBP amounts are divided by the EUR->GBP rate.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd

FACTOR_COLUMNS = ["date", "currency", "factor"]


def _pair_series(fx_rates: pd.DataFrame, calendar: pd.DatetimeIndex) -> dict[tuple[str, str], pd.Series]:
    rates = fx_rates.loc[
        fx_rates["rate"].notna() & (fx_rates["rate"] > 0) & (fx_rates["base_currency"] != fx_rates["quote_currency"]),
        ["date", "base_currency", "quote_currency", "rate"],
    ]
    if rates.empty:
        return {}
    wide = rates.pivot_table(index="date", columns=["base_currency", "quote_currency"], values="rate", aggfunc="last")
    wide = wide.reindex(wide.index.union(calendar)).sort_index().ffill().reindex(calendar)
    return {(str(b), str(q)): wide[(b, q)].astype("float64") for b, q in sorted(wide.columns)}


def daily_factors(
    fx_rates: pd.DataFrame,
    reporting: str,
    dates: pd.Series | pd.DatetimeIndex,
    currencies: list[str] | None = None,
) -> pd.DataFrame:
    """Long frame (date, currency, factor) for every day from the first rate (or date) to the last date.

    `dates`: the days amounts need converting on. Currencies without a path to the reporting currency,
    and days before a pair's first rate, get a NaN factor; the reporting currency itself is always 1.
    """
    days = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates)).dropna().unique())
    if days.empty:
        return pd.DataFrame(
            {
                "date": pd.Series(dtype="datetime64[ns]"),
                "currency": pd.Series(dtype=object),
                "factor": pd.Series(dtype="float64"),
            }
        )
    first = days.min()
    if not fx_rates.empty:
        first = min(first, fx_rates["date"].min())
    calendar = pd.date_range(first, days.max(), freq="D")
    pairs = _pair_series(fx_rates, calendar)

    neighbours: dict[str, list[tuple[str, tuple[str, str]]]] = {}
    for base, quote in pairs:
        neighbours.setdefault(base, []).append((quote, (base, quote)))
        neighbours.setdefault(quote, []).append((base, (base, quote)))
    factors: dict[str, pd.Series] = {reporting: pd.Series(1.0, index=calendar)}
    queue = deque([reporting])
    while queue:  # breadth-first: the shortest chain of pairs wins, ties broken by sorted pair order
        known = queue.popleft()
        for other, (base, quote) in neighbours.get(known, []):
            if other in factors:
                continue
            rate = pairs[(base, quote)]
            # 1 base = rate quote: reporting-per-quote = reporting-per-base / rate, and vice versa
            factors[other] = factors[known] / rate if known == base else factors[known] * rate
            queue.append(other)
    for currency in currencies or []:
        factors.setdefault(currency, pd.Series(np.nan, index=calendar))

    long = pd.concat(
        [pd.DataFrame({"date": calendar, "currency": c, "factor": s.to_numpy()}) for c, s in sorted(factors.items())],
        ignore_index=True,
    )
    return long.loc[long["date"].isin(days), FACTOR_COLUMNS].reset_index(drop=True)


def to_reporting(
    frame: pd.DataFrame, amount: str, factors: pd.DataFrame, date: str = "date", currency: str = "currency"
) -> pd.Series:
    """`frame[amount]` converted with the factor of each row's (date, currency); NaN where none is known
    (a zero amount is zero in any currency)."""
    if frame.empty:
        return pd.Series(dtype="float64", index=frame.index)
    keys = frame[[date, currency]].rename(columns={date: "date", currency: "currency"})
    factor = keys.merge(factors, on=["date", "currency"], how="left")["factor"].to_numpy()
    values = frame[amount].to_numpy(dtype="float64")
    return pd.Series(np.where(values == 0, 0.0, values * factor), index=frame.index)
