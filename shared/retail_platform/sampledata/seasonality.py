"""Calendar effects on demand: weekday, category season, retail events, public holidays, trend."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import numpy as np
import pandas as pd

from .catalog import CATEGORY_NAMES

WEEKDAY = np.array([0.93, 0.90, 0.92, 0.96, 1.02, 1.12, 1.15])  # Mon..Sun: weekend peak of a web shop

# monthly demand multipliers per category (Jan..Dec)
CATEGORY_SEASON: dict[str, tuple[float, ...]] = {
    "Electronics": (0.90, 0.85, 0.90, 0.90, 0.90, 0.90, 0.90, 0.95, 1.00, 1.05, 1.35, 1.55),
    "Home & Kitchen": (1.00, 0.95, 1.00, 1.00, 1.00, 0.95, 0.95, 0.95, 1.00, 1.05, 1.20, 1.30),
    "Garden": (0.40, 0.50, 0.90, 1.50, 1.80, 1.70, 1.40, 1.10, 0.80, 0.60, 0.50, 0.50),
    "Toys": (0.60, 0.60, 0.70, 0.75, 0.75, 0.75, 0.80, 0.80, 0.85, 1.00, 1.60, 2.40),
    "Sports": (1.40, 1.20, 1.10, 1.05, 1.10, 1.10, 1.00, 0.95, 0.90, 0.85, 0.90, 0.90),
    "Beauty": (0.90, 1.05, 0.95, 0.95, 1.05, 0.95, 0.95, 0.95, 0.95, 1.00, 1.20, 1.40),
    "Books": (1.00, 0.95, 0.95, 0.95, 0.95, 1.00, 1.10, 1.10, 1.00, 1.00, 1.10, 1.40),
    "Fashion": (1.20, 0.85, 1.00, 1.05, 1.05, 1.05, 1.15, 0.95, 1.05, 1.00, 1.15, 1.30),
}
HOLIDAY_FACTOR = 0.65
ANNUAL_GROWTH = 0.12


def black_friday(year: int) -> date:
    """The day after the fourth Thursday of November."""
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(days=22)


def event_factor(dates: pd.DatetimeIndex) -> np.ndarray:
    """Retail events shared by all markets: Black Friday week, Cyber Monday, Christmas run-up and lull."""
    f = np.ones(len(dates))
    day = {d.date(): i for i, d in enumerate(dates)}
    for year in sorted({d.year for d in dates}):
        bf = black_friday(year)
        effects = {bf + timedelta(days=k): 1.25 for k in range(-4, 0)}
        effects.update({bf: 2.6, bf + timedelta(days=1): 1.6, bf + timedelta(days=2): 1.4, bf + timedelta(days=3): 1.9})
        effects.update({date(year, 12, k): 1.25 for k in range(1, 19)})
        effects.update({date(year, 12, k): 1.1 for k in range(19, 23)})
        effects.update(
            {
                date(year, 12, 23): 0.8,
                date(year, 12, 24): 0.55,
                date(year, 12, 25): 0.5,
                date(year, 12, 26): 0.9,
                date(year, 1, 1): 0.6,
            }
        )
        effects.update({date(year, 12, k): 0.9 for k in range(27, 32)})
        for d, v in effects.items():
            if d in day:
                f[day[d]] *= v
    return f


def category_season(dates: pd.DatetimeIndex) -> np.ndarray:
    """(days, categories) multipliers, monthly values interpolated between mid-months."""
    doy = dates.dayofyear.to_numpy() - 1
    mids = (np.arange(12) + 0.5) * 365.25 / 12
    out = np.empty((len(dates), len(CATEGORY_NAMES)))
    for k, name in enumerate(CATEGORY_NAMES):
        v = np.array(CATEGORY_SEASON[name])
        xs = np.concatenate([mids - 365.25, mids, mids + 365.25])
        out[:, k] = np.interp(doy, xs, np.tile(v, 3))
    return out


def holiday_mask(dates: pd.DatetimeIndex, countries: tuple[str, ...]) -> np.ndarray:
    """(days, countries) True on national public holidays (Swedish Sundays are not holidays here)."""
    years = sorted({d.year for d in dates})
    mask = np.zeros((len(dates), len(countries)), dtype=bool)
    for j, code in enumerate(countries):
        cal = (
            holidays.SE(years=years, include_sundays=False)
            if code == "SE"
            else holidays.country_holidays(code, years=years)
        )
        mask[:, j] = [d.date() in cal for d in dates]
    return mask


def calendar_factors(dates: pd.DatetimeIndex, countries: tuple[str, ...]) -> dict[str, np.ndarray]:
    """All calendar multipliers: weekday (D,), season (D,K), events (D,), holiday (D,C), trend (D,)."""
    t = np.arange(len(dates))
    hol = holiday_mask(dates, countries)
    return {
        "weekday": WEEKDAY[dates.dayofweek.to_numpy()],
        "season": category_season(dates),
        "events": event_factor(dates),
        "holiday": np.where(hol, HOLIDAY_FACTOR, 1.0),
        "holiday_mask": hol,
        "trend": np.exp(np.log1p(ANNUAL_GROWTH) * t / 365.25),
    }
