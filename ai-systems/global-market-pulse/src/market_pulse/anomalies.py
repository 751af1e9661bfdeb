"""Anomalies per country: STL residuals scored with a robust z, and level shifts of the adjusted series.

* spikes and drops: STL (weekly period) on log(1 + revenue); a day whose residual lies more than
  `z_threshold` robust standard deviations (1.4826 * MAD) from the median residual is an anomaly, with its
  expected value and the size of the deviation.
* level shifts: the difference of the medians of the 14 days after and before each day of the
  weekday-adjusted log series, in units of its standard error; local maxima above `shift_threshold`.
  Residual anomalies within 3 days of a level shift are attributed to the shift.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_DAYS = 28
MIN_ACTIVE_SHARE = 0.5


def _robust_sd(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan")
    mad = np.median(np.abs(values - np.median(values)))
    return float(1.4826 * mad) if mad > 0 else float(np.std(values) or np.nan)


def _scores(residual: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray | None:
    """Robust z-scores of residuals (centre and scale from the days not excluded)."""
    basis = residual if exclude is None else residual[~exclude]
    scale = _robust_sd(basis)
    if not np.isfinite(scale) or scale <= 0:
        return None
    return (residual - np.median(basis)) / scale


def level_shifts(
    log_adjusted: np.ndarray, *, window: int = 14, threshold: float = 6.0
) -> list[tuple[int, float, float]]:
    """(index of the first day at the new level, log size, z) of each detected shift."""
    n = len(log_adjusted)
    if n < 2 * window + 1:
        return []
    noise = _robust_sd(np.diff(log_adjusted)) / np.sqrt(2)
    if not np.isfinite(noise) or noise <= 0:
        return []
    view = np.lib.stride_tricks.sliding_window_view(log_adjusted, window)
    medians = np.median(view, axis=1)  # medians[k] = median of days k .. k+window-1
    t = np.arange(window, n - window + 1)
    diff = medians[t] - medians[t - window]
    z = diff / (1.2533 * noise * np.sqrt(2.0 / window))
    found: list[tuple[int, float, float]] = []
    order = np.argsort(-np.abs(z))
    taken = np.zeros(n, dtype=bool)
    for k in order:
        if abs(z[k]) < threshold:
            break
        day = int(t[k])
        if taken[max(0, day - window) : day + window].any():
            continue
        taken[day] = True
        found.append((day, float(diff[k]), float(z[k])))
    return sorted(found)


def detect(
    wide: pd.DataFrame,
    *,
    z_threshold: float = 4.0,
    shift_threshold: float = 6.0,
    holidays_by_country: dict[str, dict] | None = None,
) -> pd.DataFrame:
    """One row per anomaly (kind spike/drop/level_shift) with date, observed, expected, size and z."""
    from statsmodels.tsa.seasonal import STL

    rows = []
    dates = wide.index
    for country in wide.columns:
        observed = wide[country].to_numpy(dtype=float)
        if len(observed) < MIN_DAYS or (observed > 0).mean() < MIN_ACTIVE_SHARE:
            continue  # too sparse for a daily model: most days without sales
        logs = np.log1p(np.clip(observed, 0, None))
        # a smooth trend and a slowly changing weekday pattern; not robust: robust weights fit the ordinary
        # days too closely and make the residual tails heavy (many false alarms on generated data)
        fit = STL(logs, period=7, seasonal=13, trend=29, robust=False).fit()
        expected_log = fit.trend + fit.seasonal
        adjusted = logs - fit.seasonal
        shifts = level_shifts(adjusted, threshold=shift_threshold)
        shift_days = {d for d, _, _ in shifts}
        names = (holidays_by_country or {}).get(country, {})
        for day, size, z in shifts:
            before = float(np.expm1(np.median(adjusted[max(0, day - 14) : day])))
            after = float(np.expm1(np.median(adjusted[day : day + 14])))
            rows.append(
                {
                    "country": country,
                    "date": dates[day].date().isoformat(),
                    "kind": "level_shift",
                    "observed": after,
                    "expected": before,
                    "size": after - before,
                    "size_pct": float(np.expm1(size)),
                    "z": z,
                    "holiday": names.get(dates[day].date(), ""),
                }
            )
        z = _scores(fit.resid)
        if z is None:
            continue
        flagged = np.abs(z) >= z_threshold
        if flagged.any():
            # second pass with the flagged days replaced by their expected values: a shock no longer pulls
            # the trend and weekday pattern towards itself, so sizes and the remaining scores are unbiased
            cleaned = np.where(flagged, expected_log, logs)
            refit = STL(cleaned, period=7, seasonal=13, trend=29, robust=False).fit()
            expected_log = refit.trend + refit.seasonal
            z2 = _scores(logs - expected_log, exclude=flagged)
            z = z if z2 is None else z2
        for day in np.flatnonzero(np.abs(z) >= z_threshold):
            if any(abs(int(day) - s) <= 3 for s in shift_days):
                continue
            expected = float(np.expm1(expected_log[day]))
            rows.append(
                {
                    "country": country,
                    "date": dates[day].date().isoformat(),
                    "kind": "spike" if z[day] > 0 else "drop",
                    "observed": float(observed[day]),
                    "expected": expected,
                    "size": float(observed[day] - expected),
                    "size_pct": float(observed[day] / expected - 1) if expected > 0 else None,
                    "z": float(z[day]),
                    "holiday": names.get(dates[day].date(), ""),
                }
            )
    columns = ["country", "date", "kind", "observed", "expected", "size", "size_pct", "z", "holiday"]
    return pd.DataFrame(rows, columns=columns).sort_values(["country", "date"], ignore_index=True)
