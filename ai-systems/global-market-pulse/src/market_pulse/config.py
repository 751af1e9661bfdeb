"""global-market-pulse's own settings section (beyond retail_platform.settings), checked at cold start."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from market_pulse.exceptions import PulseInputError
from retail_platform.exceptions import ConfigurationError
from retail_platform.settings import Section, flag

COUNTRY = ("country",)
MAX_DIMENSIONS = 3
DIMENSION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def parse_dimensions(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Market dimensions from "region" / "country,segment" / a sequence of names; empty means countries."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    names = tuple(str(item).strip() for item in items if str(item).strip())
    if not names:
        return COUNTRY
    bad = [n for n in names if not DIMENSION_NAME.match(n)]
    if bad:
        raise PulseInputError(f"market dimensions are column names in snake_case (e.g. region), got {bad}")
    if len(set(names)) != len(names) or len(names) > MAX_DIMENSIONS:
        raise PulseInputError(f"give 1 to {MAX_DIMENSIONS} distinct market dimensions, got {list(names)}")
    return names


@dataclass(frozen=True)
class PulseSettings:
    report: bool  # MARKET_PULSE_REPORT: add the HTML section (with charts) to the batch result; default: local only
    # MARKET_PULSE_DIMENSIONS: what a market is, comma-separated prod columns; default "country". Custom string
    # attributes of the source contract (e.g. "region", or "country,segment") make their values the markets.
    dimensions: tuple[str, ...] = COUNTRY

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PulseSettings:
        try:
            dimensions = parse_dimensions(env.get("MARKET_PULSE_DIMENSIONS"))
        except PulseInputError as e:
            raise ConfigurationError(f"MARKET_PULSE_DIMENSIONS: {e}") from e
        return cls(report=flag(env, "MARKET_PULSE_REPORT", env.get("ENVIRONMENT") == "local"), dimensions=dimensions)


get_pulse_settings = Section(("MARKET_PULSE_REPORT", "MARKET_PULSE_DIMENSIONS", "ENVIRONMENT"), PulseSettings.from_env)
