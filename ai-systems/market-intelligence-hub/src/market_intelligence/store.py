"""S3 layout of market-intelligence-hub; versions and partitions are kept by the platform's
`VersionedArtifacts` and `PartitionedDataset`, this module names the layout.

prod:      market_forecasts/date=<as-of>/part-0.parquet, market_trends/date=<as-of>/part-0.parquet
artifacts: models/market-intelligence-hub/<version>/{metadata.json, validation_scores.parquet,
                                                global_nn-shard-<i>.keras}
           runs/market-intelligence-hub/<version>/{plan.json, input.parquet, shard-<i>/...} (see sharded.py)
           models/market-intelligence-hub/current.json  {"version": ..., "previous": ...}
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from retail_platform.storage import PartitionedDataset, S3BlobStore, VersionedArtifacts, codec
from retail_platform.storage.blobstore import S3Client

SYSTEM = "market-intelligence-hub"
MODEL_PREFIX = f"models/{SYSTEM}/"
CURRENT_KEY = f"{MODEL_PREFIX}current.json"
FORECASTS = "market_forecasts"
TRENDS = "market_trends"
KEEP_PREVIOUS = 5


def models(s3: S3Client, bucket: str) -> VersionedArtifacts:
    return VersionedArtifacts(S3BlobStore(s3, bucket), MODEL_PREFIX, keep_previous=KEEP_PREVIOUS)


def dataset(s3: S3Client, bucket: str, name: str) -> PartitionedDataset:
    return PartitionedDataset(S3BlobStore(s3, bucket), name)


def read_dataset(s3: S3Client, bucket: str, name: str) -> pd.DataFrame:
    """Every partition of a prod dataset as one frame (empty when it has none)."""
    return dataset(s3, bucket, name).read()


def partition_dates(s3: S3Client, bucket: str, name: str) -> list[str]:
    """Partition dates of a dataset, newest first."""
    return dataset(s3, bucket, name).partitions()[::-1]


def latest_partition(s3: S3Client, bucket: str, name: str) -> str | None:
    return dataset(s3, bucket, name).latest()


def write_partition(s3: S3Client, bucket: str, name: str, day: str, frame: pd.DataFrame) -> str:
    return dataset(s3, bucket, name).write(day, frame)


def save_model(
    s3: S3Client, bucket: str, version: str, metadata: dict, scores: pd.DataFrame, global_model: Any = None
) -> str:
    """Write a version (validation scores, metadata, the global network when there is one), then point to it."""
    files: dict[str, bytes] = {}
    if global_model is not None:
        with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
            path = Path(tmp) / "global_nn.keras"
            global_model.save(path)
            files["global_nn.keras"] = path.read_bytes()
        metadata = {**metadata, "global_model": {"key": f"{MODEL_PREFIX}{version}/global_nn.keras", "format": "keras"}}
    files["validation_scores.parquet"] = codec.parquet_bytes(scores)
    files["metadata.json"] = codec.json_bytes(metadata)
    return models(s3, bucket).publish(version, files, updated=time.time())


def current_version(s3: S3Client, bucket: str) -> str | None:
    return models(s3, bucket).current()


def load_current(s3: S3Client, bucket: str) -> dict | None:
    """Metadata of the current model version, falling back to the newest previous one that loads (None if none)."""
    artifacts = models(s3, bucket)
    loaded = artifacts.load(lambda version: artifacts.read_json(version, "metadata.json"))
    return loaded[0] if loaded else None


def read_scores(s3: S3Client, bucket: str, version: str) -> pd.DataFrame:
    return codec.read_parquet(S3BlobStore(s3, bucket), f"{MODEL_PREFIX}{version}/validation_scores.parquet")
