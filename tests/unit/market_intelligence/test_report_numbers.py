"""The numbers the report states, against golden answers known by construction: a trend's change over a short
span is not compounded to a year, a yearly rate is given from a year of history on, seasonality strength is n/a
below two cycles, revenue forecasts never go below 0, and part-weeks at the data's edges are left out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from market_intelligence import prod_sql, report, trends
from market_intelligence.batch import full_weeks, read_markets
from market_intelligence.forecast import Forecaster, Options
from market_intelligence.series import prepare

from retail_platform.storage import MemoryBlobStore, codec

WEEKS_PER_YEAR = 365.25 / 7


def weekly(values, series_id: str = "Toys|DE") -> pd.DataFrame:
    return pd.DataFrame(
        {"series_id": series_id, "ds": pd.date_range("2023-10-02", periods=len(values), freq="W-MON"), "y": values}
    )


def analyse(values) -> trends.TrendReport:
    return trends.analyse(prepare("Toys|DE", weekly(values)))


def grown(n: int, total_growth: float, noise: float, seed: int) -> np.ndarray:
    """n weeks growing exponentially by `total_growth` from the first week to the last, with lognormal noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10_000 * (1 + total_growth) ** (t / (n - 1)) * np.exp(rng.normal(0, noise, n))


def test_thirteen_weeks_of_ten_percent_growth_report_ten_percent_over_the_span_not_a_yearly_figure():
    r = analyse(grown(13, 0.10, 0.003, seed=1))
    assert r.direction == "up"
    assert abs(r.trend_change - 0.10) < 0.02
    assert r.trend_change_period == "over 13 weeks"
    assert math.isnan(r.relative_change_per_year)  # under a year: no annualised figure at all
    compounded = math.expm1(math.log(1.10) / 12 * WEEKS_PER_YEAR)  # what the old code showed (+51%)
    assert abs(r.trend_change - compounded) > 0.3
    assert "+10% over 13 weeks" in r.summary and "a year" not in r.summary
    assert report._change_cell(r.to_dict()) == "+10% over 13 weeks"


def test_three_years_give_a_yearly_rate_matching_a_log_linear_fit():
    n = 156
    t = np.arange(n)
    rng = np.random.default_rng(7)
    values = 5_000 * 1.25 ** (t / WEEKS_PER_YEAR) * (1 + 0.2 * np.sin(2 * np.pi * t / WEEKS_PER_YEAR))
    values *= np.exp(rng.normal(0, 0.03, n))
    r = analyse(values)
    # independent estimate: least squares of log revenue on time plus one yearly Fourier pair
    x = np.column_stack([np.ones(n), t, np.sin(2 * np.pi * t / WEEKS_PER_YEAR), np.cos(2 * np.pi * t / WEEKS_PER_YEAR)])
    beta, *_ = np.linalg.lstsq(x, np.log(values), rcond=None)
    independent = math.expm1(beta[1] * WEEKS_PER_YEAR)
    assert abs(independent - 0.25) < 0.03  # the check itself recovers the truth
    assert r.trend_change_period == "a year" and r.relative_change_per_year == r.trend_change
    assert abs(r.trend_change - independent) < 0.04 and abs(r.trend_change - 0.25) < 0.04
    assert "% a year" in r.summary


def test_seasonality_is_not_estimable_below_two_cycles_and_is_a_number_from_two():
    rng = np.random.default_rng(3)

    def seasonal(n: int) -> np.ndarray:
        t = np.arange(n)
        return 1_000 + 300 * np.sin(2 * np.pi * t / WEEKS_PER_YEAR) + rng.normal(0, 20, n)

    for n in (13, 52):  # a quarter, one year: fewer than two yearly cycles
        r = analyse(seasonal(n))
        assert math.isnan(r.seasonality_strength) and r.seasonality_note == "needs 2 years"
        assert "Seasonality cannot be judged yet (needs 2 years)." in r.summary
        assert report._seasonality_cell(r.to_dict()) == "n/a (needs 2 years)"
    r = analyse(seasonal(110))
    assert r.seasonality_strength > 0.8 and r.seasonality_note == ""
    assert report._seasonality_cell(r.to_dict()) == f"{r.seasonality_strength:.2f}"


def test_top_movers_are_ranked_by_the_change_shown():
    frame = pd.DataFrame(
        {
            "series_id": ["a|X", "b|X", "c|X", "d|X"],
            "direction": ["up", "down", "up", "flat"],
            "relative_change_per_year": [math.nan, math.nan, 0.3, math.nan],
            "trend_change": [0.10, -0.45, 0.30, 0.9],
            "trend_change_period": ["over 13 weeks", "over 13 weeks", "a year", "over 13 weeks"],
            "seasonality_strength": [math.nan] * 4,
            "seasonality_note": ["needs 2 years"] * 4,
            "summary": ["s"] * 4,
        }
    )
    assert report.top_movers(frame)["series_id"].tolist() == ["b|X", "c|X", "a|X"]  # d is flat
    html = report._table(report.top_movers(frame))
    assert "-45% over 13 weeks" in html and "+30% a year" in html and "n/a (needs 2 years)" in html


def test_revenue_forecast_bounds_never_go_below_zero_but_a_signed_series_keeps_its_interval():
    rng = np.random.default_rng(11)
    n = 60
    falling = np.maximum(0.0, 400 - 6 * np.arange(n) + rng.normal(0, 120, n))  # revenue sliding towards 0
    signed = rng.normal(0, 100, n)  # e.g. a margin that is often negative: nothing to clip
    frame = pd.concat([weekly(falling, "shop|A"), weekly(signed, "margin|A")], ignore_index=True)
    fc, _, _ = Forecaster(Options(models=("seasonal_naive", "drift"), folds=2, threads=1, horizon=8)).run(frame)
    shop, margin = fc[fc["series_id"] == "shop|A"], fc[fc["series_id"] == "margin|A"]
    assert (shop["yhat_lower"] >= 0).all() and (shop["yhat"] >= 0).all()
    assert (shop["yhat_lower"] == 0).any()  # the unclipped band would have gone below 0 here
    assert (margin["yhat_lower"] < 0).all()
    np.testing.assert_allclose(margin["yhat_upper"] - margin["yhat"], margin["yhat"] - margin["yhat_lower"])


def test_partial_first_and_last_weeks_are_left_out_of_the_markets():
    # a quarter from Sunday 2023-10-01 to Wednesday 2023-12-27: the week of 2023-09-25 holds one day, that of
    # 2023-12-25 three; the 12 Mondays from 2023-10-02 to 2023-12-18 are whole weeks
    prod = MemoryBlobStore("prod")
    days = pd.date_range("2023-10-01", "2023-12-27", freq="D")
    mart = pd.DataFrame({"date": days, "sku": "A", "category": "Toys", "country": "DE", "revenue_reporting": 100.0})
    codec.write_parquet(prod, "copilot_mart/month=2023-10/part-0.parquet", mart)
    mondays = pd.date_range("2023-09-25", "2023-12-25", freq="W-MON")
    weekly = pd.DataFrame({"date": mondays, "category": "Toys", "country": "DE", "revenue_reporting": 700.0})
    codec.write_parquet(prod, "market_series/month=2023-10/part-0.parquet", weekly)
    assert prod_sql.days_observed(prod) == (pd.Timestamp("2023-10-01"), pd.Timestamp("2023-12-27"))
    got = read_markets(prod, ("category", "country"))
    assert pd.to_datetime(got["date"]).tolist() == list(pd.date_range("2023-10-02", "2023-12-18", freq="W-MON"))
    assert full_weeks(weekly, None).equals(weekly)  # no daily span known: nothing is dropped
    # a daily span that starts on a Monday and ends on a Sunday cuts no week; one far from the weeks neither
    whole_span = (pd.Timestamp("2023-10-02"), pd.Timestamp("2023-12-31"))
    assert full_weeks(weekly, whole_span).equals(weekly)
    assert full_weeks(weekly, (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-01"))).equals(weekly)
