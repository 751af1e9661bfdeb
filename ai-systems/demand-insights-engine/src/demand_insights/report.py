"""The demand-insights section of the main job's HTML report (charts when matplotlib is installed)."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from retail_platform.presentation import ReportFragment, chart_html, frame_table


def _table(frame: pd.DataFrame) -> str:
    return frame_table(frame, decimals=3)


def _forecast_part(out: dict[str, Any]) -> str:
    frames = out["_frames"]
    fc, advice, sales = frames["forecasts"], frames["advice"], frames["sales"]
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
    history = sales.assign(date=pd.to_datetime(sales["date"])).groupby("date")["units"].sum()
    future = fc.groupby("target_date")[["p10", "p50", "p90"]].sum()

    def draw(ax) -> None:
        ax.plot(history.index, history.to_numpy(), label="units sold")
        ax.plot(future.index, future["p50"], label="forecast P50")
        ax.fill_between(future.index, future["p10"], future["p90"], alpha=0.3, label="P10-P90 (sum of series)")
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
