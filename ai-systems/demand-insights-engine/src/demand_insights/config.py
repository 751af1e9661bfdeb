"""This system's own settings (beyond retail_platform.settings), read from environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass

from demand_insights.exceptions import DemandInsightsError


class ConfigError(DemandInsightsError):
    """A DEMAND_* environment variable is not a positive integer."""


def _positive(environ, name: str, default: int) -> int:
    raw = environ.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError as e:
        raise ConfigError(f"{name} must be a positive integer, got {raw!r}") from e
    if value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value}")
    return value


@dataclass(frozen=True)
class TrainingBudget:
    max_rows: int = 400_000
    rounds: int = 150

    @classmethod
    def from_env(cls, environ=None) -> TrainingBudget:
        env = os.environ if environ is None else environ
        return cls(
            _positive(env, "DEMAND_MAX_TRAIN_ROWS", cls.max_rows), _positive(env, "DEMAND_NUM_ROUNDS", cls.rounds)
        )
