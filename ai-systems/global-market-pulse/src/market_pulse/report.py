"""The pulse section of the local run's HTML report (charts as inline PNG; matplotlib only when present)."""

from __future__ import annotations

import html

import pandas as pd

from market_pulse.analysis import PulseResult
from retail_platform.presentation import ReportFragment, bullet_list
from retail_platform.presentation.charts import Draw

TOP_MARKETS = 4
MAX_BARS = 30  # beyond, the pulse chart names the top and bottom 15 markets


def anomaly_marks(anomalies: pd.DataFrame, wide: pd.DataFrame, markets: list[str]) -> pd.DataFrame:
    """The spikes and drops of `markets`, each placed at its day's revenue in `wide` (the series the chart
    draws), so a mark sits on its line: below zero only when that day's net revenue was (cancellations)."""
    marks = anomalies[anomalies["country"].isin(markets) & anomalies["kind"].isin(["spike", "drop"])].copy()
    marks["date"] = pd.to_datetime(marks["date"])
    marks["value"] = [float(wide.at[day, market]) for day, market in zip(marks["date"], marks["country"], strict=True)]
    return marks


def bars_shown(pulse: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The markets the bar chart names (pulse sorted high to low): all up to MAX_BARS, else the top and the
    bottom MAX_BARS // 2, with a note for the title."""
    if len(pulse) <= MAX_BARS:
        return pulse, ""
    half = MAX_BARS // 2
    return pd.concat([pulse.head(half), pulse.tail(half)]), f"\ntop and bottom {half} of {len(pulse)} markets"


def chart_height(markets: int) -> float:
    """Inches: room for one readable label per bar (0.2 in at 90 dpi is 18 px for an 8 pt label)."""
    return max(3.5, 1.4 + 0.2 * min(markets, MAX_BARS))


def _draw_pulse(result: PulseResult, pulse: pd.DataFrame, panel: pd.DataFrame) -> Draw:
    """Left: the pulse index per market; right: the largest markets' daily revenue (thin) and 7-day mean
    (thick), their anomalies marked at the day's value on the daily line."""

    def draw(axes) -> None:
        shown, note = bars_shown(pulse)
        axes[0].barh(shown["country"][::-1], shown["pulse_index"][::-1], color="#4477aa")
        axes[0].tick_params(axis="y", labelsize=8)
        axes[0].axvline(50, color="#999", lw=1)
        axes[0].set_title("pulse index (50 = typical market)" + note)
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
    fragment.add_chart(_draw_pulse(result, pulse, panel), figsize=(12, chart_height(len(pulse))), dpi=90, ncols=2)
    return fragment.html()
