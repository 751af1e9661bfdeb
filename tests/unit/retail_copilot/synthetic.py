"""Seeded generated prod frames (copilot_mart + country_kpis) in the shape curated-to-prod writes them."""

from __future__ import annotations

import numpy as np
import pandas as pd

CATEGORIES = {
    "Electronics": ["Wireless Earbuds", "Bluetooth Speaker", "Smart Watch", "Power Bank"],
    "Home & Kitchen": ["Espresso Machine", "Chef Knife", "Cast Iron Pan", "Kettle"],
    "Garden": ["Garden Hose", "Pruning Shears", "Solar Lights"],
    "Toys": ["Building Set", "Plush Bear", "Board Game"],
    "Books": ["Crime Novel", "Cookbook", "Garden Handbook"],
}
BRANDS = ["Voltix", "Nordvik", "Kochwerk", "Playfox", "Paperleaf"]
COUNTRIES = {"DE": 1.0, "FR": 0.7, "ES": 0.5, "GB": 0.8}


def make_frames(seed: int = 7, days: int = 200, end: str = "2024-06-30") -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    products = []
    n = 0
    for category, nouns in CATEGORIES.items():
        for noun in nouns:
            n += 1
            brand = BRANDS[n % len(BRANDS)]
            products.append((f"SKU-{10000 + n}", category, f"{brand} {noun}", float(rng.lognormal(3.5, 0.6))))
    dates = pd.date_range(end=end, periods=days, freq="D")
    rows = []
    for day in dates:
        weekly = 1.3 if day.weekday() >= 5 else 1.0
        for country, size in COUNTRIES.items():
            for sku, category, description, price in products:
                rate = size * weekly * (0.6 + 0.8 * ((int(sku[-2:]) % 7) / 7))
                units = int(rng.poisson(rate))
                if units == 0:
                    continue
                orders = int(max(1, units - rng.binomial(units, 0.3)))
                revenue = round(units * price * float(rng.uniform(0.9, 1.05)), 2)
                rows.append((day, country, category, sku, description, units, revenue, orders))
    mart = pd.DataFrame(
        rows, columns=["date", "country", "category", "sku", "description", "units", "revenue_reporting", "orders"]
    )
    daily = mart.groupby(["date", "country"]).agg(
        units=("units", "sum"), revenue_reporting=("revenue_reporting", "sum"), lines=("orders", "sum")
    )
    rng2 = np.random.default_rng(seed + 1)
    kpis = daily.reset_index()
    kpis["orders"] = np.maximum(1, (kpis["lines"] * rng2.uniform(0.5, 0.8, len(kpis))).astype(int))
    kpis["customers"] = np.maximum(1, (kpis["orders"] * rng2.uniform(0.8, 1.0, len(kpis))).astype(int))
    kpis["revenue_local"] = kpis["revenue_reporting"]
    kpis["currency"] = "EUR"
    kpis["aov_reporting"] = kpis["revenue_reporting"] / kpis["orders"]
    kpis["cancellation_rate"] = 0.0
    kpis = kpis.drop(columns=["lines"])
    return mart, kpis
