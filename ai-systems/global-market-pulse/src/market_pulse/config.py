"""global-market-pulse's own settings section (beyond retail_platform.settings), checked at cold start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from retail_platform.settings import Section, flag


@dataclass(frozen=True)
class PulseSettings:
    report: bool  # MARKET_PULSE_REPORT: add the HTML section (with charts) to the batch result; default: local only

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PulseSettings:
        return cls(report=flag(env, "MARKET_PULSE_REPORT", env.get("ENVIRONMENT") == "local"))


get_pulse_settings = Section(("MARKET_PULSE_REPORT", "ENVIRONMENT"), PulseSettings.from_env)
