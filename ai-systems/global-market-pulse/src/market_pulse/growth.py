"""Growth week over week, month over month and year over year with bootstrap confidence intervals.

Point estimates compare sums over whole weeks (so the weekday pattern cancels). Confidence intervals come
from a percentile bootstrap of the weekday-adjusted daily values of both windows (resampled independently,
seeded), so that they reflect day-to-day noise rather than the weekday pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Window:
    name: str
    days: int
    lag: int  # distance in days between the start of the recent and of the reference window


WINDOWS = (Window("wow", 7, 7), Window("mom", 28, 28), Window("yoy", 28, 364))


def weekday_factors(wide: pd.DataFrame) -> pd.DataFrame:
    """Per country, the ratio of each weekday to its centred 7-day mean (median over the history), mean 1."""
    trend = wide.rolling(7, center=True, min_periods=7).mean()
    ratio = (wide / trend.replace(0.0, np.nan)).groupby(wide.index.dayofweek).median()
    ratio = ratio.reindex(range(7)).fillna(1.0)
    ratio = ratio / ratio.mean().replace(0.0, np.nan)
    return ratio.fillna(1.0).clip(lower=0.05)


def seasonally_adjusted(wide: pd.DataFrame, factors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Daily values divided by their country's weekday factor."""
    factors = weekday_factors(wide) if factors is None else factors
    per_day = factors.reindex(wide.index.dayofweek).to_numpy()
    return wide / per_day


def growth_table(
    wide: pd.DataFrame, *, measure: str = "revenue", n_boot: int = 1000, seed: int = 7, level: float = 0.95
) -> pd.DataFrame:
    """One row per country and window: recent and reference sums, growth, its CI and the adjusted growth."""
    adjusted = seasonally_adjusted(wide)
    n = len(wide)
    rng = np.random.default_rng(seed)
    alpha = (1 - level) / 2
    rows = []
    values = wide.to_numpy(dtype=float)
    sa = adjusted.to_numpy(dtype=float)
    for window in WINDOWS:
        if n < window.days + window.lag:
            continue
        recent = slice(n - window.days, n)
        reference = slice(n - window.days - window.lag, n - window.lag)
        recent_sum = values[recent].sum(axis=0)
        reference_sum = values[reference].sum(axis=0)
        idx_recent = rng.integers(0, window.days, size=(n_boot, window.days))
        idx_reference = rng.integers(0, window.days, size=(n_boot, window.days))
        boot_recent = sa[recent][idx_recent].mean(axis=1)
        boot_reference = sa[reference][idx_reference].mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            # growth against a reference that is not positive (no sales, net returns) is undefined
            growth = np.where(reference_sum > 0, recent_sum / np.where(reference_sum > 0, reference_sum, 1) - 1, np.nan)
            boot = boot_recent / boot_reference - 1
            sa_growth = sa[recent].mean(axis=0) / sa[reference].mean(axis=0) - 1
        boot = np.where(np.isfinite(boot), boot, np.nan)
        defined = np.isfinite(boot).mean(axis=0) >= 0.9
        boot[:, ~defined] = 0.0
        low = np.where(defined & np.isfinite(growth), np.nanquantile(boot, alpha, axis=0), np.nan)
        high = np.where(defined & np.isfinite(growth), np.nanquantile(boot, 1 - alpha, axis=0), np.nan)
        sa_growth = np.where(np.isfinite(growth), sa_growth, np.nan)
        adjustment = "weekday"
        yearly = np.full(len(wide.columns), np.nan)
        if window.name == "mom" and n >= window.days + window.lag + 364:
            # divide by last year's growth over the same calendar weeks: removes the yearly pattern too
            last_recent = values[n - window.days - 364 : n - 364].sum(axis=0)
            last_reference = values[n - window.days - window.lag - 364 : n - window.lag - 364].sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                yearly = np.where(last_reference > 0, (1 + growth) / (last_recent / last_reference) - 1, np.nan)
            adjustment = "weekday+yearly"
        for i, country in enumerate(wide.columns):
            rows.append(
                {
                    "country": country,
                    "measure": measure,
                    "window": window.name,
                    "window_days": window.days,
                    "recent_start": wide.index[recent.start].date().isoformat(),
                    "recent_end": wide.index[recent.stop - 1].date().isoformat(),
                    "recent": float(recent_sum[i]),
                    "reference": float(reference_sum[i]),
                    "growth": _finite(growth[i]),
                    "ci_low": _finite(low[i]),
                    "ci_high": _finite(high[i]),
                    "growth_sa": _finite(yearly[i]) if adjustment == "weekday+yearly" else _finite(sa_growth[i]),
                    "seasonal_adjustment": adjustment,
                }
            )
    return pd.DataFrame(rows)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def base_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Per country and window, the orders of the reference window a growth rate of growth_table divides by
    (`base_orders`) and, for the yearly-adjusted month over month, the fewer orders of last year's two windows
    (`last_year_orders`, NaN elsewhere). A percentage off a handful of orders is noise: one order more or less
    moves it by its whole size."""
    n = len(orders)
    values = orders.to_numpy(dtype=float)
    frames = []
    for window in WINDOWS:
        if n < window.days + window.lag:
            continue
        base = values[n - window.days - window.lag : n - window.lag].sum(axis=0)
        last_year = np.full(len(orders.columns), np.nan)
        if window.name == "mom" and n >= window.days + window.lag + 364:
            last_recent = values[n - window.days - 364 : n - 364].sum(axis=0)
            last_reference = values[n - window.days - window.lag - 364 : n - window.lag - 364].sum(axis=0)
            last_year = np.minimum(last_recent, last_reference)
        frames.append(
            pd.DataFrame(
                {"country": orders.columns, "window": window.name, "base_orders": base, "last_year_orders": last_year}
            )
        )
    empty = pd.DataFrame(columns=["country", "window", "base_orders", "last_year_orders"])
    return pd.concat(frames, ignore_index=True) if frames else empty
