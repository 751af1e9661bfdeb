"""Which markets have enough revenue history for a trend or a forecast, and notes saying which do not.

Real exports are partial: one country, a month of history, amounts without an FX rate (revenue_reporting
null). A market without revenue gets neither a trend nor a forecast (never a made-up figure), and the batch
result says so instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from market_intelligence.exceptions import InputError
from market_intelligence.series import infer_frequency

MIN_TREND_PERIODS = 4  # `series.prepare` needs four observations
MIN_FORECAST_PERIODS = 8  # fewer periods leave no validation fold: a forecast would be a guess


@dataclass
class Coverage:
    """Markets (series ids) that can be forecast and trended, and what was left out, in words."""

    forecastable: list[str] = field(default_factory=list)
    trendable: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _unit(long: pd.DataFrame) -> str:
    try:
        code = infer_frequency(long["ds"]).code
    except InputError:
        return "periods"
    return {"W": "weeks", "MS": "months", "D": "days"}[code]


def _examples(ids: list[str], counts: pd.Series | None = None) -> str:
    shown = [f"{i} ({int(counts[i])})" if counts is not None else i for i in ids[:3]]
    return ", ".join(shown) + (", ..." if len(ids) > 3 else "")


def assess(long: pd.DataFrame) -> Coverage:
    """Count each market's periods with revenue; sort the markets by what their history allows."""
    if long.empty:
        return Coverage(notes=["market_series is empty: no market to forecast or trend"])
    known = long.dropna(subset=["y"])
    counts = known.groupby("series_id")["ds"].nunique().reindex(sorted(long["series_id"].unique()), fill_value=0)
    unit = _unit(known if known["ds"].nunique() >= 2 else long)
    out = Coverage(
        forecastable=sorted(counts.index[counts >= MIN_FORECAST_PERIODS]),
        trendable=sorted(counts.index[counts >= MIN_TREND_PERIODS]),
    )
    no_revenue = sorted(counts.index[counts == 0])
    too_short = sorted(counts.index[(counts > 0) & (counts < MIN_TREND_PERIODS)])
    trend_only = sorted(counts.index[(counts >= MIN_TREND_PERIODS) & (counts < MIN_FORECAST_PERIODS)])
    if no_revenue:
        out.notes.append(
            f"{len(no_revenue)} market(s) have no revenue in the reporting currency (amounts without an FX rate): "
            f"no trend or forecast for {_examples(no_revenue)}"
        )
    if too_short:
        out.notes.append(
            f"{len(too_short)} market(s) have fewer than {MIN_TREND_PERIODS} {unit} of revenue: no trend or "
            f"forecast for {_examples(too_short, counts)}"
        )
    if trend_only:
        out.notes.append(
            f"{len(trend_only)} market(s) have fewer than {MIN_FORECAST_PERIODS} {unit} of revenue: trend only, "
            f"no forecast for {_examples(trend_only, counts)}"
        )
    return out
