"""Typed settings read once from environment variables; fails fast with a clear message."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from retail_platform.exceptions import ConfigurationError

AUTO_CURRENCY = "AUTO"  # REPORTING_CURRENCY default: the shop's only currency, else EUR through FX rates


def reporting_currency_setting(value: str | None) -> str:
    """REPORTING_CURRENCY as AUTO (unset, empty or 'auto') or an upper-case ISO 4217 code."""
    currency = (value or "").strip().upper() or AUTO_CURRENCY
    if currency != AUTO_CURRENCY and (len(currency) != 3 or not currency.isalpha()):
        raise ConfigurationError(f"REPORTING_CURRENCY must be AUTO or an ISO 4217 code, got {currency!r}")
    return currency


@dataclass(frozen=True)
class Settings:
    environment: str
    raw_bucket: str
    curated_bucket: str
    prod_bucket: str
    artifacts_bucket: str
    event_bus_name: str
    reporting_currency: str  # AUTO or an ISO code: resolve AUTO from the data (prod's reporting_currency column)
    endpoint_url: str | None
    region: str

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        missing = [
            name for name in ("RAW_BUCKET", "CURATED_BUCKET", "PROD_BUCKET", "ARTIFACTS_BUCKET") if not env.get(name)
        ]
        if missing:
            raise ConfigurationError(f"missing required environment variables: {', '.join(missing)}")
        currency = reporting_currency_setting(env.get("REPORTING_CURRENCY"))
        return cls(
            environment=env.get("ENVIRONMENT", "dev"),
            raw_bucket=env["RAW_BUCKET"],
            curated_bucket=env["CURATED_BUCKET"],
            prod_bucket=env["PROD_BUCKET"],
            artifacts_bucket=env["ARTIFACTS_BUCKET"],
            event_bus_name=env.get("EVENT_BUS_NAME") or "default",
            reporting_currency=currency,
            endpoint_url=env.get("LOCAL_ENDPOINT_URL") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process (cached: read once at cold start)."""
    return Settings.from_env()
