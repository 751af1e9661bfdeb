"""The total of many series' forecasts: its level, and an interval that a sum of quantiles cannot give.

* Level: the sum of the series' means (expectations add; medians and quantiles do not).
* Interval: Monte Carlo sample paths. Each row's predictive distribution is its own quantile function,
  linear between (0.1, P10), (0.5, P50), (0.9, P90) and extended to u = 0 and u = 1 with the slope of the
  neighbouring segment (clipped at zero units), then scaled so that its mean is the row's mean (the mean and
  the quantiles come from different models, forecast.cohere). The series of one step are drawn jointly through
  a one-factor Gaussian copula with the correlation `rho` that their deseasonalised history shows
  (`common_correlation`); each path's total per date is the sum over series, and the aggregate P10/P50/P90
  are quantiles of those totals. Summing per-series P90s instead assumes every series is at its P90 on the
  same day: a band several times too wide.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

KNOTS = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
PATHS = 1000
SEED = 7
MAX_RHO = 0.95
MAX_DRAWS = 4_000_000  # paths x series drawn at once (memory bound)


def quantile_knots(p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """(n, 5) values of each row's quantile function at KNOTS, scaled so that its integral is the row's mean."""
    lower = np.maximum(p10 - (p50 - p10) / 4.0, 0.0)
    upper = p90 + (p90 - p50) / 4.0
    values = np.column_stack([lower, p10, p50, p90, upper]).astype(float)
    implied = (np.diff(KNOTS) * (values[:, 1:] + values[:, :-1]) / 2.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(implied > 0, mean / implied, 0.0)
    point = implied <= 0  # every quantile is 0: a point mass at the mean (0 unless the mean says otherwise)
    values = values * scale[:, None]
    values[point] = np.asarray(mean, float)[point, None]
    return values


def draw(values: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Quantile functions (n, 5) evaluated at uniforms u (paths, n): inverse-CDF sampling."""
    segment = np.clip(np.searchsorted(KNOTS, u, side="right") - 1, 0, len(KNOTS) - 2)
    u0, u1 = KNOTS[segment], KNOTS[segment + 1]
    rows = np.arange(values.shape[0])[None, :]
    v0, v1 = values[rows, segment], values[rows, segment + 1]
    return v0 + (v1 - v0) * (u - u0) / (u1 - u0)


def common_correlation(history: np.ndarray, period: int, window: int = 16) -> float:
    """The average pairwise correlation of the series (rows of `history`, NaN before a series starts) over
    their last `window` seasonal cycles, after removing each series' mean per position of the cycle; 0 for
    fewer than two series that vary. Clipped to [0, MAX_RHO]."""
    steps = min(history.shape[1], max(period * window, 2 * period))
    recent = history[:, -steps:]
    recent = recent[~np.isnan(recent).any(axis=1)]
    if recent.shape[0] < 2 or steps < 4:
        return 0.0
    phase = np.arange(steps) % period
    resid = recent.copy()
    for p in np.unique(phase):
        resid[:, phase == p] -= resid[:, phase == p].mean(axis=1, keepdims=True)
    sd = resid.std(axis=1)
    z = resid[sd > 0] / sd[sd > 0, None]
    n = z.shape[0]
    if n < 2:
        return 0.0
    total_var = z.sum(axis=0).var()
    rho = (total_var - n) / (n * (n - 1))
    return float(np.clip(rho, 0.0, MAX_RHO))


def simulate_totals(
    values: np.ndarray, rho: float, paths: int = PATHS, rng: np.random.Generator | None = None
) -> np.ndarray:
    """(paths,) totals over the series of one step: one draw per series and path, jointly by the copula."""
    rng = rng or np.random.default_rng(SEED)
    n = values.shape[0]
    totals = np.zeros(paths)
    factor = rng.standard_normal(paths)[:, None]
    chunk = max(1, MAX_DRAWS // max(paths, 1))
    for start in range(0, n, chunk):
        part = values[start : start + chunk]
        z = np.sqrt(rho) * factor + np.sqrt(1.0 - rho) * rng.standard_normal((paths, part.shape[0]))
        totals += draw(part, ndtr(z)).sum(axis=1)
    return totals


def aggregate(forecasts: pd.DataFrame, rho: float, paths: int = PATHS, seed: int = SEED) -> pd.DataFrame:
    """Per target date: `mean` (sum of the series' means) and P10/P50/P90 of the simulated totals."""
    rng = np.random.default_rng(seed)
    rows = []
    for target, part in forecasts.groupby("target_date", sort=True):
        values = quantile_knots(*(part[c].to_numpy(float) for c in ("p10", "p50", "p90", "mean")))
        totals = simulate_totals(values, rho, paths, rng)
        p10, p50, p90 = np.quantile(totals, [0.1, 0.5, 0.9])
        rows.append({"target_date": target, "mean": float(part["mean"].sum()), "p10": p10, "p50": p50, "p90": p90})
    return pd.DataFrame(rows, columns=["target_date", "mean", "p10", "p50", "p90"])


def history_totals(dates: pd.DatetimeIndex, totals: np.ndarray, grain_code: str, raw_dates: pd.Series) -> pd.DataFrame:
    """Units sold per step of the panel's calendar, and whether the step is `partial`: a week or month that the
    raw rows (finer than the grain, e.g. days summed into weeks) cover only in part, at either end of the
    history. A partial step's total is not comparable with a full one, so charts leave it out of the line."""
    frame = pd.DataFrame({"date": dates, "units": totals, "partial": False})
    raw = pd.to_datetime(raw_dates).dt.normalize()
    if grain_code == "D" or raw.empty:
        return frame
    if grain_code == "W":
        start, end = dates, dates + pd.Timedelta(days=6)
    else:
        months = dates.to_period("M")
        start, end = months.start_time, months.end_time.normalize()
    first, last = raw.min(), raw.max()
    labels_are_rows = raw.isin(dates).all()  # weekly/monthly rows as given: each stands for its whole step
    if not labels_are_rows:
        frame["partial"] = np.asarray((start < first) | (end > last))
    return frame
