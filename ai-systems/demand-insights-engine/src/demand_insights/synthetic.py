"""Seeded synthetic SKU x country daily sales, for tests and the benchmark (same arguments -> same table).

Per series: a log-normal base level, weekly profile, yearly seasonality with a December peak, national
holidays dampening sales, promotions (+60%) and price changes with elasticity -1.5, negative-binomial
noise; a fifth of the series are intermittent (low level), a tenth start late (new SKUs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNTRIES = ("GB", "DE", "FR", "US")


def generate(n_series: int = 40, days: int = 400, seed: int = 7, start: str = "2023-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    t = np.arange(days)
    dow = dates.dayofweek.to_numpy()
    doy = dates.dayofyear.to_numpy()
    weekly = np.array([0.9, 0.85, 0.9, 1.0, 1.2, 1.35, 0.8])
    yearly = 1 + 0.25 * np.sin(2 * np.pi * (doy - 80) / 365.25) + 0.6 * np.exp(-(((doy - 350) / 12.0) ** 2))
    frames = []
    for s in range(n_series):
        country = COUNTRIES[s % len(COUNTRIES)]
        intermittent = s % 5 == 4
        level = rng.lognormal(mean=-0.5 if intermittent else 2.2, sigma=0.6)
        birth = int(rng.integers(days // 2, days - 60)) if s % 10 == 9 else 0
        price0 = float(np.round(rng.uniform(3, 40), 2))
        price = np.full(days, price0)
        for change in rng.integers(0, days, size=3):
            price[change:] = price[change:] * rng.choice([0.9, 1.1])
        promo = np.zeros(days)
        for begin in rng.integers(0, days - 7, size=max(1, days // 60)):
            promo[begin : begin + int(rng.integers(3, 8))] = 1
        trend = 1 + rng.normal(0, 0.3) * t / days
        mu = level * weekly[dow] * yearly * np.maximum(trend, 0.2) * (1 + 0.6 * promo) * (price / price0) ** -1.5
        dispersion = 5.0
        units = rng.negative_binomial(dispersion, dispersion / (dispersion + mu))
        alive = t >= birth
        frames.append(
            pd.DataFrame(
                {
                    "series_id": f"SKU{s:04d}|{country}",
                    "sku": f"SKU{s:04d}",
                    "country": country,
                    "group": f"cat{s % 8}",
                    "date": dates[alive],
                    "units": units[alive],
                    "price": price[alive].round(2),
                    "promo": promo[alive].astype(int),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
