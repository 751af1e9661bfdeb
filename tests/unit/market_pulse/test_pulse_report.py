"""The pulse chart draws each anomaly at its day's value on the market's daily line (issue #17: marks used to
float off the 7-day means they were drawn over, below zero revenue on days that had none)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from market_pulse import anomalies, report, synthetic
from market_pulse.analysis import PulseConfig, PulseResult


@pytest.fixture(scope="module")
def drawn():
    """Three generated markets with injected shocks; DE sells nothing one day, FR nets a refund another."""
    long, truth = synthetic.generate(n_countries=3, days=240, shocks_per_country=3, seed=11)
    panel = long.assign(date=pd.to_datetime(long["date"]))
    panel.loc[(panel["country"] == "DE") & (panel["date"] == "2022-05-11"), "revenue"] = 0.0
    panel.loc[(panel["country"] == "FR") & (panel["date"] == "2022-06-15"), "revenue"] = -900.0
    wide = panel.pivot(index="date", columns="country", values="revenue")
    found = anomalies.detect(wide)
    result = PulseResult("2022-08-30", "2022-01-03", "EUR", PulseConfig(), tables={"anomalies": found})
    pulse = pd.DataFrame({"country": list(wide.columns), "pulse_index": [55.0, 50.0, 45.0]})
    from matplotlib.figure import Figure

    figure = Figure()
    axes = figure.subplots(1, 2)
    report._draw_pulse(result, pulse, panel)(axes)
    return wide, found, axes[1], truth


def test_marks_are_the_days_values(drawn):
    wide, found, _, truth = drawn
    marks = report.anomaly_marks(found, wide, list(wide.columns))
    assert len(marks) >= len(truth.shocks) // 2  # the detector found most injected shocks (scored elsewhere)
    assert np.allclose(marks["value"], marks["observed"])
    assert np.allclose(marks["value"], [wide.at[d, c] for d, c in zip(marks["date"], marks["country"], strict=True)])
    de_zero = marks[(marks["country"] == "DE") & (marks["date"] == "2022-05-11")]
    fr_refund = marks[(marks["country"] == "FR") & (marks["date"] == "2022-06-15")]
    assert de_zero["value"].tolist() == [0.0] and fr_refund["value"].tolist() == [-900.0]


def test_each_mark_sits_on_its_markets_daily_line_and_never_below_a_non_negative_one(drawn):
    _, _, ax, _ = drawn
    lines = ax.get_lines()
    x_marks = [line for line in lines if line.get_marker() == "x" and len(line.get_xdata())]
    assert x_marks
    dailies = {line.get_color(): line for line in lines if line.get_linewidth() == 0.5}
    for marks in x_marks:
        daily = dailies[marks.get_color()]  # the market's thin daily line shares the marks' colour
        series = pd.Series(np.asarray(daily.get_ydata(), float), index=pd.DatetimeIndex(daily.get_xdata()))
        values = np.asarray(marks.get_ydata(), float)
        assert np.allclose(series.loc[pd.DatetimeIndex(marks.get_xdata())].to_numpy(), values)
        if (series >= 0).all():
            assert (values >= 0).all()
    refund = [line for line in x_marks if (np.asarray(line.get_ydata()) < 0).any()]
    assert len(refund) == 1  # only FR's refund day is drawn below zero: its value is
