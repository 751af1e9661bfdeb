"""HTML fragment for the local run's report: the total market's chart, the top movers, then every market in a
collapsed table (a shop with a hundred markets does not get a hundred-row table open by default).

Elasticity is shown as the market's own only where it was estimated on that market's data (`elasticity_scope`
"market"); elsewhere it is labelled "pooled" with the market whose estimate it is.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from retail_platform.presentation import ReportFragment
from retail_platform.presentation.charts import Draw

TOP_MOVERS = 10


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


def elasticity_text(row: dict) -> str:
    """'-1.80 (95% CI -2.10 to -1.50)' for a market's own estimate, 'pooled (Beauty|ALL): -1.80' otherwise."""
    value = row.get("elasticity")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    text = f"{value:.2f} (95% CI {row['elasticity_ci_low']:.2f} to {row['elasticity_ci_high']:.2f})"
    if row.get("elasticity_scope") == "pooled":
        return f"pooled ({row.get('elasticity_estimated_for')}): {text}"
    return text


def top_movers(trends: pd.DataFrame, n: int = TOP_MOVERS) -> pd.DataFrame:
    """Markets with a significant trend, largest yearly change first (at most `n`)."""
    moving = trends[trends["direction"] != "flat"]
    order = moving["relative_change_per_year"].abs().sort_values(ascending=False, kind="stable").index
    return moving.loc[order].head(n)


def _table(rows: pd.DataFrame) -> str:
    body = "".join(
        f"<tr><td>{html.escape(str(r['series_id']))}</td><td>{html.escape(str(r['direction']))}</td>"
        f"<td>{r['relative_change_per_year'] * 100:+.0f}%</td><td>{r['seasonality_strength']:.2f}</td>"
        f"<td>{html.escape(elasticity_text(r))}</td><td>{html.escape(str(r['summary']))}</td></tr>"
        for r in rows.to_dict("records")
    )
    head = "<tr><th>market</th><th>trend</th><th>change a year</th><th>seasonality</th><th>price elasticity</th>"
    return f"<table class='t'>{head}<th>summary</th></tr>{body}</table>"


def fragment(
    long: pd.DataFrame, forecasts: pd.DataFrame | None, trends: pd.DataFrame | None, version: str | None
) -> str:
    """The system's section: model version, the total market's forecast chart, models chosen, top movers,
    every market (collapsed)."""
    section = ReportFragment("Market intelligence", level=2)
    section.add(f"<p>Model version <code>{html.escape(str(version))}</code>.</p>")
    if forecasts is not None and not forecasts.empty:
        totals = forecasts["series_id"].astype(str).str.fullmatch(r"ALL(\|ALL)*")
        total = forecasts.loc[totals, "series_id"].iloc[0] if totals.any() else forecasts["series_id"].iloc[0]
        hist = long[long["series_id"] == total].sort_values("ds")
        title = f"{total}: revenue and forecast"
        draw = _draw_forecast(hist, forecasts[forecasts["series_id"] == total], title)
        section.add_chart(draw, alt=title, figsize=(7, 2.8), dpi=90)
        first = forecasts.drop_duplicates("series_id")
        counts = first["model"].value_counts().to_dict()
        section.add("<p>Selected models: " + ", ".join(f"{html.escape(k)} {v}" for k, v in counts.items()) + "</p>")
    if trends is not None and not trends.empty:
        movers = top_movers(trends)
        if movers.empty:
            section.add(f"<p>No market of {len(trends)} has a significant trend.</p>")
        else:
            section.add(f"<h3>Top movers ({len(movers)} of {len(trends)} markets)</h3>", _table(movers))
        ordered = trends.sort_values("series_id", kind="stable")
        section.add(f"<details><summary>All {len(trends)} markets</summary>{_table(ordered)}</details>")
    return section.html()
