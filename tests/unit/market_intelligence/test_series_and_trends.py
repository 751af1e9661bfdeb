"""Input validation, cleaning, level shifts and the trend statistics on series with known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from market_intelligence import synthetic, trends
from market_intelligence.batch import market_long
from market_intelligence.exceptions import InputError
from market_intelligence.series import WEEKLY, detect_level_shift, infer_frequency, prepare, validate_long


def weekly(values, start="2022-01-03", sid="s") -> pd.DataFrame:
    return pd.DataFrame({"series_id": sid, "ds": pd.date_range(start, periods=len(values), freq="W-MON"), "y": values})


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame(), "empty"),
        (pd.DataFrame({"series_id": ["a"], "ds": ["2024-01-01"]}), "missing columns: y"),
        (pd.DataFrame({"series_id": ["a"], "ds": ["not a date"], "y": [1]}), "not dates"),
        (pd.DataFrame({"series_id": ["a"], "ds": ["2024-01-01"], "y": ["x"]}), "no numeric"),
    ],
)
def test_bad_tables_are_refused_with_a_reason(frame, message):
    with pytest.raises(InputError, match=message):
        validate_long(frame)


def test_single_row_series_is_refused():
    with pytest.raises(InputError, match="at least two dates"):
        infer_frequency(pd.Series(pd.to_datetime(["2024-01-01"])))


def test_frequency_inference():
    assert infer_frequency(weekly(np.ones(10))["ds"]) is WEEKLY
    assert infer_frequency(pd.Series(pd.date_range("2020-01-01", periods=10, freq="MS"))).code == "MS"


def test_placeholder_zeros_are_cleaned_and_reported():
    rng = np.random.default_rng(1)
    values = 1000 + rng.normal(0, 20, 60)
    values[30:34] = 0.0
    p = prepare("s", weekly(values))
    assert len(p.outliers) == 4 and p.y.iloc[30:34].min() > 900


def test_level_shift_found_but_not_on_trend_or_spike():
    rng = np.random.default_rng(2)
    base = 1000 + rng.normal(0, 15, 80)
    shifted = base.copy()
    shifted[50:] *= 1.5
    index = pd.date_range("2022-01-03", periods=80, freq="W-MON")
    assert detect_level_shift(pd.Series(shifted, index=index)) == index[50]
    trend = pd.Series(1000 + 10 * np.arange(80) + rng.normal(0, 15, 80), index=index)
    assert detect_level_shift(trend) is None
    assert detect_level_shift(pd.Series(base, index=index)) is None


def test_mann_kendall_and_hac_on_known_trends():
    rng = np.random.default_rng(3)
    up = np.arange(100) * 0.5 + rng.normal(0, 5, 100)
    tau, p, slope = trends.mann_kendall(up)
    assert tau > 0.3 and p < 1e-6 and 0.4 < slope < 0.6
    hac_slope, hac_p = trends.hac_trend(up)
    assert hac_p < 0.001 and abs(hac_slope - 0.5) < 0.1
    _tau, p_noise, _ = trends.mann_kendall(rng.normal(0, 5, 100))
    assert p_noise > 0.01


def test_trend_analysis_recovers_injected_truth():
    series, truth = synthetic.markets(n_weeks=156, seed=11)
    long = market_long(series)
    truth = truth.set_index("series_id")
    hits = shifts = found = 0
    for sid, row in truth.iterrows():
        report = trends.analyse(prepare(sid, long[long["series_id"] == sid]))
        hits += report.direction == row["trend"] if row["kind"] in ("up", "down", "none") else 0
        if row["kind"] == "shift":
            shifts += 1
            dates = pd.to_datetime(report.changepoints)
            found += any(abs((d - row["shift_at"]).days) <= 21 for d in dates)
        if row["kind"] == "placeholder":
            assert set(pd.to_datetime(report.anomalies)) >= set(row["placeholders"])
        assert report.summary.startswith(sid.replace("|", " in "))
    trend_cases = truth["kind"].isin(["up", "down", "none"]).sum()
    assert hits / trend_cases >= 0.8
    assert shifts == 0 or found / shifts >= 0.75


def test_seasonality_strength_separates_seasonal_from_flat():
    t = np.arange(156)
    rng = np.random.default_rng(4)
    seasonal = prepare("a", weekly(1000 + 300 * np.sin(2 * np.pi * t / 52.18) + rng.normal(0, 20, 156)))
    flat = prepare("b", weekly(1000 + rng.normal(0, 20, 156)))
    assert trends.analyse(seasonal).seasonality_strength > 0.8
    assert trends.analyse(flat).seasonality_strength < 0.5  # three cycles: noise leaks into the seasonal part
