"""HTML fragment for the local run's report: a table of markets and one chart (history + forecast)."""

from __future__ import annotations

import html

import pandas as pd

from retail_platform.presentation import ReportFragment
from retail_platform.presentation.charts import Draw


def _draw_forecast(history: pd.DataFrame, forecast: pd.DataFrame, title: str) -> Draw:
    """The series' actual revenue, then the selected model's forecast with its interval."""

    def draw(ax) -> None:
        ax.plot(history["ds"], history["y"], color="#333", lw=1.2, label="actual")
        label = f"forecast ({forecast['model'].iloc[0]})"
        ax.plot(forecast["ds"], forecast["yhat"], color="#1f77b4", lw=1.5, label=label)
        ax.fill_between(forecast["ds"], forecast["yhat_lower"], forecast["yhat_upper"], color="#1f77b4", alpha=0.2)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=7)

    return draw


def fragment(
    long: pd.DataFrame, forecasts: pd.DataFrame | None, trends: pd.DataFrame | None, version: str | None
) -> str:
    """The system's section: model version, the total market's forecast chart, models chosen, trends per market."""
    section = ReportFragment("Market intelligence", level=2)
    section.add(f"<p>Model version <code>{html.escape(str(version))}</code>.</p>")
    if forecasts is not None and not forecasts.empty:
        total = "ALL|ALL" if (forecasts["series_id"] == "ALL|ALL").any() else forecasts["series_id"].iloc[0]
        hist = long[long["series_id"] == total].sort_values("ds")
        title = f"{total}: revenue and forecast"
        draw = _draw_forecast(hist, forecasts[forecasts["series_id"] == total], title)
        section.add_chart(draw, alt=title, figsize=(7, 2.8), dpi=90)
        first = forecasts.drop_duplicates("series_id")
        counts = first["model"].value_counts().to_dict()
        section.add("<p>Selected models: " + ", ".join(f"{html.escape(k)} {v}" for k, v in counts.items()) + "</p>")
    if trends is not None and not trends.empty:
        rows = "".join(
            f"<tr><td>{html.escape(r.series_id)}</td><td>{html.escape(r.direction)}</td>"
            f"<td>{r.seasonality_strength:.2f}</td><td>{html.escape(r.summary)}</td></tr>"
            for r in trends.head(30).itertuples()
        )
        section.add(
            "<table><tr><th>market</th><th>trend</th><th>seasonality</th><th>summary</th></tr>" + rows + "</table>"
        )
    return section.html()
