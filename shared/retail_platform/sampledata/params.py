"""Generation parameters, the two profiles and named random streams."""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

DEFAULT_COUNTRIES: tuple[str, ...] = ("GB", "DE", "FR", "ES", "IT", "NL", "US", "SE")

# `--small`: a fast profile for tests, one quarter with Black Friday and Christmas, all four currencies.
SMALL_PROFILE: dict[str, object] = {
    "start": date(2023, 10, 1),
    "days": 92,
    "n_skus": 30,
    "n_customers": 300,
    "countries": ("GB", "DE", "US", "SE"),
}


@dataclass(frozen=True)
class Params:
    """Everything that determines the generated data (same params -> byte-identical output)."""

    seed: int = 7
    start: date = date(2023, 1, 1)
    days: int = 730
    n_skus: int = 120
    n_customers: int = 3000
    countries: tuple[str, ...] = DEFAULT_COUNTRIES

    def __post_init__(self) -> None:
        if self.days < 28:
            raise ValueError("days must be >= 28")
        if self.n_skus < 8:
            raise ValueError("n_skus must be >= 8 (one per category)")
        if self.n_customers < 20:
            raise ValueError("n_customers must be >= 20")

    @property
    def end(self) -> date:
        """Last day of history (inclusive)."""
        return self.start + timedelta(days=self.days - 1)

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.days, freq="D")

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["start"] = self.start.isoformat()
        d["countries"] = list(self.countries)
        return d


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent generator per (seed, purpose): changing one module leaves the others' draws alone."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])
