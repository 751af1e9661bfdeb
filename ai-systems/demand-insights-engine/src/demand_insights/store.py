"""Where demand-insights-engine's models and insights live; the versioning and partition logic is the
platform's (`VersionedArtifacts`, `PartitionedDataset`), this module names the layout.

Models: s3://$ARTIFACTS_BUCKET/models/demand-insights-engine/<kind>/<version>/{model.txt,metadata.json}
with models/demand-insights-engine/<kind>/current.json = {"version", "previous": [...]}.
Insights: s3://$PROD_BUCKET/<dataset>/date=YYYY-MM-DD/part-0.parquet (overwrite-partition semantics; an AI
system's own outputs keep one partition per analysis day). Inputs (daily_sales, customer_transactions) are
read whatever their partition grain (`month=YYYY-MM/` or `date=YYYY-MM-DD/`).

Every function takes a bucket as a `BlobStore` (`Stores` holds both): S3 in Lambda, `MemoryBlobStore` in tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import pandas as pd

from retail_platform.storage import BlobStore, PartitionedDataset, SystemStores, VersionedArtifacts
from retail_platform.storage.artifacts import UNREADABLE

SYSTEM = "demand-insights-engine"
MODEL_PREFIX = f"models/{SYSTEM}"
FORECASTS, INVENTORY, CUSTOMERS = "demand_forecasts", "inventory_advice", "customer_insights"
KEEP_PREVIOUS = 5
OUTPUT_GRAIN = "day"
T = TypeVar("T")
Stores = SystemStores  # prod (inputs, insights) + artifacts (models)


def new_version() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def models(artifacts: BlobStore, kind: str) -> VersionedArtifacts:
    """The versions of one model kind (`forecast`, `churn`); the batch path "uses" rather than serves them."""
    return VersionedArtifacts(
        artifacts,
        f"{MODEL_PREFIX}/{kind}",
        keep_previous=KEEP_PREVIOUS,
        log_fields={"kind": kind},
        in_use="using",
    )


def dataset(prod: BlobStore, name: str) -> PartitionedDataset:
    """A prod dataset: read at any grain; the engine's own insights are written one partition per day."""
    return PartitionedDataset(prod, name, grain=OUTPUT_GRAIN)


def read_input(prod: BlobStore, name: str) -> pd.DataFrame:
    """Every object of an input dataset, day or month partitions alike."""
    return dataset(prod, name).read()


def save_model(artifacts_store: BlobStore, kind: str, version: str, files: dict[str, bytes]) -> str:
    """Write a model version, then move the current.json pointer to it (keeping earlier versions listed)."""
    artifacts = models(artifacts_store, kind)
    artifacts.publish(version, files, updated_at=datetime.now(UTC).isoformat())
    return f"{artifacts.prefix}{version}"


def load_model(
    artifacts_store: BlobStore,
    kind: str,
    loader: Callable[[dict[str, bytes]], T],
    names: tuple[str, ...] = ("model.txt", "metadata.json"),
    optional: tuple[str, ...] = (),
) -> T | None:
    """The current version, else the newest previous one that loads; None when there is none at all.

    `optional` files are read when the version has them (the loader decides whether it needs them).
    A version that is missing, unreadable or refused by the loader (ValueError, KeyError) is skipped."""
    artifacts = models(artifacts_store, kind)
    loaded = artifacts.load(lambda version: loader(artifacts.read(version, names, optional)), unreadable=UNREADABLE)
    return loaded[0] if loaded else None


def write_partition(prod: BlobStore, name: str, day: str, frame: pd.DataFrame) -> str:
    return dataset(prod, name).write(day, frame)


def partitions(prod: BlobStore, name: str) -> list[str]:
    """Partition labels of a dataset, newest first."""
    return dataset(prod, name).partitions()[::-1]


def read_latest(prod: BlobStore, name: str) -> tuple[str, pd.DataFrame] | None:
    """The newest readable partition (falls back to older ones when the newest cannot be read)."""
    return dataset(prod, name).read_latest()
