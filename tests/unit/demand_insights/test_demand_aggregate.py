"""The demand report's aggregate forecast: level = sum of the series' means, interval from simulated totals.

Golden answers come from an independent Monte Carlo written here with numpy/scipy.stats (a different
sampler: numpy's uniform and multivariate normal draws), on series whose true predictive distributions are
known (uniform on [a, b]: its quantile function is the linear one aggregate.py builds from P10/P50/P90)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from demand_insights import aggregate, fallback, report
from demand_insights.panel import from_long

DATE = pd.Timestamp("2024-01-01")


def uniform_rows(n: int = 40, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    low = rng.uniform(0, 5, n)
    high = low + rng.uniform(1, 12, n)
    width = high - low
    frame = pd.DataFrame(
        {
            "target_date": DATE,
            "mean": (low + high) / 2,
            "p10": low + 0.1 * width,
            "p50": low + 0.5 * width,
            "p90": low + 0.9 * width,
        }
    )
    return frame, low, high


def independent_totals(low, high, rho: float, draws: int = 200_000, seed: int = 99) -> np.ndarray:
    """Totals of uniforms on [low, high] coupled by an equicorrelated Gaussian copula (rho = 0: independent)."""
    rng = np.random.default_rng(seed)
    n = len(low)
    if rho == 0:
        return rng.uniform(low, high, size=(draws, n)).sum(axis=1)
    cov = np.full((n, n), rho) + (1 - rho) * np.eye(n)
    z = rng.multivariate_normal(np.zeros(n), cov, size=draws, method="cholesky")
    return (low + (high - low) * stats.norm.cdf(z)).sum(axis=1)


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_aggregate_interval_matches_an_independent_monte_carlo(rho):
    frame, low, high = uniform_rows()
    total = aggregate.aggregate(frame, rho, paths=20_000).iloc[0]
    golden = np.quantile(independent_totals(low, high, rho), [0.1, 0.5, 0.9])
    spread = golden[2] - golden[0]
    assert total["mean"] == pytest.approx(frame["mean"].sum(), rel=1e-12)  # the level: sum of means
    for got, want in zip(total[["p10", "p50", "p90"]], golden, strict=True):
        assert abs(got - want) < 0.03 * spread  # Monte Carlo error of both estimates is ~1% of the spread
    # the sum of per-series quantiles is the band the report used to draw: far wider than the total's
    assert frame["p90"].sum() - frame["p10"].sum() > (1.3 if rho else 4) * spread


def test_each_rows_draws_have_its_mean_and_its_quantiles():
    rows = pd.DataFrame({"p10": [0.0, 2.0, 0.0], "p50": [0.0, 5.0, 1.0], "p90": [2.0, 9.0, 4.0], "mean": [0.6, 5.2, 3]})
    values = aggregate.quantile_knots(*(rows[c].to_numpy(float) for c in ("p10", "p50", "p90", "mean")))
    u = np.random.default_rng(3).uniform(size=(400_000, 1)).repeat(3, axis=1)
    sample = aggregate.draw(values, u)
    assert np.allclose(sample.mean(axis=0), rows["mean"], rtol=0.01)  # scaled to the row's mean
    assert (sample >= 0).all()
    # the middle row's quantile function: 1.25 (2 - 3/4) at u=0, then 2, 5, 9, and 10 (9 + 4/4) at u=1; its
    # integral 0.1*3.25/2 + 0.4*7/2 + 0.4*14/2 + 0.1*19/2 = 5.3125, so the quantiles scale by 5.2 / 5.3125
    scale = 5.2 / 5.3125
    assert np.quantile(sample[:, 1], [0.1, 0.5, 0.9]) == pytest.approx([2 * scale, 5 * scale, 9 * scale], rel=0.01)
    point = aggregate.quantile_knots(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1))
    assert (point == 0).all()


def test_common_correlation_of_the_history():
    rng = np.random.default_rng(5)
    steps, n = 16 * 7, 30
    weekday = np.tile([1.0, 1.2, 0.9, 1.1, 1.5, 2.0, 0.6], steps // 7)  # shared seasonality is not correlation
    factor = rng.standard_normal(steps)
    correlated = 10 * weekday + np.sqrt(0.4) * factor + np.sqrt(0.6) * rng.standard_normal((n, steps))
    independent = 10 * weekday + rng.standard_normal((n, steps))
    assert aggregate.common_correlation(correlated, 7) == pytest.approx(0.4, abs=0.08)
    assert aggregate.common_correlation(independent, 7) < 0.05
    assert aggregate.common_correlation(independent[:1], 7) == 0.0
    unborn = independent.copy()
    unborn[0, :50] = np.nan  # a series that started late is left out, not a NaN result
    assert 0.0 <= aggregate.common_correlation(unborn, 7) < 0.05


def daily_table(start: str, end: str) -> pd.DataFrame:
    days = pd.date_range(start, end, freq="D")
    return pd.DataFrame({"series_id": "A", "date": days, "units": np.arange(len(days)) % 5 + 1.0})


def test_partial_weeks_and_months_at_the_ends_are_flagged():
    table = daily_table("2024-01-01", "2024-03-13")  # ten full weeks from Monday 1 January, then 2 of 7 days
    panel = from_long(table, grain="weekly")
    history = aggregate.history_totals(panel.dates, np.nansum(panel.y, axis=0), "W", table["date"])
    assert history["partial"].tolist() == [False] * 10 + [True]
    assert history["units"].iloc[-1] == table["units"].iloc[-3:].sum()
    monthly = daily_table("2024-01-15", "2024-04-30")
    panel = from_long(monthly, grain="monthly")
    history = aggregate.history_totals(panel.dates, np.nansum(panel.y, axis=0), "M", monthly["date"])
    assert history["partial"].tolist() == [True, False, False, False]  # January from the 15th only
    weekly_rows = table.iloc[::7]  # a weekly table: each row is its whole week, none is partial
    panel = from_long(weekly_rows)
    history = aggregate.history_totals(panel.dates, np.nansum(panel.y, axis=0), "W", weekly_rows["date"])
    assert not history["partial"].any()


def test_report_chart_level_is_the_sum_of_means_and_marks_partial_steps():
    table = daily_table("2024-01-01", "2024-04-10").assign(series_id=lambda f: f["date"].dt.day % 3)
    panel = from_long(table, grain="weekly")
    fc, _ = fallback.baseline_forecast(panel, 4)
    history = aggregate.history_totals(panel.dates, np.nansum(panel.y, axis=0), "W", table["date"])
    out = {"_frames": {"forecasts": fc, "history": history}, "series_correlation": 0.2}
    drawn_history, total = report.chart_data(out)
    expected = fc.groupby("target_date")["mean"].sum()
    assert np.allclose(total.set_index("target_date")["mean"], expected, rtol=1e-12)
    assert (total["p10"] <= total["p90"]).all() and drawn_history["partial"].iloc[-1]
    note = report._aggregate_note(drawn_history, 0.2, "week")
    assert "sum of the series' means" in note and "Partial weeks" in note and "2024-04-08" in note


def test_flag_columns_with_nulls_build_a_panel_without_a_future_warning():
    table = daily_table("2024-01-01", "2024-02-15")
    table["promo"] = pd.Series([True, None, False] * 20, dtype=object)[: len(table)].to_numpy()
    table["stockout"] = pd.array([True, pd.NA, False] * 20, dtype="boolean")[: len(table)]
    table["price"] = ["1.5", "2", None] * 15 + ["3"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        panel = from_long(table, price_col="price", promo_col="promo", stockout_col="stockout")
    assert panel.promo[0, :3].tolist() == [1.0, 0.0, 0.0]  # a missing promo flag is no promotion
    assert np.isnan(panel.stockout[0, 1]) and panel.stockout[0, 0] == 1.0
    assert panel.price[0, :4].tolist() == [1.5, 2.0, 2.0, 1.5]  # parsed text, forward-filled over the gap
