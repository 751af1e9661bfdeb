"""Typed settings read from environment variables once per cold start; fails fast with a clear message.

Every getter is a `Section`: handlers call it at import, so a bad value fails before the first event. In
Lambda the environment never changes and the object is built once; a process that changes a variable (a
test, the local run) gets a rebuilt object on the next call, and `reset()` drops every section explicitly.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from retail_platform.exceptions import ConfigurationError

T = TypeVar("T")
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
    glue_database: str | None = None  # the catalog's database (Athena rebuilds and large copilot queries)
    athena_workgroup: str | None = None  # its workgroup enforces the result location and encryption

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
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
            glue_database=env.get("GLUE_DATABASE") or None,
            athena_workgroup=env.get("ATHENA_WORKGROUP") or None,
        )


_SECTIONS: list[Section] = []


def reset() -> None:
    """Forget every section built so far: the next call of each reads the environment again (tests)."""
    for section in _SECTIONS:
        section.cache_clear()


class Section(Generic[T]):
    """One system's own settings: `factory(environ)` over the variables `names`, built and checked once.

    A handler calls its sections at import (cold start), so a bad value fails before the first event. In
    Lambda the environment never changes, so the object is built once; where a process changes one of the
    `names` (the local run, a test), the next call rebuilds it instead of serving a stale value.
    """

    def __init__(self, names: tuple[str, ...], factory: Callable[[Mapping[str, str]], T]) -> None:
        self.names = names
        self.factory = factory
        self._built: tuple[tuple[str | None, ...], T] | None = None
        self._lock = threading.Lock()
        _SECTIONS.append(self)

    def __call__(self) -> T:
        key = tuple(os.environ.get(name) for name in self.names)
        with self._lock:
            if self._built is None or self._built[0] != key:
                self._built = (key, self.factory(os.environ))
            return self._built[1]

    def cache_clear(self) -> None:
        with self._lock:
            self._built = None


SETTINGS_VARIABLES = (
    "ENVIRONMENT",
    "RAW_BUCKET",
    "CURATED_BUCKET",
    "PROD_BUCKET",
    "ARTIFACTS_BUCKET",
    "EVENT_BUS_NAME",
    "REPORTING_CURRENCY",
    "LOCAL_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)
get_settings = Section(SETTINGS_VARIABLES, Settings.from_env)  # the platform-wide settings of this process


def positive_int(env: Mapping[str, str], name: str, default: int, error: type[Exception] = ConfigurationError) -> int:
    """An integer setting of at least 1; `error` (a system's own configuration error) naming the variable otherwise."""
    raw = (env.get(name) or "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError as e:
        raise error(f"{name} must be a positive integer, got {raw!r}") from e
    if value < 1:
        raise error(f"{name} must be a positive integer, got {value}")
    return value


def flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A 1/0 (true/false, yes/no) setting; ConfigurationError otherwise."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("0", "false", "no"):
        return False
    raise ConfigurationError(f"{name} must be 1 or 0, got {raw!r}")


@dataclass(frozen=True)
class CurationSettings:
    """raw-to-curated's section: rows per curation batch, and how old the cached source contracts may get."""

    batch_rows: int
    contracts_max_age: int  # seconds: a contract uploaded to the artifacts bucket is used within this time

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CurationSettings:
        return cls(
            batch_rows=positive_int(env, "CURATION_BATCH_ROWS", 250_000),
            contracts_max_age=positive_int(env, "CONTRACTS_MAX_AGE_SECONDS", 60),
        )


get_curation_settings = Section(("CURATION_BATCH_ROWS", "CONTRACTS_MAX_AGE_SECONDS"), CurationSettings.from_env)


@dataclass(frozen=True)
class ObservabilitySettings:
    """Service name (log key, metric dimension) and metrics namespace of this function."""

    service: str
    metrics_namespace: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ObservabilitySettings:
        return cls(
            service=(env.get("POWERTOOLS_SERVICE_NAME") or "").strip() or "retail-platform",
            metrics_namespace=(env.get("POWERTOOLS_METRICS_NAMESPACE") or "").strip() or "RetailPlatform",
        )


get_observability_settings = Section(
    ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"), ObservabilitySettings.from_env
)


@dataclass(frozen=True)
class PiiSettings:
    """Where the card tokenisation key lives: `PAN_TOKEN_KEY_NAME` (ssm:/name, secretsmanager:name or a bare SSM
    name); empty when the function does not tokenise."""

    token_key_name: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PiiSettings:
        return cls(token_key_name=(env.get("PAN_TOKEN_KEY_NAME") or "").strip())


get_pii_settings = Section(("PAN_TOKEN_KEY_NAME",), PiiSettings.from_env)
