"""The pulse section of the local run's HTML report (charts as inline PNG; matplotlib only when present)."""

from __future__ import annotations

import html

import pandas as pd

from market_pulse.analysis import PulseResult
from retail_platform.presentation import ReportFragment, bullet_list
from retail_platform.presentation.charts import Draw

TOP_MARKETS = 4


def anomaly_marks(anomalies: pd.DataFrame, wide: pd.DataFrame, markets: list[str]) -> pd.DataFrame:
    """The spikes and drops of `markets`, each placed at its day's revenue in `wide` (the series the chart
    draws), so a mark sits on its line: below zero only when that day's net revenue was (cancellations)."""
    marks = anomalies[anomalies["country"].isin(markets) & anomalies["kind"].isin(["spike", "drop"])].copy()
    marks["date"] = pd.to_datetime(marks["date"])
    marks["value"] = [float(wide.at[day, market]) for day, market in zip(marks["date"], marks["country"], strict=True)]
    return marks


def _draw_pulse(result: PulseResult, pulse: pd.DataFrame, panel: pd.DataFrame) -> Draw:
    """Left: the pulse index per market; right: the largest markets' daily revenue (thin) and 7-day mean
    (thick), their anomalies marked at the day's value on the daily line."""

    def draw(axes) -> None:
        axes[0].barh(pulse["country"][::-1], pulse["pulse_index"][::-1], color="#4477aa")
        axes[0].axvline(50, color="#999", lw=1)
        axes[0].set_title("pulse index (50 = typical market)")
        wide = panel.pivot(index="date", columns="country", values="revenue")
        top = list(wide.sum().sort_values(ascending=False).index[:TOP_MARKETS])
        marks = anomaly_marks(result.tables["anomalies"], wide, top)
        for market in top:
            line = axes[1].plot(wide.index, wide[market], lw=0.5, alpha=0.45)[0]
            colour = line.get_color()
            axes[1].plot(wide.index, wide[market].rolling(7).mean(), lw=1.5, color=colour, label=str(market))
            own = marks[marks["country"] == market]
            axes[1].plot(own["date"], own["value"], "x", color=colour, ms=6, mew=1.5)
        axes[1].axhline(0, color="#999", lw=0.8)
        axes[1].legend(fontsize=7)
        axes[1].set_title(f"daily revenue ({result.reporting_currency}; thick: 7-day mean; x = anomaly)")

    return draw


def _markets(count: int, dimension: str) -> str:
    return f"{count} countries" if dimension == "country" else f"{count} markets by {html.escape(dimension)}"


def html_section(result: PulseResult, panel: pd.DataFrame) -> str:
    """The pulse as of its date: counts, the top markets' explanations, and the two charts."""
    pulse = result.tables["pulse"].sort_values("pulse_index", ascending=False)
    fragment = ReportFragment()
    fragment.add(
        f"<p>Global market pulse as of {html.escape(result.as_of)} (model version {html.escape(result.version)}), "
        f"{_markets(len(pulse), result.dimension)}, {len(result.tables['anomalies'])} anomalies, "
        f"{int(result.tables['granger'].get('significant', pd.Series(dtype=bool)).sum())} lead/lag relations.</p>",
        bullet_list(pulse["explanation"].head(8)),
    )
    fragment.add_chart(_draw_pulse(result, pulse, panel), figsize=(12, 3.5), dpi=90, ncols=2)
    return fragment.html()
