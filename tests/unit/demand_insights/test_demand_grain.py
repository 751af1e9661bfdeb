"""Forecasts at any grain on real series: detection, seasonal periods, horizon limits, coherent quantiles.

Real data: the UCI Online Retail top-30 items (daily units, aggregated here to weeks and months with pandas)
and the US Census monthly retail sales (tests/data/*/SOURCE.txt).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from demand_insights import fallback, forecast, grain
from demand_insights.__main__ import main
from demand_insights.exceptions import InputDataError
from demand_insights.features import FeatureBuilder
from demand_insights.panel import from_long
from tests.support import DATA

BUDGET = {"max_rows": 30_000, "rounds": 60}
TOP30 = DATA / "forecast-online-retail-top30-items" / "example_online_retail_multivariate.csv"
US = DATA / "forecast-us-retail-sales" / "example_retail_sales.csv"


@pytest.fixture(scope="module")
def daily() -> pd.DataFrame:
    frame = pd.read_csv(TOP30)
    frame["ds"] = pd.to_datetime(frame["ds"])
    return frame


@pytest.fixture(scope="module")
def weekly(daily) -> pd.DataFrame:
    weeks = daily.assign(ds=daily["ds"].dt.to_period("W-SUN").dt.start_time)
    return weeks.groupby(["item", "ds"], as_index=False)["y"].sum()


@pytest.fixture(scope="module")
def us() -> pd.DataFrame:
    return pd.read_csv(US).assign(item="us")


def test_grain_is_detected_from_the_dates(daily, weekly, us):
    assert from_long(daily, "item", "ds", "y").grain is grain.DAILY
    assert from_long(weekly, "item", "ds", "y").grain is grain.WEEKLY
    monthly = from_long(us, "item", "ds", "y")
    assert monthly.grain is grain.MONTHLY and monthly.n_steps == 293
    assert list(monthly.future_dates(2)) == [pd.Timestamp("2016-06-01"), pd.Timestamp("2016-07-01")]
    month_ends = us.assign(ds=pd.to_datetime(us["ds"]) + pd.offsets.MonthEnd(0))
    ends = from_long(month_ends, "item", "ds", "y")
    assert ends.grain is grain.MONTHLY and ends.future_dates(1)[0] == pd.Timestamp("2016-06-30")
    # one slow seller of the daily table: sales days weeks apart on any weekday are still daily data
    slow = daily.loc[daily["item"] == daily["item"].value_counts().index[-1]].iloc[::9]
    assert grain.detect(pd.DatetimeIndex(slow["ds"])) is grain.DAILY
    with pytest.raises(InputDataError, match="cannot tell the grain"):
        grain.detect(pd.DatetimeIndex(pd.date_range("2020-01-01", periods=12, freq="QS")))


def test_a_daily_table_given_a_weekly_grain_is_summed_into_weeks(daily):
    panel = from_long(daily, "item", "ds", "y", grain="weekly")
    assert panel.grain is grain.WEEKLY and (np.diff(panel.dates.asi8) == 7 * 86_400e9).all()
    first = daily["ds"].min()
    golden = daily.assign(week=(daily["ds"] - first).dt.days // 7).groupby(["item", "week"])["y"].sum()
    item = "85123A"
    row = panel.y[list(panel.ids).index(item)]
    for week, units in golden.loc[item].items():
        assert row[week] == units


@pytest.mark.parametrize(("fixture", "period"), [("weekly", 52), ("us", 12)])
def test_seasonal_naive_repeats_the_value_one_cycle_back(request, fixture, period):
    panel = from_long(request.getfixturevalue(fixture), "item", "ds", "y")
    assert panel.grain.period == period
    t = panel.n_steps - 1
    horizon = min(panel.grain.default_horizon, t + 1 - period)
    block = FeatureBuilder(panel, horizon).rows([t], max_target=t + horizon)
    naive = forecast.baselines(block)["seasonal_naive"]
    expected = panel.y[block.series, block.target - period]
    # a series born within the last cycle has no value one cycle back: the mean of its last 28 steps
    recent = np.nanmean(panel.y[:, t - 27 : t + 1], axis=1)[block.series]
    assert np.isnan(expected).any() == (fixture == "weekly")
    np.testing.assert_allclose(naive, np.where(np.isnan(expected), recent, expected), rtol=1e-6)


def test_seasonal_naive_falls_back_to_the_recent_mean_within_the_first_cycle(us):
    panel = from_long(us, "item", "ds", "y").head(10)  # January to October 1992
    block = FeatureBuilder(panel, 6).rows([9], max_target=15)  # November 1992 to April 1993
    sales = us["y"].to_numpy(float)
    expected = [sales[:10].mean()] * 2 + list(sales[0:4])  # no November/December 1992 yet; January-April 1992
    np.testing.assert_allclose(forecast.baselines(block)["seasonal_naive"], expected, rtol=1e-6)


@pytest.mark.parametrize(("code", "limit"), [("D", 365), ("W", 52), ("M", 12)])
def test_horizons_reach_one_yearly_cycle_and_no_further(code, limit):
    step = grain.GRAINS[code]
    assert grain.check_horizon(limit, step) == limit and step.max_horizon == limit
    with pytest.raises(InputDataError, match=f"between 1 and {limit} for {step.name} data"):
        grain.check_horizon(limit + 1, step)
    with pytest.raises(InputDataError, match="between 1"):
        grain.check_horizon(0, step)


def test_monthly_fit_refuses_13_months_ahead(us):
    with pytest.raises(InputDataError, match="between 1 and 12 for monthly data"):
        forecast.fit(from_long(us, "item", "ds", "y"), 13)


def coherent(frame: pd.DataFrame) -> None:
    assert (frame["p10"] <= frame["p50"]).all() and (frame["p50"] <= frame["p90"]).all()
    assert (frame["p10"] >= 0).all()
    assert forecast.mean_outside_share(frame) == 0.0


def test_real_monthly_backtest_beats_seasonal_naive_with_coherent_quantiles(us):
    result = forecast.backtest(from_long(us, "item", "ds", "y"), 12, folds=2, **BUDGET)
    pooled = result["pooled"]
    coherent(result["frame"])
    assert pooled["n"] == 24 and pooled["mean_outside_p10_p90"] == 0.0
    assert pooled["wape_mean"] < pooled["wape_seasonal_naive"]
    assert 0.0 <= pooled["mean_outside_before_widening"] <= 1.0


def test_real_daily_and_weekly_backtests_have_coherent_quantiles(daily, weekly):
    items = sorted(daily["item"].unique())[:10]
    day = forecast.backtest(from_long(daily.loc[daily["item"].isin(items)], "item", "ds", "y"), 28, **BUDGET)
    coherent(day["frame"])
    assert day["pooled"]["wape_p50"] < day["pooled"]["wape_seasonal_naive"]
    week = forecast.backtest(from_long(weekly, "item", "ds", "y"), 13, **BUDGET)
    coherent(week["frame"])
    assert week["pooled"]["n"] == 30 * 13


def test_cli_forecasts_a_year_of_weeks_and_reports_the_mean_outside_share(weekly, tmp_path, capsys):
    weekly.to_csv(tmp_path / "weekly.csv", index=False)
    args = ["forecast", "--input", str(tmp_path / "weekly.csv"), "--id-col", "item", "--date-col", "ds"]
    args += ["--qty-col", "y", "--horizon", "52", "--folds", "0", "--out", str(tmp_path / "out")]
    assert main([*args, "--rounds", "40", "--max-rows", "20000"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["grain"] == "weekly" and summary["seasonal_period"] == 52 and summary["horizon"] == 52
    assert summary["mean_outside_p10_p90"] == 0.0 and "mean_outside_before_widening" in summary
    forecasts = pd.read_csv(tmp_path / "out" / "forecasts.csv", parse_dates=["target_date"])
    assert len(forecasts) == 30 * 52 and forecasts["target_date"].dt.dayofweek.eq(0).all()
    coherent(forecasts)
    assert main([*args[:-6], "--horizon", "53"]) == 2
    assert "between 1 and 52 for weekly data" in capsys.readouterr().err


def test_thirteen_months_get_the_seasonal_naive_baseline_with_intervals(daily):
    months = daily.assign(ds=daily["ds"].dt.to_period("M").dt.start_time)
    panel = from_long(months.groupby(["item", "ds"], as_index=False)["y"].sum(), "item", "ds", "y")
    assert panel.grain is grain.MONTHLY and panel.n_steps == 13 < forecast.MIN_STEPS
    frame, note = fallback.baseline_forecast(panel, 12)
    assert "13 monthly steps" in note and "period 12" in note
    coherent(frame)
    one = frame.loc[frame["horizon"] == 1].set_index("series_id")["mean"]  # January 2012 = January 2011
    year_ago, recent = panel.y[:, 1], np.nanmean(panel.y, axis=1)  # items born later: their 13-month mean
    assert np.isnan(year_ago).sum() == 2
    np.testing.assert_allclose(one.reindex(panel.ids), np.where(np.isnan(year_ago), recent, year_ago), rtol=1e-6)
    assert (frame["p90"] > frame["p10"]).any()
