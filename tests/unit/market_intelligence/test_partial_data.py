"""Partial real data: which markets get a trend or a forecast, and the horizon, never a crash on null revenue.

The markets are weekly revenue per country of the UCI Online Retail sample (real data), cut to the shapes a
real export has: one country, a month of history, amounts without an FX rate (revenue_reporting null).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from market_intelligence import coverage, sharded
from market_intelligence.batch import analyse_trends, market_long
from market_intelligence.exceptions import InputError
from market_intelligence.forecast import Options

from tests.support import DATA

UCI = DATA / "online-retail" / "online_retail_sample.csv"


@pytest.fixture(scope="module")
def weekly() -> pd.DataFrame:
    """market_series-shaped weekly revenue per country (Monday of the week), computed here with pandas."""
    raw = pd.read_csv(UCI)
    ts = pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M")
    frame = pd.DataFrame(
        {
            "date": (ts - pd.to_timedelta(ts.dt.weekday, unit="D")).dt.normalize(),
            "category": "uncategorised",
            "country": raw["Country"],
            "revenue_reporting": raw["Quantity"] * raw["UnitPrice"],
        }
    )
    return frame.groupby(["date", "category", "country"], as_index=False)["revenue_reporting"].sum()


def test_markets_are_sorted_by_the_history_they_have(weekly):
    """History = weeks from a market's first sale to the data's last week (weeks without sales count as 0)."""
    recent = weekly[weekly["date"] > weekly["date"].max() - pd.Timedelta(weeks=12)]  # the last 12 weeks
    weeks = (recent["date"].max() - recent.groupby("country")["date"].min()).dt.days // 7 + 1
    long = market_long(recent)
    covered = coverage.assess(long)
    expected_forecast = sorted(f"uncategorised|{c}" for c in weeks.index[weeks >= coverage.MIN_FORECAST_PERIODS])
    expected_trend = sorted(f"uncategorised|{c}" for c in weeks.index[weeks >= coverage.MIN_TREND_PERIODS])
    assert covered.forecastable == expected_forecast and "uncategorised|United Kingdom" in expected_forecast
    assert covered.trendable == expected_trend
    trend_only = weeks[(weeks >= coverage.MIN_TREND_PERIODS) & (weeks < coverage.MIN_FORECAST_PERIODS)]
    assert len(trend_only) >= 2  # Finland and Spain first bought in the last 7 weeks
    listed = ", ".join(f"uncategorised|{c} ({n})" for c, n in sorted(trend_only.items())[:3])
    assert covered.notes == [
        f"{len(trend_only)} market(s) have fewer than 8 weeks of revenue: trend only, no forecast for {listed}"
        + (", ..." if len(trend_only) > 3 else "")
    ]


def test_null_revenue_is_no_market_to_forecast_not_a_nan_crash(weekly):
    """The crash of issue #15: revenue_reporting null everywhere (no FX rate) made horizon_for int(NaN)."""
    uk = weekly[weekly["country"] == "United Kingdom"].assign(revenue_reporting=np.nan)
    long = market_long(uk)
    with pytest.raises(InputError, match="no market has revenue"):
        sharded.horizon_for(long, Options())
    covered = coverage.assess(long)
    assert covered.forecastable == [] and covered.trendable == []
    assert covered.notes == [
        "1 market(s) have no revenue in the reporting currency (amounts without an FX rate): "
        "no trend or forecast for uncategorised|United Kingdom"
    ]
    assert analyse_trends(long, None).empty


def test_horizon_ignores_markets_without_revenue(weekly):
    uk = weekly[weekly["country"] == "United Kingdom"]
    nan_market = weekly[weekly["country"] == "France"].assign(revenue_reporting=np.nan)
    long = market_long(pd.concat([uk, nan_market]))
    n = uk["date"].nunique()  # one market with revenue: its length sets the horizon
    assert sharded.horizon_for(long, Options()) == min(13, max(1, (n - 6) // 2))


def test_a_month_of_history_gives_trends_but_no_forecast(weekly):
    uk = weekly[weekly["country"] == "United Kingdom"].sort_values("date").tail(5)
    long = market_long(uk)
    covered = coverage.assess(long)
    assert covered.forecastable == [] and covered.trendable == ["uncategorised|United Kingdom"]
    assert "trend only, no forecast for uncategorised|United Kingdom (5)" in covered.notes[0]
    trends = analyse_trends(long, None)
    assert list(trends["series_id"]) == ["uncategorised|United Kingdom"] and trends["n_obs"].iloc[0] == 5


def test_rows_without_a_market_are_not_a_market(weekly):
    frame = weekly.copy()
    frame.loc[frame.index[:3], "category"] = None
    long = market_long(frame)
    assert set(long["series_id"]) == {f"uncategorised|{c}" for c in frame.dropna(subset=["category"])["country"]}


def test_one_date_or_no_rows_say_so():
    one_day = market_long(
        pd.DataFrame({"date": ["2024-01-01"], "category": ["a"], "country": ["DE"], "revenue_reporting": [5.0]})
    )
    assert coverage.assess(one_day).forecastable == [] and analyse_trends(one_day, None).empty
    assert "fewer than 4 periods" in coverage.assess(one_day).notes[0]
    empty = market_long(pd.DataFrame(columns=["date", "category", "country", "revenue_reporting"]))
    assert coverage.assess(empty).notes == ["market_series is empty: no market to forecast or trend"]


def test_weeks_without_sales_are_zero_not_interpolated(weekly):
    """One country that sold in few weeks (the sample's Germany): absent weeks are 0 up to the data's last week."""
    de = weekly[weekly["country"] == "Germany"]
    others = weekly[weekly["country"] == "United Kingdom"]
    long = market_long(pd.concat([de, others]))
    series = long[long["series_id"] == "uncategorised|Germany"].set_index("ds")["y"]
    last = weekly["date"].max()
    expected = pd.date_range(de["date"].min(), last, freq="W-MON")
    assert list(series.index) == list(expected)
    sold = de.set_index("date")["revenue_reporting"]
    assert series.reindex(sold.index).tolist() == pytest.approx(sold.tolist())
    assert (series.drop(sold.index) == 0).all() and len(series) > len(sold)
    unknown = market_long(de.assign(revenue_reporting=np.nan))  # no FX rate: unknown stays unknown, no zeros
    assert unknown["y"].isna().all() and len(unknown) == len(de)
    partly = de.copy()
    partly.loc[partly.index[1], "revenue_reporting"] = np.nan  # one week without a rate in a market with revenue
    kept = market_long(pd.concat([partly, others])).set_index(["series_id", "ds"])["y"]
    assert np.isnan(kept[("uncategorised|Germany", partly["date"].iloc[1])])
