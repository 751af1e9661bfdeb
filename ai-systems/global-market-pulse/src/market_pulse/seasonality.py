"""Seasonality per country: weekday and month profiles, and the effect of the country's public holidays."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


ALIASES = {"EIRE": "IE", "USA": "US", "UK": "GB", "RSA": "ZA"}


def _iso2(name: str) -> str:
    """ISO alpha-2 code of a country name or alpha-3 code ('' when unknown)."""
    import pycountry

    if name.upper() in ALIASES:
        return ALIASES[name.upper()]
    try:
        return pycountry.countries.lookup(name).alpha_2
    except LookupError:
        return ""


def country_holidays(country: str, years: list[int]) -> dict[dt.date, str]:
    """Public holidays of an ISO country code (empty when the holidays package does not know it)."""
    import holidays

    code = str(country).strip()
    if len(code) != 2:
        code = _iso2(code)
    try:
        found = holidays.country_holidays(code.upper(), years=years)
    except (NotImplementedError, KeyError, AttributeError, ValueError):
        return {}
    # some calendars (e.g. Sweden's) list every Sunday: that is the weekday pattern, not a holiday
    return {day: name for day, name in found.items() if name.replace("; Sunday", "") not in ("Sunday", "Söndag")}


def profile(
    wide: pd.DataFrame,
    weekday_factors: pd.DataFrame,
    *,
    upcoming_days: int = 14,
    holidays_by_country: dict[str, dict[dt.date, str]] | None = None,
) -> pd.DataFrame:
    """One row per country (or market): weekday index, month index (a year of history or more), holiday
    effect; a market's holidays come from `holidays_by_country` when given, else from its name as a country."""
    index = wide.index
    years = sorted({*index.year, index[-1].year + 1})
    month_ok = len(wide) >= 365
    adjusted = wide / weekday_factors.reindex(index.dayofweek).to_numpy()
    rows = []
    for country in wide.columns:
        series = wide[country]
        row: dict = {"country": country}
        for d, name in enumerate(WEEKDAYS):
            row[f"weekday_{name}"] = float(weekday_factors.loc[d, country])
        row["peak_weekday"] = WEEKDAYS[int(np.argmax(weekday_factors[country].to_numpy()))]
        if month_ok and series.mean() > 0:
            monthly = series.groupby(index.month).mean() / series.mean()
            row["peak_month"] = int(monthly.idxmax())
            row["low_month"] = int(monthly.idxmin())
            row["month_amplitude"] = float(monthly.max() - monthly.min())
        else:
            row["peak_month"] = row["low_month"] = None
            row["month_amplitude"] = None
        if holidays_by_country is None:
            days_off = country_holidays(country, years)
        else:
            days_off = holidays_by_country.get(country, {})
        row["holidays_known"] = bool(days_off)
        in_range = [d for d in days_off if index[0].date() <= d <= index[-1].date()]
        row["holidays_in_history"] = len(in_range)
        if in_range:
            holiday_mask = index.isin(pd.to_datetime(in_range))
            near = pd.Series(False, index=index)
            for d in in_range:
                near[
                    (index >= pd.Timestamp(d) - pd.Timedelta(days=14))
                    & (index <= pd.Timestamp(d) + pd.Timedelta(days=14))
                ] = True
            base = adjusted.loc[near.to_numpy() & ~holiday_mask, country].mean()
            on = adjusted.loc[holiday_mask, country].mean()
            row["holiday_effect"] = float(on / base - 1) if base and np.isfinite(base) and base > 0 else None
        else:
            row["holiday_effect"] = None
        last = index[-1].date()
        upcoming = sorted(
            (d, name) for d, name in days_off.items() if last < d <= last + dt.timedelta(days=upcoming_days)
        )
        row["upcoming_holidays"] = "; ".join(f"{d.isoformat()} {name}" for d, name in upcoming)
        rows.append(row)
    return pd.DataFrame(rows)
