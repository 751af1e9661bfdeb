"""Level-shift and trend detection on small deterministic series: what must be found and what must not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from market_intelligence import trends
from market_intelligence.series import prepare

N = 156


def weekly(values) -> pd.DataFrame:
    return pd.DataFrame(
        {"series_id": "s", "ds": pd.date_range("2022-01-03", periods=len(values), freq="W-MON"), "y": values}
    )


def seasonal_noise(seed: int, amp: float = 0.25, noise: float = 0.04) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(N)
    return 10_000 * (1 + amp * np.sin(2 * np.pi * t / 52.18 + seed)) * (1 + rng.normal(0, noise, N))


def analyse(values) -> trends.TrendReport:
    return trends.analyse(prepare("s", weekly(values)))


@pytest.mark.parametrize(("at", "factor"), [(70, 1.4), (60, 0.65), (95, 1.25)])
def test_clear_level_shift_is_found_within_two_weeks(at, factor):
    values = seasonal_noise(at)
    values[at:] *= factor
    report = analyse(values)
    truth = weekly(values)["ds"].iloc[at]
    assert len(report.changepoints) == 1
    assert abs((pd.Timestamp(report.changepoints[0]) - truth).days) <= 14
    assert report.direction == "flat"  # a step is a level shift, not a trend


@pytest.mark.parametrize("seed", range(6))
def test_no_changepoint_on_noise_and_seasonality(seed):
    report = analyse(seasonal_noise(seed, amp=0.35))
    assert report.changepoints == []
    assert report.direction == "flat"


@pytest.mark.parametrize(("start", "factor"), [(80, 1.8), (40, 0.5), (110, 2.5)])
def test_outlier_month_is_not_a_level_shift(start, factor):
    values = seasonal_noise(start)
    values[start : start + 4] *= factor
    assert analyse(values).changepoints == []


def test_placeholder_month_is_not_a_level_shift():
    values = seasonal_noise(3)
    values[90:94] = 0.0
    report = analyse(values)
    assert report.changepoints == []
    assert {str(d.date()) for d in weekly(values)["ds"].iloc[90:94]} <= set(report.anomalies)


@pytest.mark.parametrize("seed", range(4))
def test_trend_found_on_noisy_upward_series_and_not_on_flat(seed):
    t = np.arange(N)
    rng = np.random.default_rng(100 + seed)
    up = seasonal_noise(seed, noise=0.06) * 1.12 ** (t / 52.18)  # +12% a year under 6% weekly noise
    report = analyse(up)
    assert report.direction == "up"
    assert 0.06 < report.relative_change_per_year < 0.18
    assert report.changepoints == []
    down = seasonal_noise(seed) * 0.85 ** (t / 52.18) * (1 + rng.normal(0, 0.02, N))
    assert analyse(down).direction == "down"
    assert analyse(seasonal_noise(seed, noise=0.06)).direction == "flat"


def test_trend_with_a_level_shift_keeps_its_direction():
    t = np.arange(N)
    values = seasonal_noise(9) * 1.2 ** (t / 52.18)
    values[75:] *= 0.7
    report = analyse(values)
    assert report.direction == "up"
    assert (
        len(report.changepoints) == 1
        and abs((pd.Timestamp(report.changepoints[0]) - weekly(values)["ds"].iloc[75]).days) <= 14
    )


def test_hamed_rao_is_more_conservative_on_autocorrelated_noise():
    plain = corrected = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        e = rng.normal(0, 1, 200)
        x = np.zeros(200)
        for i in range(1, 200):  # AR(1), phi = 0.8, no trend
            x[i] = 0.8 * x[i - 1] + e[i]
        p_plain, p_hr = trends.mann_kendall(x)[1], trends.mann_kendall(x, hamed_rao=True)[1]
        assert p_hr >= p_plain
        plain += p_plain < 0.05
        corrected += p_hr < 0.05
    assert plain >= 8 and corrected <= plain // 2  # 10 and 4 of 20 (seeds 0-19)


def test_blocked_mann_kendall_and_hac_ignore_a_step():
    rng = np.random.default_rng(6)
    x = rng.normal(0, 1, 120)
    x[60:] += 5
    assert trends.mann_kendall(x)[1] < 1e-6 and trends.hac_trend(x)[1] < 1e-3
    assert trends.mann_kendall(x, breaks=[60])[1] > 0.05
    assert trends.hac_trend(x, breaks=[60])[1] > 0.05


def test_changepoints_without_seasonality():
    rng = np.random.default_rng(7)
    x = rng.normal(0, 1, 100)
    x[40:] += 4
    assert trends.changepoints(x) == [40]
    assert trends.changepoints(rng.normal(0, 1, 100)) == []
