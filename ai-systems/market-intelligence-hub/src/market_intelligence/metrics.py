"""Forecast accuracy: MASE (scaled by the in-sample seasonal-naive error) and MAPE."""

from __future__ import annotations

import numpy as np


def mase_scale(train: np.ndarray, season: int) -> float:
    """Mean absolute seasonal-naive error in sample (lag 1 when the series is shorter than two seasons)."""
    train = np.asarray(train, dtype=float)
    lag = season if len(train) > 2 * season else 1
    diffs = np.abs(train[lag:] - train[:-lag])
    scale = float(np.nanmean(diffs)) if len(diffs) else 0.0
    return scale if scale > 0 else float(np.nanmean(np.abs(train)) or 1.0)


def mase(actual: np.ndarray, forecast: np.ndarray, scale: float) -> float:
    return float(np.nanmean(np.abs(np.asarray(actual, float) - np.asarray(forecast, float))) / scale)


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    ok = np.abs(actual) > 1e-9
    if not ok.any():
        return float("nan")
    return float(np.mean(np.abs((actual[ok] - forecast[ok]) / actual[ok])) * 100)
