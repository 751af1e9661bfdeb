"""The pulse section of the local run's HTML report (charts as inline PNG; matplotlib only when present)."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd

from market_pulse.analysis import PulseResult


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return '<img alt="chart" src="data:image/png;base64,' + base64.b64encode(buffer.getvalue()).decode() + '"/>'


def html_section(result: PulseResult, panel: pd.DataFrame) -> str:
    pulse = result.tables["pulse"].sort_values("pulse_index", ascending=False)
    parts = [
        f"<p>Global market pulse as of {html.escape(result.as_of)} (model version {html.escape(result.version)}), "
        f"{len(pulse)} countries, {len(result.tables['anomalies'])} anomalies, "
        f"{int(result.tables['granger'].get('significant', pd.Series(dtype=bool)).sum())} lead/lag relations.</p>",
        "<ul>" + "".join(f"<li>{html.escape(text)}</li>" for text in pulse["explanation"].head(8)) + "</ul>",
    ]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "\n".join(parts)
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
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
    parts.append(_png(fig))
    plt.close(fig)
    return "\n".join(parts)
