"""The product catalogue: SKUs with category, brand, base price, popularity and launch day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import Params, stream

# category -> (brands, product nouns, median base price EUR, log-sd of price)
CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[str, ...], float, float]] = {
    "Electronics": (
        ("Voltix", "Nordvik", "Lumen"),
        (
            "Wireless Earbuds",
            "Bluetooth Speaker",
            "Smart Watch",
            "4K Monitor",
            "Laptop 14in",
            "Power Bank",
            "Action Camera",
            "Noise-Cancelling Headphones",
        ),
        120.0,
        1.0,
    ),
    "Home & Kitchen": (
        ("Kochwerk", "Casa Bella", "Hearth & Co"),
        (
            "Espresso Machine",
            "Chef Knife",
            "Cast Iron Pan",
            "Blender",
            "Stand Mixer",
            "Kettle",
            "Cookware Set",
        ),
        55.0,
        0.8,
    ),
    "Garden": (
        ("GreenThumb", "Gartenfreund"),
        ("Garden Hose 25m", "Pruning Shears", "Raised Bed", "Lawn Mower", "Solar Lights", "Watering Can"),
        40.0,
        0.9,
    ),
    "Toys": (
        ("Playfox", "Bricktown", "Kidora"),
        ("Building Set", "Plush Bear", "RC Car", "Puzzle 1000pc", "Board Game", "Wooden Train"),
        28.0,
        0.6,
    ),
    "Sports": (
        ("Stride", "Alpenfit"),
        ("Yoga Mat", "Running Shoes", "Dumbbell Set", "Cycling Helmet", "Tennis Racket", "Fitness Tracker"),
        45.0,
        0.7,
    ),
    "Beauty": (
        ("Belle Rose", "Skinlab"),
        ("Face Serum", "Hair Dryer", "Perfume 50ml", "Lip Balm Set", "Night Cream"),
        25.0,
        0.6,
    ),
    "Books": (
        ("Paperleaf", "Kestrel Press"),
        ("Cookbook", "Crime Novel", "Travel Guide", "Children's Atlas", "Garden Handbook"),
        16.0,
        0.35,
    ),
    "Fashion": (
        ("Urbane", "Maison Fil", "Nordkap"),
        ("Winter Jacket", "Wool Scarf", "Leather Belt", "Sneakers", "Denim Jeans", "Rain Coat"),
        50.0,
        0.6,
    ),
}
COLOURS = ("black", "white", "grey", "navy", "red", "green", "oak", "steel")

MEAN_LINES_PER_SKU_DAY = 0.5  # calibration: expected order lines per SKU and day in a market of scale 1.0


@dataclass(frozen=True)
class Catalog:
    """Column arrays, one entry per SKU."""

    sku: np.ndarray  # str
    description: np.ndarray  # str
    category: np.ndarray  # str
    category_idx: np.ndarray  # int, index into CATEGORY_NAMES
    brand: np.ndarray  # str
    base_price: np.ndarray  # float, EUR
    launch_day: np.ndarray  # int, day index relative to start (negative: launched before the history)
    popularity: np.ndarray  # expected order lines per day in a market of scale 1.0
    intermittent: np.ndarray  # bool: sells rarely and irregularly

    def __len__(self) -> int:
        return len(self.sku)


CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)


def build_catalog(params: Params) -> Catalog:
    """A catalogue with a long-tailed popularity, a few intermittent SKUs and a few mid-history launches."""
    rng = stream(params.seed, "catalog")
    n = params.n_skus
    cat_idx = np.arange(n) % len(CATEGORY_NAMES)  # every category present
    rng.shuffle(cat_idx)
    skus, descs, brands, prices = [], [], [], []
    used: set[str] = set()
    for i, k in enumerate(cat_idx):
        brands_k, nouns, median, sd = CATEGORIES[CATEGORY_NAMES[k]]
        brand = brands_k[int(rng.integers(len(brands_k)))]
        noun = nouns[int(rng.integers(len(nouns)))]
        colour = COLOURS[int(rng.integers(len(COLOURS)))]
        desc = f"{brand} {noun}, {colour}"
        while desc in used:  # keep descriptions unique
            desc = f"{desc} II"
        used.add(desc)
        price = float(np.exp(np.log(median) + sd * rng.standard_normal()))
        prices.append(round(max(price, 3.0), 2))
        skus.append(f"SKU-{10001 + i}")
        descs.append(desc)
        brands.append(brand)
    base_price = np.array(prices)
    # a handful of premium items so that thousands separators occur in the ERP export
    premium = rng.choice(np.flatnonzero(cat_idx == 0), size=min(3, int((cat_idx == 0).sum())), replace=False)
    base_price[premium] = np.round(rng.uniform(1050, 2400, size=len(premium)), 0) - 0.01

    # long-tailed popularity: Zipf-like over a random ranking, cheaper items a little more popular
    rank = rng.permutation(n) + 1
    pop = (rank + 1.0) ** -0.65 * np.exp(0.3 * rng.standard_normal(n)) * (base_price / np.median(base_price)) ** -0.15
    intermittent = np.zeros(n, dtype=bool)
    tail = np.argsort(-rank)[: max(2, n // 10)]  # the least popular tenth sells intermittently
    intermittent[tail] = True
    pop = pop / pop[~intermittent].mean() * MEAN_LINES_PER_SKU_DAY
    pop[intermittent] = rng.uniform(0.02, 0.08, size=intermittent.sum())

    launch = -rng.integers(30, 4 * 365, size=n)
    n_new = max(1, round(0.07 * n))
    newcomers = rng.choice(np.flatnonzero(~intermittent), size=n_new, replace=False)
    launch[newcomers] = rng.integers(int(0.15 * params.days), int(0.75 * params.days), size=n_new)

    return Catalog(
        sku=np.array(skus),
        description=np.array(descs),
        category=np.array([CATEGORY_NAMES[k] for k in cat_idx]),
        category_idx=cat_idx,
        brand=np.array(brands),
        base_price=base_price,
        launch_day=launch,
        popularity=pop,
        intermittent=intermittent,
    )
