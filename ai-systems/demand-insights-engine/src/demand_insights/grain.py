"""The time grain of a sales table (daily, weekly, monthly): detection, seasonal period, horizons, steps.

A step is one day (or trading day), one week or one month. The seasonal period is the number of steps in
the cycle the seasonal-naive baseline repeats: a week of days (7), a year of weeks (52) or of months (12).
Horizons go up to one yearly cycle: 365 days, 52 weeks, 12 months.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demand_insights.exceptions import InputDataError


@dataclass(frozen=True)
class Grain:
    code: str  # "D", "W", "M"
    name: str
    period: int  # seasonal period of the seasonal-naive baseline, in steps
    max_horizon: int  # one yearly cycle, in steps
    default_horizon: int
    year_lag_days: int  # "same time last year" in days, and the half-width of the window around it
    year_window_days: int


DAILY = Grain("D", "daily", 7, 365, 28, 364, 3)
WEEKLY = Grain("W", "weekly", 52, 52, 13, 364, 3)
MONTHLY = Grain("M", "monthly", 12, 12, 12, 365, 15)
GRAINS = {g.code: g for g in (DAILY, WEEKLY, MONTHLY)}
ALIASES = {"d": "D", "day": "D", "daily": "D", "w": "W", "week": "W", "weekly": "W"}
ALIASES |= {"m": "M", "month": "M", "monthly": "M"}
REGULAR_SHARE = 0.9  # weekly labels share a weekday, monthly ones a day of the month (or the month's end)


def get(value: str | Grain | None) -> Grain:
    """A grain from its code or name ("D", "weekly", ...); None means daily (models saved before grains)."""
    if isinstance(value, Grain):
        return value
    if value is None:
        return DAILY
    code = ALIASES.get(str(value).strip().lower())
    if code is None:
        raise InputDataError(f"unknown grain {value!r}; use daily, weekly or monthly")
    return GRAINS[code]


def _share_of_mode(values) -> float:
    counts = pd.Series(np.asarray(values)).value_counts()
    return float(counts.iloc[0] / counts.sum())


def detect(dates: pd.DatetimeIndex) -> Grain:
    """The grain of a table from its distinct dates: a median gap of 1-4 days is daily (with or without
    closing days); 5-10 days on one weekday weekly; 27-35 days on one day of the month monthly; wide gaps on
    any weekday are a slow seller's daily table. One date alone is taken as daily."""
    distinct = pd.DatetimeIndex(sorted(pd.unique(dates)))
    if len(distinct) < 2:
        return DAILY
    gap = float(np.median(np.diff(distinct.asi8)) / 86_400e9)
    if gap <= 4:
        return DAILY
    if 5 <= gap <= 10 and _share_of_mode(distinct.dayofweek) >= REGULAR_SHARE:
        return WEEKLY
    monthly_label = np.where(distinct.is_month_end, 0, distinct.day)  # day of month, or 0 for "last day"
    if 27 <= gap <= 35 and _share_of_mode(monthly_label) >= REGULAR_SHARE:
        return MONTHLY
    if _share_of_mode(distinct.dayofweek) < REGULAR_SHARE and _share_of_mode(monthly_label) < REGULAR_SHARE:
        return DAILY  # sparse sales on any weekday and day of the month: a daily table of a slow seller
    raise InputDataError(
        f"cannot tell the grain of the table: its dates are a median {gap:g} days apart; "
        "expected daily, weekly or monthly data (or give the grain)"
    )


def check_horizon(horizon: int, grain: Grain) -> int:
    """The horizon if it is 1..one seasonal cycle of the grain, else a clear InputDataError."""
    if not 1 <= horizon <= grain.max_horizon:
        raise InputDataError(
            f"horizon must be between 1 and {grain.max_horizon} for {grain.name} data (one yearly cycle), got {horizon}"
        )
    return horizon


def month_end_calendar(dates: pd.DatetimeIndex) -> bool:
    """A monthly table labelled by the last day of each month (else steps are labelled by the first)."""
    return bool(len(dates)) and bool(dates.is_month_end.all()) and not bool(dates.is_month_start.all())


def snap(dates: pd.Series, grain: Grain, anchor: pd.Timestamp, month_end: bool) -> pd.Series:
    """Each date moved to the label of its step: weeks counted from `anchor`, months by calendar month."""
    if grain is WEEKLY:
        return anchor + pd.to_timedelta((dates - anchor).dt.days // 7 * 7, unit="D")
    if grain is MONTHLY:
        periods = dates.dt.to_period("M")
        return periods.dt.end_time.dt.normalize() if month_end else periods.dt.start_time
    return dates


def calendar(first: pd.Timestamp, last: pd.Timestamp, grain: Grain, month_end: bool) -> pd.DatetimeIndex:
    """Every step label between the first and the last (weekly and monthly calendars have no gaps)."""
    if grain is WEEKLY:
        return pd.date_range(first, last, freq="7D")
    return pd.date_range(first, last, freq="ME" if month_end else "MS")


def after(last: pd.Timestamp, steps: int, grain: Grain) -> pd.DatetimeIndex:
    """The `steps` labels after `last` for weekly and monthly grains."""
    if grain is WEEKLY:
        return pd.date_range(last + pd.Timedelta(days=7), periods=steps, freq="7D")
    if last.is_month_end and not last.is_month_start:
        return pd.date_range(last + pd.offsets.MonthEnd(1), periods=steps, freq="ME")
    return pd.date_range(last + pd.offsets.MonthBegin(1), periods=steps, freq="MS")


def season_keys(dates: pd.DatetimeIndex, grain: Grain, first: pd.Timestamp) -> np.ndarray:
    """Which position of the seasonal cycle each date is: weekday, week of a 52-week cycle, or month."""
    if grain is WEEKLY:
        return ((dates - first).days.to_numpy() // 7) % grain.period
    if grain is MONTHLY:
        return dates.month.to_numpy() - 1
    return dates.dayofweek.to_numpy()
