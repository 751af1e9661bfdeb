"""Forecasting core: selection beats seasonal naive on a holdout, intervals cover, runs are deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from market_intelligence import metrics, models, synthetic
from market_intelligence.exceptions import InputError
from market_intelligence.forecast import Forecaster, Options
from market_intelligence.series import MONTHLY

FAST = Options(models=("seasonal_naive", "drift", "ets", "sarimax"), folds=2, threads=2)


def holdout(frame: pd.DataFrame, h: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    last = frame.groupby("series_id")["ds"].transform(lambda d: d.sort_values().iloc[-h])
    return frame[frame["ds"] < last], frame[frame["ds"] >= last]


def test_selected_model_beats_seasonal_naive_on_holdout_and_intervals_cover():
    frame = synthetic.monthly_long(n_months=84, n_series=6, seed=3)
    train, test = holdout(frame, 12)
    fc, scores, results = Forecaster(Options(**{**FAST.__dict__, "horizon": 12})).run(train)
    merged = fc.merge(test, on=["series_id", "ds"])
    assert len(merged) == 6 * 12
    chosen, naive = [], []
    for sid, group in merged.groupby("series_id"):
        history = train[train["series_id"] == sid]["y"].to_numpy()
        scale = metrics.mase_scale(history, 12)
        chosen.append(metrics.mase(group["y"], group["yhat"], scale))
        y = pd.Series(history, index=pd.date_range("2000-01-01", periods=len(history), freq="MS"))
        naive.append(metrics.mase(group["y"], models.seasonal_naive(y, 12, models.Context(MONTHLY)), scale))
    assert np.mean(chosen) < np.mean(naive)
    assert sum(c < n for c, n in zip(chosen, naive, strict=True)) >= 4
    coverage = ((merged["y"] >= merged["yhat_lower"]) & (merged["y"] <= merged["yhat_upper"])).mean()
    assert coverage >= 0.7  # nominal 0.9, from only two folds of errors
    assert set(scores["model"]) >= {"seasonal_naive", "drift", "ets", "sarimax", "ensemble"}
    assert scores.groupby("series_id")["selected"].sum().eq(1).all()
    assert all(r.selected in fc[fc["series_id"] == r.series_id]["model"].values for r in results)


def test_forecasts_are_deterministic():
    frame = synthetic.monthly_long(n_months=48, n_series=2, seed=4)
    a, _, _ = Forecaster(FAST).run(frame)
    b, _, _ = Forecaster(FAST).run(frame)
    pd.testing.assert_frame_equal(a, b)


def test_placeholder_month_does_not_wreck_the_forecast():
    frame = synthetic.monthly_long(n_months=72, n_series=1, seed=5)
    damaged = frame.copy()
    damaged.loc[damaged.index[60:62], "y"] = 0.0
    clean_fc, _, _ = Forecaster(FAST).run(frame)
    damaged_fc, _, results = Forecaster(FAST).run(damaged)
    assert len(results[0].outliers) == 2
    gap = np.abs(clean_fc["yhat"] - damaged_fc["yhat"]) / clean_fc["yhat"].abs()
    assert gap.mean() < 0.1


def test_bad_horizon_and_short_series():
    frame = synthetic.monthly_long(n_months=30, n_series=1)
    with pytest.raises(InputError, match="horizon"):
        Forecaster(Options(models=("drift",), horizon=500)).run(frame)
    tiny = frame.head(3)
    with pytest.raises(InputError, match="at least 4"):
        Forecaster(FAST).run(tiny)
    short = frame.head(8)  # too short for validation: still a forecast from a baseline
    fc, _, _ = Forecaster(FAST).run(short)
    assert fc["yhat"].notna().all()
