"""HTML fragment for the local run's report: a table of markets and one chart (history + forecast)."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd


def _chart(history: pd.DataFrame, forecast: pd.DataFrame, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 2.8), dpi=90)
    ax.plot(history["ds"], history["y"], color="#333", lw=1.2, label="actual")
    ax.plot(forecast["ds"], forecast["yhat"], color="#1f77b4", lw=1.5, label=f"forecast ({forecast['model'].iloc[0]})")
    ax.fill_between(forecast["ds"], forecast["yhat_lower"], forecast["yhat_upper"], color="#1f77b4", alpha=0.2)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return f'<img alt="{html.escape(title)}" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}"/>'


def fragment(
    long: pd.DataFrame, forecasts: pd.DataFrame | None, trends: pd.DataFrame | None, version: str | None
) -> str:
    parts = [f"<h2>Market intelligence</h2><p>Model version <code>{html.escape(str(version))}</code>.</p>"]
    if forecasts is not None and not forecasts.empty:
        total = "ALL|ALL" if (forecasts["series_id"] == "ALL|ALL").any() else forecasts["series_id"].iloc[0]
        hist = long[long["series_id"] == total].sort_values("ds")
        parts.append(_chart(hist, forecasts[forecasts["series_id"] == total], f"{total}: revenue and forecast"))
        first = forecasts.drop_duplicates("series_id")
        counts = first["model"].value_counts().to_dict()
        parts.append("<p>Selected models: " + ", ".join(f"{html.escape(k)} {v}" for k, v in counts.items()) + "</p>")
    if trends is not None and not trends.empty:
        rows = "".join(
            f"<tr><td>{html.escape(r.series_id)}</td><td>{html.escape(r.direction)}</td>"
            f"<td>{r.seasonality_strength:.2f}</td><td>{html.escape(r.summary)}</td></tr>"
            for r in trends.head(30).itertuples()
        )
        parts.append(
            "<table><tr><th>market</th><th>trend</th><th>seasonality</th><th>summary</th></tr>" + rows + "</table>"
        )
    return "\n".join(parts)
