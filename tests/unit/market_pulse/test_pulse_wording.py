"""The pulse explanation a retailer reads (#17.4): a percentage only off a material base, otherwise the change
in money; each driver compared with the typical market it is ranked against; each figure said once."""

from __future__ import annotations

import numpy as np
import pandas as pd
from market_pulse import growth, pulse_index, report


def _signals(**columns) -> pd.DataFrame:
    return pd.DataFrame({"country": ["GB", "DE", "FR"], **columns})


def test_a_tiny_base_gives_the_change_in_money_not_a_percentage():
    # FI as in the UCI export: one order of 10.20 the month before, one of 19.90 now (+95%, +27214% adjusted)
    signals = pd.DataFrame(
        {
            "country": ["FI", "DE"],
            "mom_growth": [np.nan, 0.1],
            "mom_growth_change": [19.90 - 10.20, np.nan],
            "mom_growth_base_orders": [1.0, 200.0],
        }
    )
    text = pulse_index.compute(signals, currency="GBP").set_index("country").loc["FI", "explanation"]
    assert "revenue month over month +GBP 9.70 (previous 28 days: 1 order, too few for a percentage" in text
    assert "%" not in text


def test_a_material_base_gives_the_percentage_once():
    signals = pd.DataFrame({"country": ["DE"], "mom_growth": [0.2], "mom_growth_base_orders": [25.0]})
    text = pulse_index.compute(signals, {"DE": False}, currency="EUR").iloc[0]["explanation"]
    assert text == "DE: pulse 50, in line with the typical market; revenue +20.0% month over month (not significant)."


def test_a_fall_smaller_than_the_typical_market_says_so_and_says_it_once():
    text = pulse_index.compute(_signals(mom_growth=[-0.195, -0.40, -0.60]), {"GB": False}).iloc[0]["explanation"]
    # median -40%, 1.4826 * MAD = 0.2965: GB's z = 0.205 / 0.2965 = 0.691, index 50 + 10 * 0.691 = 56.9
    assert text.startswith("GB: pulse 57, above the typical market. ")
    assert (
        "Revenue month over month -19.5% (not significant), better than the typical market's -40.0%, lifted it" in text
    )
    assert text.count("19.5%") == 1


def test_a_lower_cancellation_rate_is_better_than_the_typical_market():
    signals = _signals(cancellation_rate_change=[-0.02, 0.0, 0.01])
    text = pulse_index.compute(signals).iloc[0]["explanation"]
    assert "cancellation rate -2.0% pts, better than the typical market's +0.0% pts, lifted it" in text.lower()


def test_base_orders_count_the_reference_window_and_last_years_windows_apart():
    days = pd.date_range("2023-01-01", periods=430, freq="D")
    orders = pd.DataFrame({"A": 2.0, "B": 1.0}, index=days)
    orders.iloc[430 - 28 - 364 : 430 - 364, 0] = 0.0  # A sold nothing in last year's weeks of the recent month
    bases = growth.base_orders(orders).set_index(["window", "country"])
    assert bases.loc[("wow", "A"), "base_orders"] == 14 and bases.loc[("wow", "B"), "base_orders"] == 7
    assert bases.loc[("mom", "A"), "base_orders"] == 56 and bases.loc[("mom", "B"), "base_orders"] == 28
    # the yearly adjustment of month over month divides by last year's two windows: A's recent one is empty
    assert bases.loc[("mom", "A"), "last_year_orders"] == 0 and bases.loc[("mom", "B"), "last_year_orders"] == 28
    assert bases.loc[("yoy", "A"), "base_orders"] == 0 and np.isnan(bases.loc[("yoy", "A"), "last_year_orders"])


def test_the_bar_chart_names_every_market_up_to_thirty_then_the_top_and_bottom_fifteen():
    few = pd.DataFrame({"country": [f"M{i}" for i in range(26)], "pulse_index": np.linspace(70, 30, 26)})
    shown, note = report.bars_shown(few)
    assert shown.equals(few) and note == ""
    assert report.chart_height(26) == 1.4 + 0.2 * 26 and report.chart_height(3) == 3.5
    many = pd.DataFrame({"country": [f"M{i}" for i in range(40)], "pulse_index": np.linspace(70, 30, 40)})
    shown, note = report.bars_shown(many)
    assert list(shown["country"]) == [f"M{i}" for i in [*range(15), *range(25, 40)]]
    assert note == "\ntop and bottom 15 of 40 markets"


def test_the_analysis_leaves_a_growth_off_a_tiny_base_out_of_the_index_and_states_the_money():
    from market_pulse import analysis, panel, synthetic

    long, _ = synthetic.generate(n_countries=4, days=120, seed=5, shocks_per_country=0)
    day = (pd.to_datetime(long["date"]) - pd.to_datetime(long["date"]).min()).dt.days
    long = long[(long["country"] != "FR") | (day % 7 == 0)]  # FR sells one order a week
    long.loc[long["country"] == "FR", "orders"] = 1.0
    daily = panel.from_long_table(long)
    result = analysis.analyse(daily, analysis.PulseConfig(n_boot=100, granger_countries=3))
    pulse = result.tables["pulse"].set_index("country")
    fr = daily[daily["country"] == "FR"].sort_values("date")["revenue"].to_numpy()
    change = fr[-28:].sum() - fr[-56:-28].sum()  # the last 28 days against the 28 before
    assert np.isnan(pulse.loc["FR", "mom_growth"])
    sign = "+" if change >= 0 else "-"
    assert (
        f"revenue month over month {sign}EUR {abs(change):,.2f} (previous 28 days: 4 orders, too few"
        in pulse.loc["FR", "explanation"]
    )
    assert all(np.isfinite(pulse.loc[c, "mom_growth"]) for c in pulse.index if c != "FR")
