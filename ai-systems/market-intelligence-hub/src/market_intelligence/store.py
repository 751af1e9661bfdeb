"""Storage layout of market-intelligence-hub over the platform's `BlobStore` port; versions and partitions are
kept by the platform's `VersionedArtifacts` and `PartitionedDataset`, this module names the layout.

prod:      market_forecasts/date=<as-of>/part-0.parquet, market_trends/date=<as-of>/part-0.parquet (snapshots
           per analysis date, this system's own layout)
           inputs (market_series, daily_sales, copilot_mart) are read at whatever grain the pipeline wrote them
           (`date=YYYY-MM-DD/` or `month=YYYY-MM/` partitions): never by hand-built keys
artifacts: models/market-intelligence-hub/<version>/{metadata.json, validation_scores.parquet,
                                                global_nn-shard-<i>.keras}
           runs/market-intelligence-hub/<version>/{plan.json, input.parquet, shard-<i>/...} (see sharded.py)
           models/market-intelligence-hub/current.json  {"version": ..., "previous": ...}

Every function takes the `BlobStore` it works on, so the handler runs on S3 in Lambda and on
`MemoryBlobStore` in unit tests (`Buckets`).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from retail_platform.storage import PartitionedDataset, SystemStores, VersionedArtifacts, codec
from retail_platform.storage.blobstore import BlobStore

SYSTEM = "market-intelligence-hub"
MODEL_PREFIX = f"models/{SYSTEM}/"
CURRENT_KEY = f"{MODEL_PREFIX}current.json"
FORECASTS = "market_forecasts"
TRENDS = "market_trends"
KEEP_PREVIOUS = 5
Buckets = SystemStores  # prod (inputs, results) + artifacts (models, runs)


def models(artifacts: BlobStore) -> VersionedArtifacts:
    return VersionedArtifacts(artifacts, MODEL_PREFIX, keep_previous=KEEP_PREVIOUS)


def dataset(prod: BlobStore, name: str) -> PartitionedDataset:
    """One of this system's own result datasets (daily snapshots per analysis date)."""
    return PartitionedDataset(prod, name)


def read_dataset(prod: BlobStore, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Every partition of a prod input dataset as one frame (empty when it has none), day or month partitions."""
    return PartitionedDataset(prod, name).read(columns=columns)


def partition_dates(prod: BlobStore, name: str) -> list[str]:
    """Partition dates of one of this system's result datasets, newest first."""
    return dataset(prod, name).partitions()[::-1]


def write_partition(prod: BlobStore, name: str, day: str, frame: pd.DataFrame) -> str:
    return dataset(prod, name).write(day, frame)


def save_model(
    artifacts: BlobStore, version: str, metadata: dict, scores: pd.DataFrame, global_model: Any = None
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
    return models(artifacts).publish(version, files, updated=time.time())


def current_version(artifacts: BlobStore) -> str | None:
    return models(artifacts).current()


def load_current(artifacts: BlobStore) -> dict | None:
    """Metadata of the current model version, falling back to the newest previous one that loads (None if none)."""
    versions = models(artifacts)
    loaded = versions.load(lambda version: versions.read_json(version, "metadata.json"))
    return loaded[0] if loaded else None


def read_scores(artifacts: BlobStore, version: str) -> pd.DataFrame:
    return codec.read_parquet(artifacts, f"{MODEL_PREFIX}{version}/validation_scores.parquet")
