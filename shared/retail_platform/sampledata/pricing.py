"""Daily shelf prices per SKU x market (permanent changes, promotions, competitor prices) and FX rates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalog import Catalog
from .countries import CountryInfo
from .params import Params, stream
from .seasonality import black_friday

PRICE_CHANGES_PER_YEAR = 2.0
PROMOS_PER_YEAR = 2.5
PROMO_DISCOUNTS = (0.10, 0.15, 0.20, 0.25, 0.30)
COMPETITOR_MISSING_SHARE = 0.08

FX_LEVELS: dict[str, tuple[float, int]] = {
    "GBP": (0.865, 5),
    "USD": (1.085, 4),
    "SEK": (11.45, 4),
}  # level, decimals


@dataclass(frozen=True)
class PriceBook:
    """Arrays indexed (day, sku, country) unless stated."""

    price: np.ndarray  # shelf price actually charged (promo applied), local currency
    regular: np.ndarray  # regular shelf price
    reference: np.ndarray  # (sku, country) regular price at launch/start: the anchor of price elasticity
    discount: np.ndarray  # promo discount, 0 when not on promotion
    competitor: np.ndarray  # observed competitor price, NaN when not observed
    n_price_changes: int
    n_promo_windows: int

    @property
    def promo(self) -> np.ndarray:
        return self.discount > 0


def shelf_round(p: np.ndarray, currency: str) -> np.ndarray:
    """Psychological price points: 12.99, 249.00 -> 249, SEK 499."""
    threshold = 100.0 if currency == "SEK" else 200.0
    return np.where(p >= threshold, np.ceil(p / 10) * 10 - 1, np.ceil(p) - 0.01).round(2)


def build_prices(params: Params, catalog: Catalog, countries: tuple[CountryInfo, ...]) -> PriceBook:
    """Regular prices with a few permanent changes a year, promotion windows and a noisy competitor price."""
    rng = stream(params.seed, "prices")
    D, S, C = params.days, len(catalog), len(countries)
    years = params.days / 365.25

    # permanent changes of the EUR base price, same day in every market, upward (inflation) bias
    steps = np.ones((D, S))
    n_changes = 0
    for s in range(S):
        k = rng.poisson(PRICE_CHANGES_PER_YEAR * years)
        days = rng.integers(1, D, size=k)
        mult = rng.choice([0.90, 0.95, 1.04, 1.06, 1.08, 1.10, 1.12], size=k, p=[0.1, 0.15, 0.2, 0.2, 0.15, 0.1, 0.1])
        steps[days, s] *= mult
        n_changes += k
    base_path = catalog.base_price[None, :] * np.cumprod(steps, axis=0)

    regular = np.empty((D, S, C))
    for c, info in enumerate(countries):
        regular[:, :, c] = shelf_round(base_path * info.price_factor, info.currency)
    first_day = np.clip(catalog.launch_day, 0, D - 1)
    reference = regular[first_day, np.arange(S), :]

    # promotion windows: 10-30% off for 1-2 weeks in some markets, plus a Black Friday campaign
    discount = np.zeros((D, S, C))
    n_windows = 0
    for s in range(S):
        for _ in range(rng.poisson(PROMOS_PER_YEAR * years)):
            start = int(rng.integers(0, D))
            length = int(rng.integers(7, 15))
            markets = rng.random(C) < 0.7
            markets[int(rng.integers(C))] = True
            disc = float(rng.choice(PROMO_DISCOUNTS))
            sl = discount[start : start + length, s, :]
            sl[:, markets] = np.maximum(sl[:, markets], disc)
            n_windows += 1
    dates = params.dates
    for year in sorted({d.year for d in dates}):
        bf = (np.datetime64(black_friday(year)) - np.datetime64(params.start)).astype(int)
        lo, hi = max(bf - 4, 0), min(bf + 4, D)
        if lo >= hi:
            continue
        chosen = rng.random(S) < 0.35
        disc = rng.choice([0.2, 0.25, 0.3], size=S)
        for s in np.flatnonzero(chosen):
            discount[lo:hi, s, :] = np.maximum(discount[lo:hi, s, :], disc[s])
            n_windows += 1

    price = regular.copy()
    for c, info in enumerate(countries):
        on = discount[:, :, c] > 0
        promo_price = shelf_round(regular[:, :, c] * (1 - discount[:, :, c]), info.currency)
        price[:, :, c] = np.where(on, promo_price, regular[:, :, c])

    # competitor: a persistent per SKU x market offset plus a mean-reverting daily wobble
    bias = rng.normal(0.0, 0.06, size=(1, S, C))
    shocks = rng.normal(0.0, 0.012, size=(D, S, C))
    wobble = np.empty_like(shocks)
    wobble[0] = shocks[0]
    for d in range(1, D):
        wobble[d] = 0.95 * wobble[d - 1] + shocks[d]
    competitor = np.round(regular * np.exp(bias + wobble), 2)
    competitor[rng.random((D, S, C)) < COMPETITOR_MISSING_SHARE] = np.nan

    return PriceBook(
        price=price,
        regular=regular,
        reference=reference,
        discount=discount,
        competitor=competitor,
        n_price_changes=n_changes,
        n_promo_windows=n_windows,
    )


def build_fx_rates(params: Params) -> dict[str, np.ndarray]:
    """Daily EUR -> GBP/USD/SEK rates: a mean-reverting random walk (in logs) around realistic levels."""
    rng = stream(params.seed, "fx")
    out: dict[str, np.ndarray] = {}
    for ccy, (level, decimals) in FX_LEVELS.items():
        eps = rng.normal(0.0, 0.004, size=params.days)
        x = np.empty(params.days)
        x[0] = eps[0]
        for t in range(1, params.days):
            x[t] = x[t - 1] * 0.985 + eps[t]
        out[ccy] = np.round(level * np.exp(x), decimals)
    return out
