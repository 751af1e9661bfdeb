"""The pulse section of the local run's HTML report (charts as inline PNG; matplotlib only when present)."""

from __future__ import annotations

import html

import pandas as pd

from market_pulse.analysis import PulseResult
from retail_platform.presentation import ReportFragment, bullet_list
from retail_platform.presentation.charts import Draw


def _draw_pulse(result: PulseResult, pulse: pd.DataFrame, panel: pd.DataFrame) -> Draw:
    """Left: the pulse index per country; right: the six largest markets' revenue with their anomalies marked."""

    def draw(axes) -> None:
        axes[0].barh(pulse["country"][::-1], pulse["pulse_index"][::-1], color="#4477aa")
        axes[0].axvline(50, color="#999", lw=1)
        axes[0].set_title("pulse index (50 = typical market)")
        wide = panel.pivot(index="date", columns="country", values="revenue")
        top = wide.sum().sort_values(ascending=False).index[:6]
        smooth = wide[top].rolling(7).mean()
        for country in top:
            axes[1].plot(smooth.index, smooth[country], lw=1, label=str(country))
        axes[1].legend(fontsize=7)
        anomalies = result.tables["anomalies"]
        marks = anomalies[anomalies["country"].isin(top) & (anomalies["kind"] != "level_shift")]
        axes[1].plot(pd.to_datetime(marks["date"]), marks["observed"], "rx", ms=4)
        axes[1].set_title(f"daily revenue ({result.reporting_currency}, 7-day mean; x = anomaly)")

    return draw


def html_section(result: PulseResult, panel: pd.DataFrame) -> str:
    """The pulse as of its date: counts, the top countries' explanations, and the two charts."""
    pulse = result.tables["pulse"].sort_values("pulse_index", ascending=False)
    fragment = ReportFragment()
    fragment.add(
        f"<p>Global market pulse as of {html.escape(result.as_of)} (model version {html.escape(result.version)}), "
        f"{len(pulse)} countries, {len(result.tables['anomalies'])} anomalies, "
        f"{int(result.tables['granger'].get('significant', pd.Series(dtype=bool)).sum())} lead/lag relations.</p>",
        bullet_list(pulse["explanation"].head(8)),
    )
    fragment.add_chart(_draw_pulse(result, pulse, panel), figsize=(12, 3.5), dpi=90, ncols=2)
    return fragment.html()
