"""Curated frames as the marts need them: every canonical column present, types normalised, one row per
business key.

Curated partitions can hold several versions of a record (the same order line in two raw exports, a
corrected re-export): the version from the last `_source_key` (then `_source_row`) wins, which is
deterministic and, for dated export file names, the newest. Rows with `_warnings` are kept.
Custom attributes (non-canonical columns, `attributes.extra_columns`) are kept after the canonical ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from marts import attributes
from retail_platform.contracts import CanonicalDataset, load_canonical

LINEAGE = ("_source_key", "_source_row")
PARTITION_DATE = "_date"  # the UTC calendar day a curated row is partitioned by


def _empty(dataset: CanonicalDataset) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in dataset.columns})


def _day(values: pd.Series) -> pd.Series:
    """Timestamps (UTC) or dates as naive datetime64[ns] midnights."""
    parsed = pd.to_datetime(values, utc=True, errors="coerce")
    return parsed.dt.tz_localize(None).dt.normalize().astype("datetime64[ns]")


def normalise(frame: pd.DataFrame | None, name: str) -> pd.DataFrame:
    """Canonical columns with normalised types, deduplicated by business key, plus `_date`, then the
    custom attributes (sorted by name)."""
    dataset = load_canonical(name)
    frame = _empty(dataset) if frame is None or frame.empty else frame.copy()
    extras = attributes.extra_columns(frame, name)
    for column in extras:
        frame[column] = attributes.normalised(frame[column])
    for column in (*dataset.columns, *LINEAGE):
        if column not in frame:
            frame[column] = None
    for column, spec in dataset.columns.items():
        values = frame[column]
        if spec.type == "timestamp":
            frame[column] = pd.to_datetime(values, utc=True, errors="coerce").astype("datetime64[ns, UTC]")
        elif spec.type == "date":
            frame[column] = _day(values)
        elif spec.type in ("int", "float"):
            frame[column] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif spec.type == "bool":
            frame[column] = values.astype("boolean")
        elif values.dtype != object:
            frame[column] = values.astype(object).where(values.notna(), None)
    frame["_source_key"] = frame["_source_key"].astype(object).where(frame["_source_key"].notna(), "")
    frame["_source_row"] = pd.to_numeric(frame["_source_row"], errors="coerce").fillna(-1).astype("int64")
    if dataset.business_key:
        key = list(dataset.business_key)
        versions = frame.duplicated(key, keep=False)
        if versions.any():  # resolve only the keys that have several versions (cheap when there are none)
            latest = frame.loc[versions].sort_values(list(LINEAGE), kind="mergesort").drop_duplicates(key, keep="last")
            frame = pd.concat([frame.loc[~versions], latest])
    frame = frame.reset_index(drop=True)
    frame[PARTITION_DATE] = _day(frame[dataset.partition_by]) if dataset.partition_by else pd.NaT
    return frame[[*dataset.columns, *LINEAGE, PARTITION_DATE, *extras]]


@dataclass
class CuratedInputs:
    """The curated frames one run reads (each normalised; absent datasets are empty frames)."""

    order_lines: pd.DataFrame = field(default_factory=lambda: normalise(None, "order_lines"))
    orders: pd.DataFrame = field(default_factory=lambda: normalise(None, "orders"))
    payments: pd.DataFrame = field(default_factory=lambda: normalise(None, "payments"))
    prices: pd.DataFrame = field(default_factory=lambda: normalise(None, "prices"))
    inventory: pd.DataFrame = field(default_factory=lambda: normalise(None, "inventory"))
    fx_rates: pd.DataFrame = field(default_factory=lambda: normalise(None, "fx_rates"))
    products: pd.DataFrame = field(default_factory=lambda: normalise(None, "products"))
    customers: pd.DataFrame = field(default_factory=lambda: normalise(None, "customers"))

    @classmethod
    def from_frames(cls, frames: dict[str, pd.DataFrame]) -> CuratedInputs:
        return cls(**{name: normalise(frames.get(name), name) for name in cls.__dataclass_fields__})
