"""Where demand-insights-engine's models and insights live; the versioning and partition logic is the
platform's (`VersionedArtifacts`, `PartitionedDataset`), this module names the layout.

Models: s3://$ARTIFACTS_BUCKET/models/demand-insights-engine/<kind>/<version>/{model.txt,metadata.json}
with models/demand-insights-engine/<kind>/current.json = {"version", "previous": [...]}.
Insights: s3://$PROD_BUCKET/<dataset>/date=YYYY-MM-DD/part-0.parquet (overwrite-partition semantics).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import pandas as pd

from retail_platform.storage import PartitionedDataset, S3BlobStore, VersionedArtifacts
from retail_platform.storage.artifacts import UNREADABLE
from retail_platform.storage.blobstore import S3Client

SYSTEM = "demand-insights-engine"
MODEL_PREFIX = f"models/{SYSTEM}"
FORECASTS, INVENTORY, CUSTOMERS = "demand_forecasts", "inventory_advice", "customer_insights"
KEEP_PREVIOUS = 5
T = TypeVar("T")


def new_version() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def models(s3: S3Client, bucket: str, kind: str) -> VersionedArtifacts:
    """The versions of one model kind (`forecast`, `churn`); the batch path "uses" rather than serves them."""
    return VersionedArtifacts(
        S3BlobStore(s3, bucket),
        f"{MODEL_PREFIX}/{kind}",
        keep_previous=KEEP_PREVIOUS,
        log_fields={"kind": kind},
        in_use="using",
    )


def dataset(s3: S3Client, bucket: str, name: str) -> PartitionedDataset:
    return PartitionedDataset(S3BlobStore(s3, bucket), name)


def save_model(s3: S3Client, bucket: str, kind: str, version: str, files: dict[str, bytes]) -> str:
    """Write a model version, then move the current.json pointer to it (keeping earlier versions listed)."""
    artifacts = models(s3, bucket, kind)
    artifacts.publish(version, files, updated_at=datetime.now(UTC).isoformat())
    return f"{artifacts.prefix}{version}"


def load_model(
    s3: S3Client,
    bucket: str,
    kind: str,
    loader: Callable[[dict[str, bytes]], T],
    names: tuple[str, ...] = ("model.txt", "metadata.json"),
    optional: tuple[str, ...] = (),
) -> T | None:
    """The current version, else the newest previous one that loads; None when there is none at all.

    `optional` files are read when the version has them (the loader decides whether it needs them).
    A version that is missing, unreadable or refused by the loader (ValueError, KeyError) is skipped."""
    artifacts = models(s3, bucket, kind)
    loaded = artifacts.load(lambda version: loader(artifacts.read(version, names, optional)), unreadable=UNREADABLE)
    return loaded[0] if loaded else None


def write_partition(s3: S3Client, bucket: str, name: str, day: str, frame: pd.DataFrame) -> str:
    return dataset(s3, bucket, name).write(day, frame)


def partitions(s3: S3Client, bucket: str, name: str) -> list[str]:
    """Partition days of a dataset, newest first."""
    return dataset(s3, bucket, name).partitions()[::-1]


def read_latest(s3: S3Client, bucket: str, name: str) -> tuple[str, pd.DataFrame] | None:
    """The newest readable partition (falls back to older ones when the newest cannot be read)."""
    return dataset(s3, bucket, name).read_latest()
