"""This system's own settings section (beyond retail_platform.settings): read once, checked at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from demand_insights.exceptions import DemandInsightsError
from retail_platform.settings import Section, positive_int


class ConfigError(DemandInsightsError):
    """A DEMAND_* environment variable is not a positive integer."""


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    return positive_int(environ, name, default, ConfigError)


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


@dataclass(frozen=True)
class DemandSettings:
    budget: TrainingBudget  # DEMAND_MAX_TRAIN_ROWS, DEMAND_NUM_ROUNDS
    num_threads: int  # DEMAND_NUM_THREADS: LightGBM/XGBoost threads (1: OpenMP spin-waits collapse on a busy CPU)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DemandSettings:
        return cls(TrainingBudget.from_env(env), _positive(env, "DEMAND_NUM_THREADS", 1))


get_demand_settings = Section(
    ("DEMAND_MAX_TRAIN_ROWS", "DEMAND_NUM_ROUNDS", "DEMAND_NUM_THREADS"), DemandSettings.from_env
)
