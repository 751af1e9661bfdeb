"""The forecasting core on small generated and real data: real LightGBM models, real properties."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from demand_insights import forecast, inventory, synthetic
from demand_insights.exceptions import InputDataError
from demand_insights.panel import from_long
from tests.support import DATA

BUDGET = {"max_rows": 30_000, "rounds": 60}


@pytest.fixture(scope="module")
def panel():
    frame = synthetic.generate(16, 200, seed=3)
    return from_long(
        frame,
        "series_id",
        "date",
        "units",
        price_col="price",
        promo_col="promo",
        group_col="group",
        country_col="country",
    )


@pytest.fixture(scope="module")
def model(panel):
    return forecast.fit(panel, 14, version="t1", **BUDGET)


def test_backtest_beats_the_baselines_with_calibrated_intervals(panel):
    result = forecast.backtest(panel, 14, folds=1, **BUDGET)
    pooled = result["pooled"]
    assert pooled["series"] == 16 and pooled["n"] == 16 * 14
    best_baseline = min(pooled["wape_seasonal_naive"], pooled["wape_mean_28"])
    assert pooled["wape_p50"] < best_baseline
    assert 0.6 <= pooled["coverage_p10_p90"] <= 0.97
    assert np.isfinite(pooled["mase_p50"])


def test_forecast_shape_quantile_order_and_version(panel, model):
    fc = model.forecast(panel)
    assert len(fc) == panel.n_series * 14
    assert set(fc["horizon"]) == set(range(1, 15))
    assert (fc["p10"] <= fc["p50"]).all() and (fc["p50"] <= fc["p90"]).all() and (fc["p10"] >= 0).all()
    assert (fc["target_date"] > panel.dates[-1]).all()
    assert (fc["model_version"] == "t1").all()
    holdout = model.metadata["holdout"]
    assert holdout["wape_mean"] < holdout["wape_seasonal_naive"]


def test_training_is_deterministic_and_the_saved_model_reloads(panel, model):
    again = forecast.fit(panel, 14, version="t1", **BUDGET)
    a, b = model.forecast(panel), again.forecast(panel)
    np.testing.assert_allclose(a["mean"], b["mean"])
    reloaded = forecast.ForecastModel.from_files(model.to_files())
    np.testing.assert_allclose(reloaded.forecast(panel)["p90"], a["p90"])
    np.testing.assert_allclose(reloaded.forecast(panel)["p50"], a["p50"])
    assert "pickle" not in model.to_files()["model.txt"][:200].decode()


def test_new_and_intermittent_series_get_sensible_forecasts(panel, model):
    fc = model.forecast(panel)
    history = pd.Series(np.nanmean(panel.y[:, -56:], axis=1), index=panel.ids)
    per_series = fc.groupby("series_id")["mean"].mean()
    # forecasts follow each series' level: rank correlation with the recent mean is high
    assert per_series.corr(history.reindex(per_series.index), method="spearman") > 0.8
    short = [s for s, first in zip(panel.ids, np.argmax(~np.isnan(panel.y), axis=1), strict=True) if first > 0]
    assert short and fc.loc[fc["series_id"].isin(short), "mean"].notna().all()


def test_trading_day_calendar_of_the_real_online_retail_items():
    frame = pd.read_csv(DATA / "forecast-online-retail-top30-items" / "example_online_retail_multivariate.csv")
    small = frame.loc[frame["item"].isin(sorted(frame["item"].unique())[:5])]
    panel = from_long(small, "item", "ds", "y")
    assert not panel.daily  # the shop is closed on Saturdays: trading days only
    assert 5 not in set(panel.future_dates(14).dayofweek)
    model = forecast.fit(panel, 14, version="real", **BUDGET)
    fc = model.forecast(panel)
    assert len(fc) == 5 * 14 and (fc["p90"] >= fc["p10"]).all()


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame(), "empty"),
        (pd.DataFrame({"series_id": ["a"], "date": ["2024-01-01"]}), "missing quantity column"),
        (pd.DataFrame({"series_id": ["a"], "date": ["not a date"], "units": [1]}), "no parseable dates"),
        (pd.DataFrame({"series_id": ["a"], "date": ["2024-01-01"], "units": ["x"]}), "holds no numbers"),
    ],
)
def test_bad_tables_are_refused_with_a_clear_message(frame, message):
    with pytest.raises(InputDataError, match=message):
        from_long(frame, "series_id", "date", "units")


def test_too_short_or_all_zero_history_is_refused():
    one_row = from_long(pd.DataFrame({"s": ["a"], "d": ["2024-01-01"], "q": [3]}), "s", "d", "q")
    with pytest.raises(InputDataError, match="at least"):
        forecast.fit(one_row, 14)
    days = pd.date_range("2024-01-01", periods=80)
    zeros = from_long(pd.DataFrame({"s": "a", "d": days, "q": 0}), "s", "d", "q")
    with pytest.raises(InputDataError, match="zero"):
        forecast.fit(zeros, 14)
    with pytest.raises(InputDataError, match="between 1 and 365 for daily data"):
        forecast.fit(zeros, 366)


def test_inventory_advice_from_the_forecast(panel, model):
    fc = model.forecast(panel)
    ids = list(panel.ids)
    on_hand = pd.Series([0.0, 1e6] + [np.nan] * (len(ids) - 2), index=ids)
    advice = inventory.advise(fc, on_hand, inventory.Policy(lead_time_days=7, service_level=0.95)).set_index(
        "series_id"
    )
    assert (advice["reorder_point"] >= advice["demand_lead_time"]).all()
    assert (advice["safety_stock"] > 0).all()
    empty, full = advice.loc[ids[0]], advice.loc[ids[1]]
    assert empty["order_qty"] > 0 and empty["stockout_risk"] > 0.5
    assert full["order_qty"] == 0 and full["stockout_risk"] < 0.01
    assert advice.loc[ids[2:], "order_qty"].isna().all()
    higher = inventory.advise(fc, on_hand, inventory.Policy(service_level=0.99)).set_index("series_id")
    assert (higher["safety_stock"] >= advice["safety_stock"]).all()


def test_level_features_are_scaled_by_the_series_own_level_without_leakage(panel):
    from demand_insights.features import FEATURES, FeatureBuilder, series_scale

    fb = FeatureBuilder(panel, 14)
    t = panel.n_steps - 30
    block = fb.rows([t], max_target=t + 14)
    y = np.nan_to_num(panel.y)
    # the scale is the series' mean of the 28 steps up to the origin (+1), nothing after it
    expected = series_scale(np.nanmean(panel.y[:, t - 27 : t + 1], axis=1))
    np.testing.assert_allclose(block.scale, expected[block.series], rtol=1e-6)
    np.testing.assert_allclose(FeatureBuilder.unscaled(block, "lag_1"), y[block.series, t], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(block.X[:, FEATURES.index("level_log")], np.log1p(block.scale), rtol=1e-5)
    changed = panel.y.copy()
    changed[:, t + 1 :] *= 10  # the future does not move any feature of rows from origin t
    moved = FeatureBuilder(from_y(panel, changed), 14).rows([t], max_target=t + 14)
    np.testing.assert_array_equal(np.nan_to_num(moved.X), np.nan_to_num(block.X))


def from_y(panel, y):
    from dataclasses import replace

    return replace(panel, y=y)


def test_the_baseline_blend_is_chosen_on_calibration_rows_and_applied(panel, model):
    blend = model.metadata["blend"]
    assert blend["baseline"] in ("mean_28", "seasonal_naive") and 0.0 <= blend["weight"] <= 1.0
    pure_baseline = forecast.ForecastModel(
        model.booster, {**model.metadata, "blend": {**blend, "weight": 0.0}}, model.median
    )
    fb = pure_baseline.builder(panel)
    block = fb.rows([panel.n_steps - 1], max_target=panel.n_steps + 13)
    np.testing.assert_allclose(
        pure_baseline.predict_center(block), np.maximum(forecast.baselines(block)[blend["baseline"]], 0.0)
    )
    # the blend moves the P50 only: the mean stays the tweedie model's expected units
    np.testing.assert_allclose(pure_baseline.predict_mean(block), model.predict_mean(block))


def test_p50_comes_from_the_median_model_and_the_mean_from_the_tweedie_model(panel, model):
    assert model.median is not None and model.metadata["median_model"]["objective"] == "quantile"
    block = model.builder(panel).rows([panel.n_steps - 1], max_target=panel.n_steps + 13)
    median = np.maximum(model.median.predict(block.X), 0.0) * block.scale
    tweedie = np.maximum(model.booster.predict(block.X), 0.0) * block.scale
    np.testing.assert_allclose(model.predict_mean(block), tweedie)
    blend = model.metadata["blend"]
    base = np.maximum(forecast.baselines(block)[blend["baseline"]], 0.0)
    ensemble = model.predict_median(block)  # the LightGBM median, with XGBoost's share when it has one
    np.testing.assert_allclose(model.predict_center(block), blend["weight"] * ensemble + (1 - blend["weight"]) * base)
    # on skewed counts the median sits below the mean: the two boosters really differ
    assert median.sum() < tweedie.sum()


def test_the_xgboost_member_shares_the_p50_as_chosen_on_calibration_rows(panel, model):
    ensemble = model.metadata["ensemble"]
    assert ensemble["lightgbm"] in forecast.ENSEMBLE_SHARES
    assert ensemble["lightgbm"] + ensemble["xgboost"] == pytest.approx(1.0)
    scores = {float(k): v for k, v in ensemble["wape"].items()}
    assert scores[ensemble["lightgbm"]] == min(scores.values())
    block = model.builder(panel).rows([panel.n_steps - 1], max_target=panel.n_steps + 13)
    lightgbm = np.maximum(model.median.predict(block.X), 0.0) * block.scale
    if model.xgb is None:
        assert ensemble["xgboost"] == 0 and forecast.XGB_FILE not in model.to_files()
        np.testing.assert_allclose(model.predict_median(block), lightgbm)
        return
    import xgboost as xgb

    other = np.maximum(model.xgb.predict(xgb.DMatrix(block.X, missing=np.nan)), 0.0) * block.scale
    share = ensemble["lightgbm"]
    np.testing.assert_allclose(model.predict_median(block), share * lightgbm + (1 - share) * other, rtol=1e-5)
    reloaded = forecast.ForecastModel.from_files(model.to_files())
    np.testing.assert_allclose(reloaded.predict_median(block), model.predict_median(block), rtol=1e-6)


def test_a_stored_xgboost_member_that_is_missing_or_corrupt_does_not_load(panel, model):
    files = model.to_files()
    meta = json.loads(files["metadata.json"])
    meta["ensemble"] = {**meta["ensemble"], "lightgbm": 0.5, "xgboost": 0.5}
    files = {**files, "metadata.json": json.dumps(meta).encode()}
    files.pop(forecast.XGB_FILE, None)
    with pytest.raises(ValueError, match=r"model_p50_xgb\.json is missing"):
        forecast.ForecastModel.from_files(files)
    with pytest.raises(ValueError, match=r"model_p50_xgb\.json is not an XGBoost model"):
        forecast.ForecastModel.from_files({**files, forecast.XGB_FILE: b'{"learner": "truncated'})


def test_the_ensemble_choice_prefers_lightgbm_on_ties_and_survives_no_sales():
    block = forecast.RowBlock(
        np.zeros((4, 1), np.float32), np.zeros(4, int), np.zeros(4, int), np.ones(4, int), np.zeros(4), np.ones(4)
    )
    same = np.ones(4)
    assert forecast._choose_ensemble(block, same, same)["lightgbm"] == 1.0  # no sales: WAPE undefined
    block.y[:] = [1.0, 2.0, 3.0, 4.0]
    assert forecast._choose_ensemble(block, block.y.copy(), np.zeros(4))["lightgbm"] == 1.0
    assert forecast._choose_ensemble(block, np.zeros(4), block.y.copy())["lightgbm"] == 0.0


def test_a_model_saved_before_the_median_booster_still_serves(panel, model):
    files = model.to_files()
    assert forecast.MEDIAN_FILE in files
    old_meta = {k: v for k, v in model.metadata.items() if k not in ("median_model", "ensemble", "xgboost_model")}
    old = forecast.ForecastModel.from_files(
        {"model.txt": files["model.txt"], "metadata.json": json.dumps(old_meta).encode()}
    )
    assert old.median is None
    fc = old.forecast(panel)
    assert (fc["p10"] <= fc["p50"]).all() and (fc["p50"] <= fc["p90"]).all()
    with pytest.raises(ValueError, match=r"model_p50\.txt is missing"):
        forecast.ForecastModel.from_files({"model.txt": files["model.txt"], "metadata.json": files["metadata.json"]})
    with pytest.raises(ValueError, match=r"model_p50\.txt is not a LightGBM model"):
        forecast.ForecastModel.from_files({**files, forecast.MEDIAN_FILE: b"tree\nnot a model\n"})


def test_planned_promotions_reach_the_future_rows(panel):
    from demand_insights.features import FEATURES, FeatureBuilder

    last = panel.n_steps - 1
    plain = FeatureBuilder(panel, 14).rows([last], max_target=last + 14)
    assert (plain.X[:, FEATURES.index("promo")] == 0).all()
    planned = from_y(panel, panel.y)
    planned.extra = {"planned_promo": np.ones((panel.n_series, 3))}
    rows = FeatureBuilder(planned, 14).rows([last], max_target=last + 14)
    h = rows.target - rows.origin
    assert (rows.X[h <= 3, FEATURES.index("promo")] == 1).all()
    assert (rows.X[h > 3, FEATURES.index("promo")] == 0).all()


def test_a_stored_model_of_an_older_feature_set_is_retrained(panel, model):
    from demand_insights import service

    assert service._needs_training(model, panel) is None
    old = forecast.ForecastModel(model.booster, {**model.metadata, "features": model.metadata["features"][:-3]})
    assert "feature set" in service._needs_training(old, panel)


def test_median_boosting_stops_on_the_calibration_week_and_the_refit_uses_those_rounds(panel, model):
    stopped = model.metadata["early_stopping"]
    assert stopped["max_rounds"] == BUDGET["rounds"] and stopped["on"] == "calibration week"
    assert 1 <= stopped["median"] <= BUDGET["rounds"] and 1 <= stopped["xgboost"] <= BUDGET["rounds"]
    # the tweedie mean is not stopped early: every round, as before
    assert model.booster.num_trees() == stopped["mean"] == model.metadata["params"]["num_boost_round"] == 60
    assert model.median.num_trees() == stopped["median"]
    if model.xgb is not None:
        assert model.xgb.num_boosted_rounds() == stopped["xgboost"]


def test_calibration_rows_of_many_series_are_a_fixed_sample_within_the_cap():
    assert forecast._sample_series(100, 7 * 28) is None  # 19,600 rows: every series
    mask = forecast._sample_series(12_000, 7 * 28)
    assert mask.sum() == forecast.MAX_CALIBRATION_ROWS // (7 * 28)
    assert (mask == forecast._sample_series(12_000, 7 * 28)).all()  # the same sample on every run
