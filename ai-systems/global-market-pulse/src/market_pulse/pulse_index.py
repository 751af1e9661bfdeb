"""A composite pulse index per country (50 = the typical market) with a plain-language explanation.

Each component is a robust cross-country z-score (median, 1.4826 * MAD, clipped to +-3) of one signal; the
index is 50 + 10 * the weighted mean of the available components. The explanation names the components that
moved the index most, with their values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# component: (weight, direction, description of the raw value)
COMPONENTS: dict[str, tuple[float, int, str]] = {
    "mom_growth": (0.30, +1, "revenue month over month"),
    "yoy_growth": (0.20, +1, "revenue year over year"),
    "wow_growth": (0.10, +1, "revenue week over week"),
    "share_shift_pp": (0.15, +1, "market share"),
    "new_customer_share_change": (0.10, +1, "share of new customers"),
    "cancellation_rate_change": (0.05, -1, "cancellation rate"),
    "recent_anomalies": (0.10, +1, "unusual days in the last 28 days"),
}


def _robust_z(values: pd.Series) -> pd.Series:
    finite = values.dropna()
    if len(finite) < 2:
        return values * 0.0
    centre = finite.median()
    scale = 1.4826 * (finite - centre).abs().median()
    if not scale or not np.isfinite(scale):
        scale = finite.std() or 1.0
    return ((values - centre) / scale).clip(-3, 3)


def _describe(component: str, value: float) -> str:
    if component in ("mom_growth", "yoy_growth", "wow_growth"):
        return f"{COMPONENTS[component][2]} {value:+.1%}"
    if component == "share_shift_pp":
        return f"market share {value:+.2f} pp"
    if component == "new_customer_share_change":
        return f"share of new customers {value:+.1%} pts"
    if component == "cancellation_rate_change":
        return f"cancellation rate {value:+.1%} pts"
    if value < 0:
        return f"{-value:.0f} more unusual drop(s) than spikes in the last 28 days"
    return f"{value:.0f} more unusual spike(s) than drops in the last 28 days"


def _band(index: float) -> str:
    if index >= 60:
        return "well above the typical market"
    if index >= 53:
        return "above the typical market"
    if index > 47:
        return "in line with the typical market"
    if index > 40:
        return "below the typical market"
    return "well below the typical market"


def compute(signals: pd.DataFrame, significant_growth: dict[str, bool] | None = None) -> pd.DataFrame:
    """signals: one row per country, columns = COMPONENTS (NaN where unknown). Returns index + explanation."""
    frame = signals.set_index("country")
    contributions = pd.DataFrame(index=frame.index)
    weights = pd.DataFrame(index=frame.index)
    for component, (weight, direction, _) in COMPONENTS.items():
        if component not in frame:
            continue
        z = _robust_z(frame[component].astype(float)) * direction
        contributions[component] = weight * z
        weights[component] = np.where(z.notna(), weight, 0.0)
    total_weight = weights.sum(axis=1).replace(0.0, np.nan)
    index = (50 + 10 * contributions.sum(axis=1, min_count=1) / total_weight).fillna(50.0).clip(0, 100)
    rows = []
    for country in frame.index:
        parts = contributions.loc[country].dropna()
        drivers = parts.reindex(parts.abs().sort_values(ascending=False).index)[:2]
        phrases = []
        for component, contribution in drivers.items():
            if abs(contribution) < 0.02:
                continue
            raw = frame.loc[country, component]
            word = "lifted" if contribution > 0 else "held back"
            phrases.append(f"{_describe(component, float(raw))} {word} it")
        value = float(index[country])
        text = f"{country}: pulse {value:.0f}, {_band(value)}"
        growth = frame.loc[country].get("mom_growth")
        if growth is not None and np.isfinite(growth):
            sig = (significant_growth or {}).get(country)
            verdict = " (a significant change)" if sig else " (not significant)" if sig is False else ""
            text += f"; revenue {growth:+.1%} month over month{verdict}"
        if phrases:
            text += ". " + "; ".join(phrases).capitalize()
        rows.append(
            {
                "country": country,
                "pulse_index": round(value, 2),
                "drivers": ",".join(drivers.index),
                "explanation": text + ".",
                **{f"contribution_{k}": float(v) for k, v in contributions.loc[country].items()},
            }
        )
    return pd.DataFrame(rows)
