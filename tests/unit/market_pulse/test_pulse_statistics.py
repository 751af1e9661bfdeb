"""Growth intervals, significance tests and their error rates, on generated data with known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from market_pulse import growth, panel, significance, synthetic


def wide(long: pd.DataFrame) -> pd.DataFrame:
    return panel.from_long_table(long).pivot(index="date", columns="country", values="revenue")


def test_injected_growth_is_inside_its_interval_and_significant():
    long, _ = synthetic.generate(n_countries=6, days=400, seed=3, growth={"DE": 0.30})
    table = growth.growth_table(wide(long), n_boot=500, seed=1)
    de = table[(table["country"] == "DE") & (table["window"] == "mom")].iloc[0]
    assert de["ci_low"] > 0.10 and de["ci_low"] <= 0.30 <= de["ci_high"] + 0.1
    tests = significance.country_tests(significance.adjust_for_tests(wide(long)))
    assert tests.set_index("country").loc["DE", "significant"]


def test_growth_intervals_are_deterministic():
    long, _ = synthetic.generate(n_countries=3, days=120, seed=5)
    a = growth.growth_table(wide(long), n_boot=300, seed=11)
    b = growth.growth_table(wide(long), n_boot=300, seed=11)
    pd.testing.assert_frame_equal(a, b)


def test_yearly_adjustment_only_with_two_years_of_history():
    short, _ = synthetic.generate(n_countries=2, days=400, seed=2)
    long, _ = synthetic.generate(n_countries=2, days=800, seed=2)
    assert set(growth.growth_table(wide(short), n_boot=50)["seasonal_adjustment"]) == {"weekday"}
    mom = growth.growth_table(wide(long), n_boot=50).query("window == 'mom'")
    assert set(mom["seasonal_adjustment"]) == {"weekday+yearly"}


def test_corrections_match_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(0).uniform(0, 0.2, 40)
    np.testing.assert_allclose(significance.holm(p), multipletests(p, method="holm")[1])
    np.testing.assert_allclose(significance.benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1])


def null_panel(seed: int, days: int) -> pd.DataFrame:
    """Eight countries from the same process: no real difference anywhere."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    weekday = np.array([1.0, 1.1, 1.0, 0.9, 1.2, 1.3, 0.7])[dates.dayofweek]
    values = 1000 * weekday[:, None] * np.exp(rng.normal(0, 0.1, (days, 8)))
    return pd.DataFrame(values, index=dates, columns=[f"C{i}" for i in range(8)])


@pytest.mark.parametrize("days", [56, 140], ids=["no-history", "with-history"])
@pytest.mark.parametrize("test", ["country", "pair"])
def test_false_positive_rate_on_no_difference_data_is_at_most_nominal(test, days):
    rejections, tests, family_errors, families = 0, 0, 0, 150
    for seed in range(families):
        tested = significance.adjust_for_tests(null_panel(seed, days))
        if test == "country":
            result = significance.country_tests(tested)
            raw, corrected = result["p_welch"] < 0.05, result["q_bh"] < 0.05
        else:
            result = significance.pair_tests(tested)
            raw, corrected = result["p_welch"] < 0.05, result["p_holm"] < 0.05
        rejections += int(raw.sum())
        tests += len(result)
        family_errors += int(corrected.any())
    assert rejections / tests <= 0.05 + 0.01  # per test: the nominal level (plus Monte Carlo error)
    assert family_errors / families <= 0.05 + 0.02  # any false discovery after correction


def test_weekday_factors_for_the_tests_come_from_earlier_history_only():
    frame = null_panel(0, 140)
    tested = significance.adjust_for_tests(frame)
    assert not tested.equals(frame)
    frame.iloc[-56:] *= 5  # the tested windows do not change the factors
    np.testing.assert_allclose(significance.adjust_for_tests(frame).iloc[:84], tested.iloc[:84])
    assert significance.adjust_for_tests(null_panel(0, 56)).equals(null_panel(0, 56))


def test_share_shift_sums_to_zero_and_finds_the_grower():
    long, _ = synthetic.generate(n_countries=5, days=120, seed=9, growth={"FR": 0.5})
    shares = significance.share_shifts(wide(long)).set_index("country")
    assert shares["shift_pp"].sum() == pytest.approx(0.0, abs=1e-9)
    assert shares["shift_pp"].idxmax() == "FR" and shares.loc["FR", "significant"]
