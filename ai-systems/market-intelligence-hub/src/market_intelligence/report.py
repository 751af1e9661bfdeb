"""HTML fragment for the local run's report: the total market's chart, the top movers, then every market in a
collapsed table (a shop with a hundred markets does not get a hundred-row table open by default).

Elasticity is shown as the market's own only where it was estimated on that market's data (`elasticity_scope`
"market"); elsewhere it is labelled "pooled" with the market whose estimate it is.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from market_intelligence.trends import change_text
from retail_platform.presentation import ReportFragment
from retail_platform.presentation.charts import Draw

TOP_MOVERS = 10


def _draw_forecast(history: pd.DataFrame, forecast: pd.DataFrame, title: str) -> Draw:
    """The series' actual revenue, then the selected model's forecast with its interval (named by its
    quantiles: a 90% interval is the band from P5 to P95; lower bounds are already clipped at 0 for revenue)."""
    coverage = float(forecast["interval"].iloc[0]) if "interval" in forecast else 0.9
    low, high = (1 - coverage) / 2 * 100, (1 + coverage) / 2 * 100

    def draw(ax) -> None:
        ax.plot(history["ds"], history["y"], color="#333", lw=1.2, label="actual")
        label = f"forecast ({forecast['model'].iloc[0]})"
        ax.plot(forecast["ds"], forecast["yhat"], color="#1f77b4", lw=1.5, label=label)
        band = f"{coverage:.0%} prediction interval (P{low:.0f}-P{high:.0f})"
        ax.fill_between(
            forecast["ds"], forecast["yhat_lower"], forecast["yhat_upper"], color="#1f77b4", alpha=0.2, label=band
        )
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


def headline_change(trends: pd.DataFrame) -> pd.Series:
    """The change each market's text states: `trend_change` (a year, or over the span observed when there is
    less than a year); the yearly figure for outputs written before that field existed."""
    if "trend_change" in trends:
        return trends["trend_change"].astype(float)
    return trends["relative_change_per_year"].astype(float)


def top_movers(trends: pd.DataFrame, n: int = TOP_MOVERS) -> pd.DataFrame:
    """Markets with a significant trend, largest change first by the figure shown (at most `n`)."""
    moving = trends[trends["direction"] != "flat"]
    order = headline_change(moving).abs().sort_values(ascending=False, kind="stable").index
    return moving.loc[order].head(n)


def _seasonality_cell(r: dict) -> str:
    value = r.get("seasonality_strength")
    if value is None or not math.isfinite(float(value)):
        return f"n/a ({r.get('seasonality_note') or 'needs 2 full cycles'})"
    return f"{float(value):.2f}"


def _change_cell(r: dict) -> str:
    if "trend_change" in r:
        return change_text(r["trend_change"], str(r.get("trend_change_period") or ""))
    return change_text(r["relative_change_per_year"], "a year")


def _table(rows: pd.DataFrame) -> str:
    body = "".join(
        f"<tr><td>{html.escape(str(r['series_id']))}</td><td>{html.escape(str(r['direction']))}</td>"
        f"<td>{html.escape(_change_cell(r))}</td><td>{html.escape(_seasonality_cell(r))}</td>"
        f"<td>{html.escape(elasticity_text(r))}</td><td>{html.escape(str(r['summary']))}</td></tr>"
        for r in rows.to_dict("records")
    )
    head = (
        "<tr><th>market</th><th>trend</th><th>change (fitted trend; a year, or first to last period observed)</th>"
        "<th>seasonality</th><th>price elasticity</th>"
    )
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
