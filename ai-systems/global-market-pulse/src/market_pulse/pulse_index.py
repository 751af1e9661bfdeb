"""A composite pulse index per country (50 = the typical market) with a plain-language explanation.

Each component is a robust cross-country z-score (median, 1.4826 * MAD, clipped to +-3) of one signal; the
index is 50 + 10 * the weighted mean of the available components. The explanation names the components that
moved the index most, with their values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# a growth rate is given as a percentage only when every window it divides by holds at least this many
# orders: one order more or less then moves it by at most 5%; below, the change is stated in money
MIN_BASE_ORDERS = 20
NO_PERCENT_NET = "(no percentage: net revenue was not positive the month before)"
GROWTHS = ("mom_growth", "yoy_growth", "wow_growth")

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


def _value(component: str, value: float) -> str:
    if component in GROWTHS:
        return f"{value:+.1%}"
    if component == "share_shift_pp":
        return f"{value:+.2f} pp"
    return f"{value:+.1%} pts"


def _describe(component: str, value: float, typical: float | None, verdict: str = "") -> str:
    """The component's value, and for all but the anomaly count how it compares with the typical market
    (the median over markets, the centre of the index): the index ranks markets against each other, so a
    fall can lift a market whose fall is smaller than most."""
    if component == "recent_anomalies":
        if value < 0:
            return f"{-value:.0f} more unusual drop(s) than spikes in the last 28 days"
        return f"{value:.0f} more unusual spike(s) than drops in the last 28 days"
    text = f"{COMPONENTS[component][2]} {_value(component, value)}{verdict}"
    if typical is None or not np.isfinite(typical):
        return text
    direction = COMPONENTS[component][1]
    if np.isclose(value, typical):
        return f"{text}, like the typical market,"
    better = (value - typical) * direction > 0
    return f"{text}, {'better' if better else 'worse'} than the typical market's {_value(component, typical)},"


def _money_change(component: str, change: float, base_orders: float, currency: str) -> str:
    """A growth too small a base for a percentage, stated as the change in the reporting currency."""
    orders = f"{base_orders:.0f} order{'s' if round(base_orders) != 1 else ''}"
    return (
        f"{COMPONENTS[component][2]} {'+' if change >= 0 else '-'}{currency} {abs(change):,.2f}"
        f" (previous 28 days: {orders}, too few for a percentage; left out of the index)"
    )


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


def compute(
    signals: pd.DataFrame, significant_growth: dict[str, bool] | None = None, *, currency: str = ""
) -> pd.DataFrame:
    """signals: one row per country, columns = COMPONENTS (NaN where unknown), optionally `<growth>_change`
    (the change in money where no percentage is given) and `<growth>_base_orders`. Returns index + explanation.
    Each figure is said once: month over month growth in the drivers when it is one, else after the band."""
    frame = signals.set_index("country")
    contributions = pd.DataFrame(index=frame.index)
    weights = pd.DataFrame(index=frame.index)
    typical: dict[str, float] = {}
    for component, (weight, direction, _) in COMPONENTS.items():
        if component not in frame:
            continue
        values = frame[component].astype(float)
        typical[component] = float(values.median()) if values.notna().any() else float("nan")
        z = _robust_z(values) * direction
        contributions[component] = weight * z
        weights[component] = np.where(z.notna(), weight, 0.0)
    total_weight = weights.sum(axis=1).replace(0.0, np.nan)
    index = (50 + 10 * contributions.sum(axis=1, min_count=1) / total_weight).fillna(50.0).clip(0, 100)
    rows = []
    for country in frame.index:
        parts = contributions.loc[country].dropna()
        drivers = parts.reindex(parts.abs().sort_values(ascending=False).index)[:2]
        sig = (significant_growth or {}).get(country)
        verdict = " (a significant change)" if sig else " (not significant)" if sig is False else ""
        phrases = []
        for component, contribution in drivers.items():
            if abs(contribution) < 0.02:
                continue
            raw = float(frame.loc[country, component])
            word = "lifted it" if contribution > 0 else "held it back"
            said = verdict if component == "mom_growth" else ""
            phrases.append(f"{_describe(component, raw, typical.get(component), said)} {word}")
        value = float(index[country])
        text = f"{country}: pulse {value:.0f}, {_band(value)}"
        if not any(p.startswith(COMPONENTS["mom_growth"][2]) for p in phrases):
            text += _growth_clause(frame.loc[country], verdict, currency)
        if phrases:
            joined = "; ".join(phrases)
            text += ". " + joined[0].upper() + joined[1:]
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


def _growth_clause(row: pd.Series, verdict: str, currency: str) -> str:
    """'; revenue +12.0% month over month (not significant)', or the change in money off a tiny base."""
    growth = row.get("mom_growth")
    if growth is not None and np.isfinite(growth):
        return f"; revenue {growth:+.1%} month over month{verdict}"
    change = row.get("mom_growth_change")
    if change is not None and np.isfinite(change):
        base = row.get("mom_growth_base_orders")
        if base is not None and np.isfinite(base) and base < MIN_BASE_ORDERS:
            if base == 0 and change == 0:
                return ""  # no sales in either month: nothing to say
            return "; " + _money_change("mom_growth", float(change), float(base), currency)
        sign = "+" if change >= 0 else "-"
        return f"; revenue month over month {sign}{currency} {abs(change):,.2f} " + NO_PERCENT_NET
    return ""
