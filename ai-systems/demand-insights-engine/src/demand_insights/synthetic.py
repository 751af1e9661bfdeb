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
        birth = int(rng.integers(days // 2, max(days // 2 + 1, days - 60))) if s % 10 == 9 else 0
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


def prod_daily_sales(n_series: int = 12, days: int = 120, end: str = "2023-12-31", seed: int = 11) -> pd.DataFrame:
    """A prod `daily_sales` table (contract columns) of SKU-100xx series in GB and DE ending on `end`."""
    start = str((pd.Timestamp(end) - pd.Timedelta(days=days - 1)).date())
    frame = generate(n_series, days, seed=seed, start=start)
    number = frame["sku"].str[3:].astype(int)
    frame["sku"] = "SKU-" + (10001 + number).astype(str)
    frame["country"] = np.where(number % 2 == 0, "GB", "DE")
    on_hand = np.random.default_rng(seed).integers(0, 200, len(frame))
    revenue = frame["units"] * frame["price"]
    return pd.DataFrame(
        {
            "date": pd.to_datetime(frame["date"]),
            "sku": frame["sku"],
            "country": frame["country"],
            "units": frame["units"].astype("int64"),
            "gross_units": frame["units"].astype("int64"),
            "revenue": revenue,
            "currency": np.where(frame["country"] == "GB", "GBP", "EUR"),
            "revenue_reporting": revenue,
            "avg_price": frame["price"],
            "promo_flag": frame["promo"].astype(bool),
            "price": frame["price"],
            "on_hand": on_hand.astype("int64"),
            "stockout_flag": on_hand == 0,
            "orders": frame["units"].astype("int64"),
        }
    )


def prod_customer_transactions(n_customers: int = 300, days: int = 306, seed: int = 9) -> pd.DataFrame:
    """A prod `customer_transactions` table: customers 10100.. buy at their own rate until they churn.

    Customer 10149 is loyal and active to the end (the id the route event asks for).
    """
    rng = np.random.default_rng(seed)
    start, rows = pd.Timestamp("2023-03-01"), []
    for c in range(10100, 10100 + n_customers):
        rate = rng.gamma(1.5, 1 / 20)
        life = rng.exponential(60 + 3000 * rate)
        day, k = float(rng.integers(0, 120)), 0
        if c == 10149:
            rate, life = 0.2, 10_000.0
        born = day
        while day < min(days, born + life):
            ts = start + pd.Timedelta(days=int(day), hours=10)
            revenue = float(rng.gamma(2, 20))
            rows.append(
                {
                    "date": ts.normalize(),
                    "order_id": f"{c}-{k}",
                    "customer_id": str(c),
                    "country": "GB" if c % 3 else "DE",
                    "order_ts": ts.tz_localize("UTC"),
                    "units": int(rng.integers(1, 6)),
                    "revenue": revenue,
                    "currency": "GBP",
                    "revenue_reporting": revenue * 1.15,
                    "n_lines": 2,
                    "is_cancellation": bool(rng.random() < 0.02),
                }
            )
            day += rng.exponential(1 / rate)
            k += 1
    return pd.DataFrame(rows)
