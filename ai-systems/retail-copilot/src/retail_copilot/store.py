"""Where the copilot's data comes from: the snapshot the batch path saved, or the prod datasets themselves.

A `DataSource` hides S3: the serving path asks for frames and freshness; tests can hand frames in directly.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from retail_platform import s3io
from retail_platform.exceptions import ObjectNotFoundError, StorageError
from retail_platform.observability import logger

MODEL_PREFIX = "models/retail-copilot/"
SUBSCRIBED = ("copilot_mart", "country_kpis")  # the prod datasets whose updates rebuild the snapshot
ORDERS = "customer_transactions"  # also snapshotted when prod has it (distinct customers and orders)
INSIGHT_DATASETS = ("fraud_alerts", "demand_forecasts", "inventory_advice", "market_trends", "pulse")
_PARTITION = re.compile(r"/date=(\d{4}-\d{2}-\d{2})/")


@dataclass
class DatasetInfo:
    name: str
    partitions: int
    latest: str | None
    rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "partitions": self.partitions, "latest_partition": self.latest, "rows": self.rows}


@dataclass
class Snapshot:
    """The frames one model version answers from, with its version and the freshness of its inputs."""

    mart: pd.DataFrame
    kpis: pd.DataFrame
    catalog: dict[str, Any] | None
    version: str
    datasets: dict[str, DatasetInfo] = field(default_factory=dict)
    orders: pd.DataFrame | None = None  # customer_transactions, for distinct customers and orders (optional)


def compact_orders(frame: pd.DataFrame) -> pd.DataFrame:
    """customer_transactions without the columns distinct counts never read (custom attributes kept)."""
    drop = [c for c in ("order_ts", "units", "revenue", "currency", "n_lines") if c in frame.columns]
    return frame.drop(columns=drop)


def partitions_of(keys: list[str]) -> list[str]:
    return sorted({m.group(1) for k in keys if (m := _PARTITION.search(k)) and k.endswith(".parquet")})


class S3Data:
    """Reads prod datasets, insights, quality reports and model versions from the buckets."""

    def __init__(self, s3: Any, prod_bucket: str, curated_bucket: str, artifacts_bucket: str) -> None:
        self.s3 = s3
        self.prod_bucket = prod_bucket
        self.curated_bucket = curated_bucket
        self.artifacts_bucket = artifacts_bucket
        self._cache: dict[str, tuple[float, Any]] = {}

    # ------------------------------------------------------------------ prod

    def dataset_keys(self, dataset: str) -> list[str]:
        return [k for k in s3io.list_keys(self.s3, self.prod_bucket, f"{dataset}/") if k.endswith(".parquet")]

    def read_dataset(self, dataset: str, last_partitions: int | None = None) -> tuple[pd.DataFrame, DatasetInfo]:
        keys = sorted(self.dataset_keys(dataset))
        days = partitions_of(keys)
        if last_partitions is not None:
            wanted = set(days[-last_partitions:])
            keys = [k for k in keys if (m := _PARTITION.search(k)) and m.group(1) in wanted]
        frames = [s3io.read_parquet(self.s3, self.prod_bucket, k) for k in keys]
        frames = [f for f in frames if not f.empty]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return frame, DatasetInfo(dataset, len(days), days[-1] if days else None, len(frame))

    def insight(
        self, dataset: str, ttl: float = 60.0, last_partitions: int = 35
    ) -> tuple[pd.DataFrame, DatasetInfo] | None:
        """Another AI system's insights (recent partitions), or None when it has not written any yet."""
        cached = self._cache.get(dataset)
        if cached and time.monotonic() - cached[0] < ttl:
            return cached[1]
        keys = [
            k for k in s3io.list_keys(self.s3, self.prod_bucket, f"{dataset}/") if k.endswith((".parquet", ".json"))
        ]
        if not keys:
            result = None
        else:
            days = partitions_of(keys)
            wanted = set(days[-last_partitions:])
            chosen = sorted(k for k in keys if not days or ((m := _PARTITION.search(k)) and m.group(1) in wanted))
            frames = []
            for key in chosen:
                if key.endswith(".parquet"):
                    part = s3io.read_parquet(self.s3, self.prod_bucket, key)
                else:
                    payload = s3io.read_json(self.s3, self.prod_bucket, key)
                    part = pd.DataFrame(payload if isinstance(payload, list) else [payload])
                if (m := _PARTITION.search(key)) and "date" not in part.columns:
                    part["date"] = m.group(1)
                frames.append(part)
            frame = (
                pd.concat([f for f in frames if not f.empty], ignore_index=True)
                if any(not f.empty for f in frames)
                else pd.DataFrame()
            )
            result = (frame, DatasetInfo(dataset, len(days) or len(keys), days[-1] if days else None, len(frame)))
        self._cache[dataset] = (time.monotonic(), result)
        return result

    def quality_reports(self, limit: int = 500) -> list[dict[str, Any]]:
        keys = [k for k in s3io.list_keys(self.s3, self.curated_bucket, "_reports/") if k.endswith(".json")]
        reports = []
        for key in sorted(keys)[-limit:]:
            try:
                reports.append(s3io.read_json(self.s3, self.curated_bucket, key))
            except (ObjectNotFoundError, json.JSONDecodeError):
                continue
        return reports

    # ------------------------------------------------------------------ model versions

    def current_pointer(self) -> dict[str, Any] | None:
        try:
            return s3io.read_json(self.s3, self.artifacts_bucket, f"{MODEL_PREFIX}current.json")
        except ObjectNotFoundError:
            return None

    def load_version(self, version: str) -> Snapshot:
        prefix = f"{MODEL_PREFIX}{version}/"
        metadata = s3io.read_json(self.s3, self.artifacts_bucket, f"{prefix}metadata.json")
        mart = s3io.read_parquet(self.s3, self.artifacts_bucket, f"{prefix}copilot_mart.parquet")
        kpis = s3io.read_parquet(self.s3, self.artifacts_bucket, f"{prefix}country_kpis.parquet")
        catalog = s3io.read_json(self.s3, self.artifacts_bucket, f"{prefix}catalog.json")
        orders = None
        if ORDERS in metadata.get("inputs", {}):  # versions saved before it was snapshotted have none
            orders = s3io.read_parquet(self.s3, self.artifacts_bucket, f"{prefix}{ORDERS}.parquet")
        datasets = {
            name: DatasetInfo(name, info["partitions"], info["latest_partition"], info.get("rows"))
            for name, info in metadata.get("inputs", {}).items()
        }
        return Snapshot(mart, kpis, catalog, version, datasets, orders)

    def load_current(self, pointer: dict[str, Any] | None = None) -> Snapshot | None:
        """The current model version; the previous good one if the current cannot be read; None if none.

        `pointer` is current.json when the caller has just read it (saves reading it twice)."""
        pointer = pointer if pointer is not None else self.current_pointer()
        if not pointer:
            return None
        current = pointer.get("version")
        for version in [current, *pointer.get("previous", [])]:
            if not version:
                continue
            try:
                snapshot = self.load_version(version)
            except (ObjectNotFoundError, StorageError, KeyError, ValueError, OSError) as e:
                logger.warning("snapshot version unreadable", extra={"version": version, "error": type(e).__name__})
                continue
            if version != current:
                logger.warning("serving a previous snapshot version", extra={"version": version, "current": current})
            return snapshot
        logger.warning("no readable snapshot version", extra={"current": current})
        return None

    def load_live(self) -> Snapshot:
        """No saved version: read the prod datasets directly (slower cold start)."""
        mart, mart_info = self.read_dataset("copilot_mart")
        kpis, kpi_info = self.read_dataset("country_kpis")
        orders, orders_info = self.read_orders()
        datasets = {"copilot_mart": mart_info, "country_kpis": kpi_info}
        if orders is not None:
            datasets[ORDERS] = orders_info
        return Snapshot(mart, kpis, None, "live", datasets, orders)

    def read_orders(self) -> tuple[pd.DataFrame | None, DatasetInfo]:
        """customer_transactions, compacted to the columns distinct counts need (None when prod has none)."""
        frame, info = self.read_dataset(ORDERS)
        return (compact_orders(frame) if not frame.empty else None), info
