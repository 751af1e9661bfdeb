"""Forecasts for histories too short to train the model on: the seasonal-naive baseline with intervals.

Below forecast.MIN_STEPS steps (e.g. 30 days of a new shop, or two years of monthly data) the global model
has too few rows to learn from. The forecast is then the seasonal-naive baseline of the grain (the last
value one cycle back, the 28-step mean while the history is shorter than a cycle), and its P10/P50/P90 come
from the same split-conformal recipe as the model's, applied to the baseline's own errors at every past
origin. With fewer than MIN_RESIDUALS known errors the interval collapses onto the point, and says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demand_insights import forecast
from demand_insights.features import FeatureBuilder
from demand_insights.panel import Panel

VERSION = "baseline-seasonal-naive"
MIN_RESIDUALS = 10


def baseline_forecast(panel: Panel, horizon: int) -> tuple[pd.DataFrame, str]:
    """Forecast rows shaped like ForecastModel.forecast's, and a sentence saying what was done."""
    fb = FeatureBuilder(panel, horizon)
    last = panel.n_steps - 1
    block = fb.rows([last], max_target=last + horizon)
    center = forecast.baselines(block)["seasonal_naive"]
    h = block.target - block.origin
    past = fb.rows(list(range(last)), max_target=last)
    known = ~np.isnan(past.y)
    if known.sum() >= MIN_RESIDUALS:
        past_center = forecast.baselines(past)["seasonal_naive"][known]
        resid = (past.y[known] - past_center) / forecast._scale(past_center)
        conformal = forecast.conformal_buckets(resid, (past.target - past.origin)[known], horizon)
        probe = forecast.ForecastModel(None, {"conformal": conformal, "version": VERSION, "horizon": horizon})
        q = probe.quantiles(center, h)
        how = f"intervals from its own errors at {int(known.sum())} past origin-steps"
    else:
        point = np.maximum(center, 0.0)
        q = {"p10": point, "p50": point, "p90": point}
        how = f"only {int(known.sum())} past errors: no interval (P10 = P50 = P90)"
    q, widened = forecast.cohere(np.maximum(center, 0.0), q)
    frame = pd.DataFrame(
        {
            "series_id": panel.ids[block.series],
            "origin_date": panel.dates[last],
            "target_date": fb.ext[block.target],
            "horizon": h.astype(int),
            "mean": np.maximum(center, 0.0),
            **q,
            "model_version": VERSION,
        }
    )
    forecast.mark_widened(frame, widened)
    note = (
        f"{panel.n_steps} {panel.grain.name} steps of history is fewer than the {forecast.MIN_STEPS} the model "
        f"needs: seasonal-naive baseline forecast (period {panel.grain.period}), {how}"
    )
    return frame, note
