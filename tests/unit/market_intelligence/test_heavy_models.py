"""Prophet (cmdstan) and the global Keras model: real fits on small generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from market_intelligence import models, synthetic
from market_intelligence.batch import market_long
from market_intelligence.forecast import Forecaster, Options
from market_intelligence.global_nn import GlobalWindowModel
from market_intelligence.series import WEEKLY, prepare


def test_prophet_fits_with_country_holidays_and_level_shift():
    series, _ = synthetic.markets(n_weeks=104, seed=8, categories=("home",), countries=("DE",))
    long = market_long(series)
    p = prepare("home|DE", long[long["series_id"] == "home|DE"])
    ctx = models.Context(WEEKLY, "DE", p.y.index[80])
    model = models.build_prophet(p.y, ctx)
    assert "holidays_in_period" in model.extra_regressors and "level_shift" in model.extra_regressors
    out = models.prophet(p.y, 13, ctx)
    assert out.shape == (13,) and np.isfinite(out).all()
    assert abs(out.mean() / p.y.iloc[-26:].mean() - 1) < 0.5


def test_global_model_learns_shared_shape_and_round_trips(tmp_path):
    frame = synthetic.monthly_long(n_months=72, n_series=8, seed=9)
    ys = [pd.Series(g["y"].to_numpy(), index=pd.DatetimeIndex(g["ds"])) for _, g in frame.groupby("series_id")]
    train = [y.iloc[:-12] for y in ys]
    model = GlobalWindowModel(24, 12, epochs=60).fit(train, 30.44)
    preds = model.predict_many(train, 30.44)
    errors = [np.mean(np.abs(p - y.iloc[-12:].to_numpy())) / y.mean() for p, y in zip(preds, ys, strict=True)]
    naive = [np.mean(np.abs(y.iloc[-24:-12].to_numpy() - y.iloc[-12:].to_numpy())) / y.mean() for y in ys]
    assert np.mean(errors) < 2 * np.mean(naive)  # learns level and season from scaled windows
    model.save(tmp_path / "m.keras")
    loaded = GlobalWindowModel.load(tmp_path / "m.keras", 24, 12)
    np.testing.assert_allclose(loaded.predict(train[0], 30.44), preds[0], rtol=1e-5)


def test_all_models_compete_in_selection():
    frame = synthetic.monthly_long(n_months=84, n_series=3, seed=10)
    fc, scores, _ = Forecaster(Options(folds=2, epochs=20)).run(frame)
    assert {"prophet", "global_nn", "ets", "sarimax", "ensemble"} <= set(scores["model"])
    assert fc["yhat"].notna().all()


def test_refits_of_the_kept_network_start_from_the_same_state():
    """The compiled network is kept per shape and reset before each fit: a fit after another one on other data
    gives the weights of the first fit on the same data (initial weights, optimizer moments, step counter)."""
    frame = synthetic.monthly_long(n_months=48, n_series=4, seed=11)
    ys = [pd.Series(g["y"].to_numpy(), index=pd.DatetimeIndex(g["ds"])) for _, g in frame.groupby("series_id")]
    first = GlobalWindowModel(12, 6, epochs=5).fit(ys, 30.44)
    other = GlobalWindowModel(12, 6, epochs=5).fit([y * 3 + 100 for y in ys[:2]], 30.44)
    again = GlobalWindowModel(12, 6, epochs=5).fit(ys, 30.44)
    for a, b, c in zip(first.weights, again.weights, other.weights, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.shape == c.shape
    assert any(not np.array_equal(a, c) for a, c in zip(first.weights, other.weights, strict=True))
    start = GlobalWindowModel(12, 6, epochs=1)
    start.fit(ys, 30.44)
    assert any(not np.array_equal(a, s) for a, s in zip(first.weights, start.weights, strict=True))  # it trains
