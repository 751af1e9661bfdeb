"""The reporting currency the marts convert to (interfaces #5), and the state that keeps prod consistent.

REPORTING_CURRENCY is an ISO code, or AUTO (the default): the shop's only currency when the curated data
holds exactly one (a one-currency shop needs no FX file), else FX_CURRENCY through the FX rates.

Every prod partition must be in the same currency. An incremental run reads only some curated days, so
the currencies seen so far are kept in the prod bucket (STATE_KEY) and united with the run's own; when
the resolved currency differs from the one prod was built in (a second currency arrived, the setting
changed, or prod predates the state), the run becomes a full rebuild.

The state is written before the partitions, so a run killed half way leaves a state that describes what it
wrote; a full rebuild is marked `rebuilding` until its last partition is written, so that a rerun of an
interrupted rebuild (whatever its request) rebuilds everything again rather than trusting mixed partitions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from marts.curated import CuratedInputs
from retail_platform import s3io
from retail_platform.exceptions import ObjectNotFoundError
from retail_platform.settings import AUTO_CURRENCY

FX_CURRENCY = "EUR"
STATE_KEY = "_marts/reporting_currency.json"
AMOUNT_SOURCES = ("order_lines", "payments", "prices")  # the curated datasets whose amounts are converted


def currencies(inputs: CuratedInputs) -> set[str]:
    """The currencies of the amounts the marts convert (order lines, payments, shelf prices)."""
    found: set[str] = set()
    for name in AMOUNT_SOURCES:
        values = getattr(inputs, name)["currency"]
        found.update(str(v) for v in pd.unique(values.dropna()))
    return found


def resolve(setting: str, seen: Iterable[str]) -> str:
    """An ISO setting as it is; AUTO: the only currency seen, else FX_CURRENCY."""
    if setting != AUTO_CURRENCY:
        return setting
    distinct = set(seen)
    return next(iter(distinct)) if len(distinct) == 1 else FX_CURRENCY


@dataclass(frozen=True)
class State:
    """What prod was built in: the setting, the resolved currency and the currencies seen so far."""

    setting: str
    currency: str
    currencies: tuple[str, ...]
    rebuilding: bool = False

    def to_json(self) -> dict:
        return {
            "setting": self.setting,
            "currency": self.currency,
            "currencies": list(self.currencies),
            "rebuilding": self.rebuilding,
        }

    @classmethod
    def from_json(cls, data: dict) -> State:
        currencies = tuple(sorted(str(c) for c in data["currencies"]))
        return cls(str(data["setting"]), str(data["currency"]), currencies, bool(data.get("rebuilding", False)))


def next_state(setting: str, seen: set[str], previous: State | None, full: bool) -> State:
    """The state after a run that saw `seen` (a full run sees everything; an incremental one adds up)."""
    known = set(seen) if full or previous is None else set(seen) | set(previous.currencies)
    return State(setting, resolve(setting, known), tuple(sorted(known)))


def needs_full_rebuild(previous: State | None, state: State, prod_has_partitions: bool) -> bool:
    """True when partitions already in prod may be in another currency than this run's."""
    if previous is None:
        return prod_has_partitions
    return previous.rebuilding or previous.currency != state.currency


def load(s3, bucket: str) -> State | None:
    try:
        return State.from_json(s3io.read_json(s3, bucket, STATE_KEY))
    except ObjectNotFoundError:
        return None
    except (KeyError, TypeError, ValueError):
        return None  # unreadable state: treated as absent (a full rebuild rewrites it)


def save(s3, bucket: str, state: State, previous: State | None) -> None:
    """Written only when it changed, so that an unchanged run leaves the prod bucket untouched."""
    if state != previous:
        s3io.write_json(s3, bucket, STATE_KEY, state.to_json())
