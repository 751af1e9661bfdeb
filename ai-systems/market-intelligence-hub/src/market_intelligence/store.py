"""S3 layout of market-intelligence-hub: prod inputs and outputs, versioned model artifacts, current pointer.

prod:      market_forecasts/date=<as-of>/part-0.parquet, market_trends/date=<as-of>/part-0.parquet
artifacts: models/market-intelligence-hub/<version>/{metadata.json, validation_scores.parquet,
                                                global_nn-shard-<i>.keras}
           runs/market-intelligence-hub/<version>/{plan.json, input.parquet, shard-<i>/...} (see sharded.py)
           models/market-intelligence-hub/current.json  {"version": ..., "previous": ...}
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from retail_platform import s3io
from retail_platform.exceptions import ObjectNotFoundError, StorageError
from retail_platform.observability import logger

SYSTEM = "market-intelligence-hub"
MODEL_PREFIX = f"models/{SYSTEM}/"
CURRENT_KEY = f"{MODEL_PREFIX}current.json"
FORECASTS = "market_forecasts"
TRENDS = "market_trends"
KEEP_PREVIOUS = 5
_DATE = re.compile(r"date=(\d{4}-\d{2}-\d{2})/")


def read_dataset(s3: Any, bucket: str, dataset: str) -> pd.DataFrame:
    return s3io.read_parquet_prefix(s3, bucket, f"{dataset}/")


def partition_dates(s3: Any, bucket: str, dataset: str) -> list[str]:
    """Partition dates of a dataset, newest first."""
    return sorted(
        {m.group(1) for k in s3io.list_keys(s3, bucket, f"{dataset}/") if (m := _DATE.search(k))}, reverse=True
    )


def latest_partition(s3: Any, bucket: str, dataset: str) -> str | None:
    dates = partition_dates(s3, bucket, dataset)
    return dates[0] if dates else None


def write_partition(s3: Any, bucket: str, dataset: str, day: str, frame: pd.DataFrame) -> str:
    key = f"{dataset}/date={day}/part-0.parquet"
    s3io.write_parquet(s3, bucket, key, frame)
    return key


def save_model(s3: Any, bucket: str, version: str, metadata: dict, scores: pd.DataFrame, global_model=None) -> str:
    prefix = f"{MODEL_PREFIX}{version}/"
    if global_model is not None:
        with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
            path = Path(tmp) / "global_nn.keras"
            global_model.save(path)
            s3io.write_bytes(s3, bucket, f"{prefix}global_nn.keras", path.read_bytes(), "application/octet-stream")
        metadata = {**metadata, "global_model": {"key": f"{prefix}global_nn.keras", "format": "keras"}}
    s3io.write_parquet(s3, bucket, f"{prefix}validation_scores.parquet", scores)
    s3io.write_json(s3, bucket, f"{prefix}metadata.json", metadata)
    old = _pointer(s3, bucket)
    previous = [v for v in [old.get("version"), *_previous(old)] if v and v != version]
    pointer = {"version": version, "previous": previous[:KEEP_PREVIOUS], "updated": time.time()}
    s3io.write_json(s3, bucket, CURRENT_KEY, pointer)
    return prefix


def _pointer(s3: Any, bucket: str) -> dict:
    try:
        pointer = s3io.read_json(s3, bucket, CURRENT_KEY)
    except (ObjectNotFoundError, ValueError):
        return {}
    return pointer if isinstance(pointer, dict) else {}


def _previous(pointer: dict) -> list[str]:
    """The pointer's fallback versions, newest first (older pointers held a single version, not a list)."""
    previous = pointer.get("previous")
    if isinstance(previous, str):
        return [previous]
    return [v for v in previous or [] if isinstance(v, str)]


def current_version(s3: Any, bucket: str) -> str | None:
    return _pointer(s3, bucket).get("version")


def load_current(s3: Any, bucket: str) -> dict | None:
    """Metadata of the current model version, falling back to the newest previous one that loads (None if none)."""
    pointer = _pointer(s3, bucket)
    current = pointer.get("version")
    for version in [current, *_previous(pointer)]:
        if not version:
            continue
        try:
            metadata = s3io.read_json(s3, bucket, f"{MODEL_PREFIX}{version}/metadata.json")
        except (ObjectNotFoundError, StorageError, ValueError) as e:
            logger.warning("model version unreadable", extra={"version": version, "error": type(e).__name__})
            continue
        if version != current:
            logger.warning("serving a previous model version", extra={"version": version, "current": current})
        return metadata
    return None


def read_scores(s3: Any, bucket: str, version: str) -> pd.DataFrame:
    return s3io.read_parquet(s3, bucket, f"{MODEL_PREFIX}{version}/validation_scores.parquet")
