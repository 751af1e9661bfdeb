"""Seeded synthetic markets with known truth, for tests and benchmarks.

Weekly series per category x country with yearly seasonality and noise; some get a compounded trend, a level
shift or a block of placeholder values (zeros), and the truth (trend sign, shift date, placeholder dates)
is returned beside the data. Daily SKU sales with a known price elasticity per category.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CATEGORIES = ("apparel", "electronics", "home", "beauty", "toys")
COUNTRIES = ("DE", "FR", "GB", "US")


def markets(
    n_weeks: int = 156, seed: int = 7, categories=CATEGORIES, countries=COUNTRIES, start: str = "2022-01-03"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(market_series-shaped frame, truth per series)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=n_weeks, freq="W-MON")
    t = np.arange(n_weeks)
    rows, truth = [], []
    for category in categories:
        for country in countries:
            level = rng.uniform(5_000, 50_000)
            amp = rng.uniform(0.1, 0.35)
            phase = rng.uniform(0, 2 * np.pi)
            kind = rng.choice(["none", "up", "down", "shift", "placeholder"], p=[0.3, 0.2, 0.15, 0.2, 0.15])
            growth = 1.0
            if kind in ("up", "down"):
                # 15-35% a year, compounded: a linear decline of 35% of the start level a year would reach
                # zero (clipped, then cleaned as placeholders) before the end of a three-year series
                rate = (1 if kind == "up" else -1) * rng.uniform(0.15, 0.35)
                growth = (1 + rate) ** (t / 52.18)
            y = level * growth * (1 + amp * np.sin(2 * np.pi * t / 52.18 + phase))
            y *= 1 + rng.normal(0, 0.04, n_weeks)
            shift_at, placeholder = None, []
            if kind == "shift":
                at = int(rng.integers(n_weeks // 3, 2 * n_weeks // 3))
                y[at:] *= rng.choice([0.6, 1.5])
                shift_at = dates[at]
            if kind == "placeholder":
                at = int(rng.integers(n_weeks // 3, n_weeks - 8))
                y[at : at + 4] = 0.0
                placeholder = list(dates[at : at + 4])
            price = rng.uniform(10, 80)
            for d, v in zip(dates, y, strict=True):
                rows.append(
                    {
                        "date": d.date(),
                        "category": category,
                        "country": country,
                        "units": int(max(v, 0) / price),
                        "revenue_reporting": float(max(v, 0)),
                        "avg_price_reporting": price,
                        "n_skus": 10,
                    }
                )
            truth.append(
                {
                    "series_id": f"{category}|{country}",
                    "kind": kind,
                    "trend": "up" if kind == "up" else "down" if kind == "down" else "flat",
                    "shift_at": shift_at,
                    "placeholders": placeholder,
                }
            )
    frame = pd.DataFrame(rows)
    totals = frame.groupby(["date", "category"], as_index=False)[["units", "revenue_reporting"]].sum()
    totals["country"] = "ALL"
    totals["avg_price_reporting"] = totals["revenue_reporting"] / totals["units"].clip(lower=1)
    totals["n_skus"] = 40
    grand = frame.groupby("date", as_index=False)[["units", "revenue_reporting"]].sum()
    grand["category"], grand["country"] = "ALL", "ALL"
    grand["avg_price_reporting"] = grand["revenue_reporting"] / grand["units"].clip(lower=1)
    grand["n_skus"] = 10 * len(categories) * len(countries)
    return pd.concat([frame, totals, grand], ignore_index=True), pd.DataFrame(truth)


def daily_sales(
    n_days: int = 180, seed: int = 7, elasticities: dict[str, float] | None = None, start: str = "2024-01-01"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(daily_sales-shaped frame, sku -> category mapping) with a known elasticity per category."""
    elasticities = elasticities or {"apparel": -1.8, "electronics": -1.2, "home": -0.6}
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=n_days, freq="D")
    rows, mapping = [], []
    for category, b in elasticities.items():
        for k in range(8):
            sku = f"{category[:3].upper()}-{k:03d}"
            mapping.append({"sku": sku, "category": category})
            base_price = rng.uniform(10, 100)
            base_units = rng.uniform(5, 30)
            for country in ("DE", "FR"):
                price = base_price
                for d in dates:
                    if rng.random() < 0.03:  # price changes now and then
                        price = base_price * rng.uniform(0.7, 1.3)
                    promo = rng.random() < 0.05
                    mean = base_units * (price / base_price) ** b * (1.3 if promo else 1.0)
                    units = int(rng.poisson(mean))
                    rows.append(
                        {
                            "date": d.date(),
                            "sku": sku,
                            "country": country,
                            "units": units,
                            "gross_units": units,
                            "revenue": units * price,
                            "currency": "EUR",
                            "revenue_reporting": units * price,
                            "avg_price": price,
                            "promo_flag": promo,
                            "price": price,
                            "on_hand": 100,
                            "stockout_flag": False,
                            "orders": units,
                        }
                    )
    return pd.DataFrame(rows), pd.DataFrame(mapping)


def monthly_long(n_months: int = 96, n_series: int = 20, seed: int = 7) -> pd.DataFrame:
    """A generic long table (series_id, ds, y) of monthly series, for the CLI and tests."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2015-01-01", periods=n_months, freq="MS")
    t = np.arange(n_months)
    rows = []
    for s in range(n_series):
        y = rng.uniform(100, 1000) * (1 + rng.normal(0.004, 0.004) * t)
        y *= 1 + rng.uniform(0.05, 0.3) * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 6))
        y *= 1 + rng.normal(0, 0.03, n_months)
        rows += [{"series_id": f"s{s:03d}", "ds": d, "y": v} for d, v in zip(dates, y, strict=True)]
    return pd.DataFrame(rows)
