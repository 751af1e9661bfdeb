"""The demand-insights section of the main job's HTML report (charts when matplotlib is installed)."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from demand_insights import aggregate
from retail_platform.presentation import ReportFragment, chart_html, frame_table


def _table(frame: pd.DataFrame) -> str:
    return frame_table(frame, decimals=3)


def _aggregate_note(history: pd.DataFrame, rho: float, unit: str) -> str:
    """How the chart's total is built, and which history steps it leaves out as partial."""
    text = (
        f"<p>The chart's forecast is the total over all series: its line is the sum of the series' means, its band "
        f"the P10-P90 of {aggregate.PATHS:,} simulated totals (series drawn jointly, correlation {rho:.2f} as in "
        f"their history), not a sum of per-series quantiles."
    )
    partial = history.loc[history["partial"], "date"]
    if not partial.empty:
        days = ", ".join(str(pd.Timestamp(d).date()) for d in partial)
        text += f" Partial {unit}s at the ends of the history ({days}) are marked, not joined to the line."
    return text + "</p>"


def chart_data(out: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the forecast chart draws: the history of total units per step (with `partial` steps) and the
    forecast total per date (level = sum of means, P10-P90 from simulated totals, aggregate.py)."""
    frames = out["_frames"]
    history = frames.get("history")
    if history is None:  # outputs of older callers: the sales table's own dates, every step full
        sales = frames["sales"]
        daily = sales.assign(date=pd.to_datetime(sales["date"])).groupby("date")["units"].sum()
        history = pd.DataFrame({"date": daily.index, "units": daily.to_numpy(), "partial": False})
    return history, aggregate.aggregate(frames["forecasts"], float(out.get("series_correlation", 0.0)))


def _forecast_part(out: dict[str, Any]) -> str:
    frames = out["_frames"]
    advice = frames["advice"]
    hold = out.get("holdout") or {}
    grain = out.get("grain", "daily")
    unit = {"daily": "day", "weekly": "week", "monthly": "month"}.get(grain, "step")
    if out["model_version"].startswith("baseline"):
        how = "no model trained"
    else:
        how = "trained now: " + html.escape(str(out["retrain_reason"])) if out["trained"] else "reused"
    parts = [
        f"<h4>Demand forecasts</h4><p>{out['series']} SKU x country series, {grain} history "
        f"{out['history']['start']} to {out['history']['end']}, {out.get('horizon', 28)} {unit}s ahead; "
        f"model {html.escape(out['model_version'])} ({how}). Mean inside P10-P90 for every row "
        f"({out.get('mean_outside_before_widening', 0.0):.1%} of intervals widened to hold it).</p>"
    ]
    parts += [f"<p>Skipped: {html.escape(note)}</p>" for note in out.get("skipped", [])]
    if hold:
        parts.append(
            _table(
                pd.DataFrame(
                    [
                        {"forecast": "LightGBM P50", "WAPE": hold["wape_p50"]},
                        {"forecast": "LightGBM mean", "WAPE": hold["wape_mean"]},
                        {"forecast": "seasonal naive", "WAPE": hold["wape_seasonal_naive"]},
                        {"forecast": f"mean of last 28 {unit}s", "WAPE": hold["wape_mean_28"]},
                    ]
                )
            )
            + f"<p>Time-based holdout (last week of origins), P10-P90 coverage {hold['coverage_p10_p90']:.1%}.</p>"
        )
    history, total = chart_data(out)
    parts.append(_aggregate_note(history, float(out.get("series_correlation", 0.0)), unit))

    def draw(ax) -> None:
        full, partial = history[~history["partial"]], history[history["partial"]]
        ax.plot(full["date"], full["units"], label="units sold")
        if not partial.empty:
            ax.plot(partial["date"], partial["units"], "o", mfc="none", color="grey", label=f"partial {unit}")
        ax.plot(total["target_date"], total["mean"], label="forecast (sum of means)")
        ax.fill_between(
            total["target_date"], total["p10"], total["p90"], alpha=0.3, label="P10-P90 of the total (simulated)"
        )
        ax.legend(loc="upper left")
        ax.set_ylabel(f"units / {unit}")

    parts.append(chart_html(draw))
    if advice["on_hand"].notna().any():
        top = advice.sort_values("stockout_risk", ascending=False).head(10)
        cols = ["sku", "country", "on_hand", "reorder_point", "safety_stock", "order_qty", "stockout_risk"]
        days = int(advice["stockout_risk_days"].iloc[0])
        parts.append(f"<h4>Highest stock-out risk (next {days} {unit}s)</h4>" + _table(top[cols]))
    return "\n".join(parts)


def _customer_part(out: dict[str, Any]) -> str:
    table = out["_frames"]["customers"]
    m = out["metrics"]
    segments = (
        table.groupby("segment")
        .agg(customers=("customer_id", "count"), churn=("churn_probability", "mean"), clv_12m=("clv_12m", "sum"))
        .reset_index()
        .sort_values("customers", ascending=False)
    )
    if m is None:
        text = (
            f"<h4>Customers</h4><p>{out['customers']} customers in RFM segments. No churn model: "
            f"{html.escape('; '.join(out.get('skipped') or []))}</p>"
        )
    else:
        text = (
            f"<h4>Customers</h4><p>{out['customers']} customers. Churn ({m['window_days']}-day window) ROC-AUC on "
            f"the time-based holdout at {m['holdout_cutoff']}: {m['roc_auc']:.3f} vs {m['roc_auc_recency_only']:.3f} "
            f"for recency only; Brier {m['brier']:.3f} vs {m['brier_base_rate']:.3f} for the base rate.</p>"
        )

    def draw(ax) -> None:
        ax.bar(segments["segment"], segments["customers"])
        ax.set_ylabel("customers")
        ax.tick_params(axis="x", rotation=30)

    return text + _table(segments) + chart_html(draw)


def section(outputs: list[dict[str, Any]]) -> str | None:
    """The system's section: each task's part (forecasts, customers) or why it was skipped; None when empty."""
    fragment = ReportFragment()
    for out in outputs:
        if out.get("status") == "skipped":
            fragment.add(f"<p>{html.escape(out['task'])}: skipped ({html.escape(out['reason'])})</p>")
        elif out.get("task") == "forecast":
            fragment.add(_forecast_part(out))
        elif out.get("task") == "customers":
            fragment.add(_customer_part(out))
    return fragment.html() or None
