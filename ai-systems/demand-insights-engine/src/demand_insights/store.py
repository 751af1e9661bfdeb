"""Where models and insights live, and how versions are kept: S3 keys, current.json pointers, fallbacks.

Models: s3://$ARTIFACTS_BUCKET/models/demand-insights-engine/<kind>/<version>/{model.txt,metadata.json}
with models/demand-insights-engine/<kind>/current.json = {"version", "previous": [...]}.
Insights: s3://$PROD_BUCKET/<dataset>/date=YYYY-MM-DD/part-0.parquet (overwrite-partition semantics).
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from retail_platform import s3io
from retail_platform.exceptions import ObjectNotFoundError, StorageError
from retail_platform.observability import logger

SYSTEM = "demand-insights-engine"
MODEL_PREFIX = f"models/{SYSTEM}"
FORECASTS, INVENTORY, CUSTOMERS = "demand_forecasts", "inventory_advice", "customer_insights"
KEEP_PREVIOUS = 5
_PARTITION = re.compile(r"date=(\d{4}-\d{2}-\d{2})/part-0\.parquet$")


def new_version() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def save_model(s3: Any, bucket: str, kind: str, version: str, files: dict[str, bytes]) -> str:
    """Write a model version, then move the current.json pointer to it (keeping earlier versions listed)."""
    prefix = f"{MODEL_PREFIX}/{kind}/{version}"
    for name, body in files.items():
        content_type = "application/json" if name.endswith(".json") else "text/plain"
        s3io.write_bytes(s3, bucket, f"{prefix}/{name}", body, content_type)
    pointer_key = f"{MODEL_PREFIX}/{kind}/current.json"
    try:
        pointer = s3io.read_json(s3, bucket, pointer_key)
    except ObjectNotFoundError:
        pointer = {}
    previous = [v for v in [pointer.get("version"), *pointer.get("previous", [])] if v and v != version]
    s3io.write_json(
        s3,
        bucket,
        pointer_key,
        {"version": version, "previous": previous[:KEEP_PREVIOUS], "updated_at": datetime.now(UTC).isoformat()},
    )
    return prefix


def load_model(s3: Any, bucket: str, kind: str, loader, names=("model.txt", "metadata.json"), optional=()):
    """The current version, else the newest previous one that loads; None when there is none at all.

    `optional` files are read when the version has them (the loader decides whether it needs them).
    """
    try:
        pointer = s3io.read_json(s3, bucket, f"{MODEL_PREFIX}/{kind}/current.json")
    except ObjectNotFoundError:
        return None
    current = pointer.get("version")
    for version in [current, *pointer.get("previous", [])]:
        if not version:
            continue
        try:
            prefix = f"{MODEL_PREFIX}/{kind}/{version}"
            files = {n: s3io.read_bytes(s3, bucket, f"{prefix}/{n}") for n in names}
            for name in optional:
                with contextlib.suppress(ObjectNotFoundError):
                    files[name] = s3io.read_bytes(s3, bucket, f"{prefix}/{name}")
            model = loader(files)
        except (ObjectNotFoundError, StorageError, ValueError, KeyError, UnicodeDecodeError) as e:
            logger.warning(
                "model version unreadable", extra={"kind": kind, "version": version, "error": type(e).__name__}
            )
            continue
        if version != current:
            logger.warning(
                "using a previous model version", extra={"kind": kind, "version": version, "current": current}
            )
        return model
    return None


def write_partition(s3: Any, bucket: str, dataset: str, day: str, frame: pd.DataFrame) -> str:
    key = f"{dataset}/date={day}/part-0.parquet"
    s3io.write_parquet(s3, bucket, key, frame)
    return key


def partitions(s3: Any, bucket: str, dataset: str) -> list[str]:
    """Partition days of a dataset, newest first."""
    days = [m.group(1) for k in s3io.list_keys(s3, bucket, f"{dataset}/") if (m := _PARTITION.search(k))]
    return sorted(days, reverse=True)


def read_latest(s3: Any, bucket: str, dataset: str) -> tuple[str, pd.DataFrame] | None:
    """The newest readable partition (falls back to older ones when the newest cannot be read)."""
    for day in partitions(s3, bucket, dataset):
        try:
            return day, s3io.read_parquet(s3, bucket, f"{dataset}/date={day}/part-0.parquet")
        except (ObjectNotFoundError, StorageError, OSError, ValueError):
            continue
    return None
