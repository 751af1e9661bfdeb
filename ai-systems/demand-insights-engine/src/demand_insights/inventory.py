"""Inventory advice per SKU x location from the forecast distribution.

Daily demand is taken as independent across days with mean = the forecast mean and standard deviation
from the conformal P10-P90 range, sigma_d = (P90 - P10) / (2 * 1.2816). Over the lead time L:
mu_L = sum of means, sigma_L = sqrt(sum sigma_d^2); safety stock = z(service level) * sigma_L; reorder
point = mu_L + safety stock; order-up-to level over L + review period R; order quantity = up-to level
minus stock on hand when stock is at or below the reorder point. Stock-out risk over the next N days =
P(demand > on hand) under a normal approximation.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

Z_10_90 = NormalDist().inv_cdf(0.9)


@dataclass(frozen=True)
class Policy:
    lead_time_days: int = 7
    review_days: int = 7
    service_level: float = 0.95
    risk_days: int = 14

    def __post_init__(self) -> None:
        if not 0.5 <= self.service_level < 1:
            raise ValueError("service_level must be in [0.5, 1)")
        if self.lead_time_days < 1 or self.review_days < 0 or self.risk_days < 1:
            raise ValueError("lead_time_days and risk_days must be >= 1, review_days >= 0")


def policy_for(grain) -> Policy:
    """The default policy in steps of the grain: a week's lead time and review, two weeks of risk for daily
    data; one week, one week and two weeks for weekly; one month, none and one month for monthly (the
    `*_days` columns then count weeks or months)."""
    steps = {"D": (7, 7, 14), "W": (1, 1, 2), "M": (1, 0, 1)}[grain.code]
    return Policy(lead_time_days=steps[0], review_days=steps[1], risk_days=steps[2])


def advise(forecasts: pd.DataFrame, on_hand: pd.Series, policy: Policy | None = None) -> pd.DataFrame:
    """One row per series: demand over lead time, safety stock, reorder point, order qty, stock-out risk.

    `forecasts`: series_id, horizon, mean, p10, p90 (as ForecastModel.forecast returns);
    `on_hand`: last known stock per series_id (NaN or missing = unknown: no order quantity, no risk).
    """
    policy = policy or Policy()
    z = NormalDist().inv_cdf(policy.service_level)
    f = forecasts.sort_values(["series_id", "horizon"]).copy()
    f["var"] = ((f["p90"] - f["p10"]) / (2 * Z_10_90)) ** 2

    def window(days: int) -> pd.DataFrame:
        w = f.loc[f["horizon"] <= days].groupby("series_id")[["mean", "var"]].sum()
        w["sd"] = np.sqrt(w["var"])
        return w

    lead, cover, risk = (
        window(policy.lead_time_days),
        window(policy.lead_time_days + policy.review_days),
        window(policy.risk_days),
    )
    out = pd.DataFrame(index=lead.index)
    out["lead_time_days"] = policy.lead_time_days
    out["service_level"] = policy.service_level
    out["demand_lead_time"] = lead["mean"]
    out["safety_stock"] = z * lead["sd"]
    out["reorder_point"] = lead["mean"] + out["safety_stock"]
    out["order_up_to"] = cover["mean"] + z * cover["sd"]
    stock = on_hand.reindex(out.index).astype(float)
    out["on_hand"] = stock
    needs = stock <= out["reorder_point"]
    out["order_qty"] = np.where(
        stock.isna(), np.nan, np.where(needs, np.ceil(np.maximum(out["order_up_to"] - stock, 0.0)), 0.0)
    )
    sd = risk["sd"].reindex(out.index).replace(0, np.nan)
    zscore = (stock - risk["mean"].reindex(out.index)) / sd
    normal = NormalDist()
    out["stockout_risk_days"] = policy.risk_days
    out["stockout_risk"] = [
        np.nan if np.isnan(s) else (1.0 - normal.cdf(v) if not np.isnan(v) else float(s <= 0))
        for s, v in zip(stock, zscore, strict=True)
    ]
    cumulative = f.assign(cum=f.groupby("series_id")["mean"].cumsum())
    first_short = cumulative.merge(stock.rename("stock"), left_on="series_id", right_index=True)
    first_short = first_short.loc[first_short["cum"] > first_short["stock"]].groupby("series_id")["horizon"].min()
    out["days_of_cover"] = first_short.reindex(out.index) - 1
    out.loc[stock.isna(), "days_of_cover"] = np.nan
    for column in ("demand_lead_time", "safety_stock", "reorder_point", "order_up_to", "stockout_risk"):
        out[column] = out[column].astype(float).round(3)
    return out.reset_index()
