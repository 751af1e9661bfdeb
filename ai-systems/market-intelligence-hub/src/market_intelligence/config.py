"""Settings section of market-intelligence-hub beyond the platform's (environment variables, read once)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from market_intelligence import dimensions
from market_intelligence.exceptions import InputError
from market_intelligence.forecast import GLOBAL_NN, Options
from market_intelligence.models import ALL_LOCAL
from retail_platform.settings import Section, positive_int

KNOWN_MODELS = (*ALL_LOCAL, GLOBAL_NN)
CONSUMES = ("market_series", "daily_sales")  # the prod datasets whose ProdDatasetUpdated starts the batch path


def options_from_env(environ: dict[str, str] | None = None) -> Options:
    """MARKET_MODELS (comma list), MARKET_FOLDS, MARKET_EPOCHS, MARKET_THREADS; defaults = everything."""
    env = os.environ if environ is None else environ
    defaults = Options()
    names = tuple(m.strip() for m in (env.get("MARKET_MODELS") or "").split(",") if m.strip()) or defaults.models
    unknown = [m for m in names if m not in KNOWN_MODELS]
    if unknown:
        raise InputError(f"MARKET_MODELS has unknown models {unknown}; known: {', '.join(KNOWN_MODELS)}")
    try:
        folds = int(env.get("MARKET_FOLDS") or defaults.folds)
        epochs = int(env.get("MARKET_EPOCHS") or defaults.epochs)
        threads = int(env.get("MARKET_THREADS") or defaults.threads)
    except ValueError as e:
        raise InputError(f"MARKET_FOLDS, MARKET_EPOCHS and MARKET_THREADS must be integers: {e}") from e
    return Options(models=names, folds=max(1, folds), epochs=max(1, epochs), threads=max(1, threads))


def shard_size_from_env(environ: dict[str, str] | None = None) -> int:
    """MARKET_SHARD_SIZE: markets per shard of a forecast run (default 40; at least 1)."""
    from market_intelligence.sharded import DEFAULT_SHARD_SIZE

    return positive_int(os.environ if environ is None else environ, "MARKET_SHARD_SIZE", DEFAULT_SHARD_SIZE, InputError)


def dimensions_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """MARKET_DIMENSIONS: the columns that define a market (comma list, at most 3), e.g. "region,segment" for
    custom attributes of the shop's export; empty (the default) is category x country from market_series."""
    env = os.environ if environ is None else environ
    return dimensions.parse(env.get("MARKET_DIMENSIONS") or "")


@dataclass(frozen=True)
class MarketSettings:
    options: Options  # MARKET_MODELS, MARKET_FOLDS, MARKET_EPOCHS, MARKET_THREADS
    shard_size: int  # MARKET_SHARD_SIZE
    dimensions: tuple[str, ...] = dimensions.DEFAULT  # MARKET_DIMENSIONS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MarketSettings:
        return cls(options_from_env(dict(env)), shard_size_from_env(dict(env)), dimensions_from_env(env))


get_market_settings = Section(
    ("MARKET_MODELS", "MARKET_FOLDS", "MARKET_EPOCHS", "MARKET_THREADS", "MARKET_SHARD_SIZE", "MARKET_DIMENSIONS"),
    MarketSettings.from_env,
)
