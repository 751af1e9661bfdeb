"""The batch path's answer: the run's summary, the model scores as metrics, and the report section."""

from __future__ import annotations

from typing import Any

from retail_platform.observability import logger, metrics, record_model_scores


def done(dataset: str, result: Any) -> dict[str, Any]:
    """`{"status": "done", "dataset", ...summary}` plus `report_html` when trends were computed."""
    metrics.add_metric(name="MarketSeriesAnalysed", unit="Count", value=result.n_series)
    out = {"status": "done", "dataset": dataset, **result.summary()}
    if result.scores is not None and not result.scores.empty:
        chosen = result.scores[result.scores["selected"]]
        record_model_scores(
            "market-forecast",
            result.version,
            {"mean_cv_mase_selected": float(chosen["cv_mase"].mean()), "series": float(len(chosen))},
        )
    if result.trends is not None:
        try:
            from market_intelligence import report

            out["report_html"] = report.fragment(result.long, result.forecasts, result.trends, result.version)
        except ImportError:  # charts are optional
            pass
    logger.info("batch done", extra={k: v for k, v in out.items() if k != "report_html"})
    return out
