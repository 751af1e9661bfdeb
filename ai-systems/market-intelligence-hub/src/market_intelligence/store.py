"""S3 layout of market-intelligence-hub: prod inputs and outputs, versioned model artifacts, current pointer.

prod:      market_forecasts/date=<as-of>/part-0.parquet, market_trends/date=<as-of>/part-0.parquet
artifacts: models/market-intelligence-hub/<version>/{metadata.json, validation_scores.parquet, global_nn.keras}
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
from retail_platform.exceptions import ObjectNotFoundError

SYSTEM = "market-intelligence-hub"
MODEL_PREFIX = f"models/{SYSTEM}/"
CURRENT_KEY = f"{MODEL_PREFIX}current.json"
FORECASTS = "market_forecasts"
TRENDS = "market_trends"
_DATE = re.compile(r"date=(\d{4}-\d{2}-\d{2})/")


def read_dataset(s3: Any, bucket: str, dataset: str) -> pd.DataFrame:
    return s3io.read_parquet_prefix(s3, bucket, f"{dataset}/")


def latest_partition(s3: Any, bucket: str, dataset: str) -> str | None:
    dates = sorted({m.group(1) for k in s3io.list_keys(s3, bucket, f"{dataset}/") if (m := _DATE.search(k))})
    return dates[-1] if dates else None


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
    previous = current_version(s3, bucket)
    pointer = {"version": version, "previous": previous if previous != version else None, "updated": time.time()}
    s3io.write_json(s3, bucket, CURRENT_KEY, pointer)
    return prefix


def current_version(s3: Any, bucket: str) -> str | None:
    try:
        return s3io.read_json(s3, bucket, CURRENT_KEY).get("version")
    except ObjectNotFoundError:
        return None


def load_current(s3: Any, bucket: str) -> dict | None:
    """Metadata of the current model version, falling back to the previous good one (None if none)."""
    try:
        pointer = s3io.read_json(s3, bucket, CURRENT_KEY)
    except ObjectNotFoundError:
        return None
    for version in (pointer.get("version"), pointer.get("previous")):
        if not version:
            continue
        try:
            return s3io.read_json(s3, bucket, f"{MODEL_PREFIX}{version}/metadata.json")
        except ObjectNotFoundError:
            continue
    return None


def read_scores(s3: Any, bucket: str, version: str) -> pd.DataFrame:
    return s3io.read_parquet(s3, bucket, f"{MODEL_PREFIX}{version}/validation_scores.parquet")
