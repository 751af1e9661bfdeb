"""Daily demand per SKU x market and the order lines it produces (before stock-outs censor it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalog import Catalog
from .countries import CountryInfo
from .params import Params, stream
from .pricing import PriceBook

PRICE_ELASTICITY = -1.5
PROMO_VISIBILITY_UPLIFT = 1.25  # on top of the price effect: banners, newsletters
DISPERSION = 1.5  # negative-binomial shape for regular SKUs (smaller = more overdispersed)
INTERMITTENT_DISPERSION = 0.3
QTY_VALUES = np.array([1, 2, 3, 4, 5, 6])
QTY_PROBS = np.array([0.68, 0.20, 0.08, 0.02, 0.01, 0.01])
MEAN_QTY = float(QTY_VALUES @ QTY_PROBS)


@dataclass(frozen=True)
class DemandLines:
    """Demanded order lines sorted by (day, sku, country)."""

    day: np.ndarray
    sku: np.ndarray
    country: np.ndarray
    qty: np.ndarray

    def __len__(self) -> int:
        return len(self.day)

    def subset(self, mask: np.ndarray) -> DemandLines:
        return DemandLines(self.day[mask], self.sku[mask], self.country[mask], self.qty[mask])


def launch_ramp(params: Params, catalog: Catalog) -> np.ndarray:
    """(day, sku) 0 before launch, ramping from 30% to full demand over ~2 months after it (cold start)."""
    t = np.arange(params.days)[:, None] - catalog.launch_day[None, :]
    return np.where(t < 0, 0.0, 1.0 - 0.7 * np.exp(-np.maximum(t, 0) / 30.0))


def expected_lines(
    params: Params,
    catalog: Catalog,
    countries: tuple[CountryInfo, ...],
    prices: PriceBook,
    cal: dict[str, np.ndarray],
) -> np.ndarray:
    """(day, sku, country) expected number of order lines."""
    scale = np.array([c.demand_scale for c in countries])
    per_day = cal["weekday"] * cal["events"] * cal["trend"]  # (D,)
    season = cal["season"][:, catalog.category_idx]  # (D, S)
    lam = (
        per_day[:, None, None]
        * season[:, :, None]
        * launch_ramp(params, catalog)[:, :, None]
        * catalog.popularity[None, :, None]
        * scale[None, None, :]
        * cal["holiday"][:, None, :]
    )
    lam = lam * (prices.price / prices.reference[None, :, :]) ** PRICE_ELASTICITY
    return lam * np.where(prices.promo, PROMO_VISIBILITY_UPLIFT, 1.0)


def sample_lines(params: Params, catalog: Catalog, lam: np.ndarray) -> DemandLines:
    """Negative-binomial line counts per cell, a small quantity (mostly 1-3) per line."""
    rng = stream(params.seed, "demand")
    k = np.where(catalog.intermittent, INTERMITTENT_DISPERSION, DISPERSION)[None, :, None]
    counts = rng.negative_binomial(k, k / (k + lam))
    D, S, C = lam.shape
    flat = np.repeat(np.arange(D * S * C), counts.ravel())
    day, rest = np.divmod(flat, S * C)
    sku, country = np.divmod(rest, C)
    qty = rng.choice(QTY_VALUES, size=len(flat), p=QTY_PROBS)
    return DemandLines(day.astype(np.int32), sku.astype(np.int32), country.astype(np.int32), qty.astype(np.int64))
