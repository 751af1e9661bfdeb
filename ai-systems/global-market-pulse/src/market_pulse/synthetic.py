"""Seeded multi-country daily sales with known, injected effects (for tests and the benchmark).

Each country's log revenue = level + trend + weekday + yearly pattern + noise. Injected, with their truth
recorded: one-day shocks (spikes and drops), level shifts, and lead/lag pairs (the follower repeats the
leader's market driver `lag` days later).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

COUNTRIES = (
    "DE", "FR", "GB", "ES", "IT", "NL", "BE", "AT", "CH", "SE", "NO", "DK", "FI", "PL", "CZ", "PT", "IE", "GR",
    "HU", "RO", "BG", "HR", "SI", "SK", "LT", "LV", "EE", "LU", "US", "CA", "MX", "BR", "AR", "CL", "CO", "PE",
    "JP", "KR", "AU", "NZ", "SG", "IN", "ZA", "TR", "IL", "AE", "SA", "EG", "MA", "NG",
)  # fmt: skip


@dataclass
class Truth:
    shocks: list[tuple[str, str, float]] = field(default_factory=list)  # country, date, log size
    level_shifts: list[tuple[str, str, float]] = field(default_factory=list)
    lead_lag: list[tuple[str, str, int]] = field(default_factory=list)  # leader, follower, lag


def generate(
    *,
    n_countries: int = 8,
    days: int = 730,
    seed: int = 7,
    start: str = "2022-01-03",
    noise: float = 0.08,
    shocks_per_country: int = 0,
    level_shifts_per_country: int = 0,
    lead_lag_pairs: int = 0,
    lag: int = 3,
    growth: dict[str, float] | None = None,
    weekday_pattern: bool = True,
) -> tuple[pd.DataFrame, Truth]:
    """A long table (date, country, currency, revenue, orders, units, customers) and the injected truth."""
    if n_countries > len(COUNTRIES):
        raise ValueError(f"at most {len(COUNTRIES)} countries")
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    t = np.arange(days)
    countries = list(COUNTRIES[:n_countries])
    truth = Truth()
    drivers = {}
    for c in countries:  # a persistent market driver per country (AR(1)), what followers copy
        d = np.zeros(days + 30)
        eps = rng.normal(0, 0.12, days + 30)
        for k in range(1, days + 30):
            d[k] = 0.5 * d[k - 1] + eps[k]
        drivers[c] = d
    followers = {}
    for k in range(lead_lag_pairs):
        leader, follower = countries[2 * k], countries[2 * k + 1]
        followers[follower] = leader
        truth.lead_lag.append((leader, follower, lag))
    frames = []
    for i, c in enumerate(countries):
        level = np.log(rng.uniform(2_000, 50_000))
        trend = rng.normal(0.0, 0.15) * t / 365
        weekly = rng.normal(0, 0.15, 7) if weekday_pattern else np.zeros(7)
        weekly -= weekly.mean()
        phase = rng.uniform(0, 2 * np.pi)
        yearly = 0.15 * np.sin(2 * np.pi * t / 365.25 + phase)
        own = drivers[c][30:] * 0.5
        if c in followers:
            own = own + 0.9 * drivers[followers[c]][30 - lag : 30 - lag + days]
        log_rev = level + trend + weekly[dates.dayofweek] + yearly + own + rng.normal(0, noise, days)
        if growth and c in growth:
            log_rev[-28:] += np.log1p(growth[c])
        taken = np.zeros(days, dtype=bool)
        taken[:30] = taken[-20:] = True
        for _ in range(level_shifts_per_country):
            day = _free_day(rng, taken, margin=40)
            size = rng.choice([-1, 1]) * rng.uniform(0.3, 0.6)
            log_rev[day:] += size
            truth.level_shifts.append((c, dates[day].date().isoformat(), float(size)))
        for _ in range(shocks_per_country):
            day = _free_day(rng, taken, margin=5)
            size = rng.choice([-1, 1]) * rng.uniform(0.6, 1.0)
            log_rev[day] += size
            truth.shocks.append((c, dates[day].date().isoformat(), float(size)))
        revenue = np.exp(log_rev)
        aov = rng.uniform(30, 90)
        orders = np.maximum(1, np.round(revenue / aov * np.exp(rng.normal(0, 0.05, days))))
        frames.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "country": c,
                    "currency": "EUR",
                    "revenue": np.round(revenue, 2),
                    "orders": orders,
                    "units": np.round(orders * rng.uniform(1.5, 3.0)),
                    "customers": np.round(orders * 0.9),
                }
            )
        )
        del i
    return pd.concat(frames, ignore_index=True), truth


def _free_day(rng: np.random.Generator, taken: np.ndarray, margin: int) -> int:
    for _ in range(1000):
        day = int(rng.integers(0, len(taken)))
        if not taken[max(0, day - margin) : day + margin + 1].any():
            taken[max(0, day - margin) : day + margin + 1] = True
            return day
    raise ValueError("no room left to inject another effect")
