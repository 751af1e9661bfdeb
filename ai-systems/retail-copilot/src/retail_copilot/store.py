"""Where the copilot's data comes from: the snapshot the batch path saved, or the prod datasets themselves.

Snapshots are versions in the platform's `VersionedArtifacts`; prod datasets are `PartitionedDataset`s.

A `DataSource` hides S3: the serving path asks for frames and freshness; tests can hand frames in directly.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from retail_platform.storage import PartitionedDataset, S3BlobStore, VersionedArtifacts, codec
from retail_platform.storage.blobstore import S3Client
from retail_platform.storage.errors import CorruptObjectError, ObjectNotFoundError

MODEL_PREFIX = "models/retail-copilot/"
KEEP_PREVIOUS = 3
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

    def __init__(self, s3: S3Client, prod_bucket: str, curated_bucket: str, artifacts_bucket: str) -> None:
        self.s3 = s3
        self.prod_bucket = prod_bucket
        self.curated_bucket = curated_bucket
        self.artifacts_bucket = artifacts_bucket
        self.prod = S3BlobStore(s3, prod_bucket)
        self.curated = S3BlobStore(s3, curated_bucket)
        self.snapshots = VersionedArtifacts(
            S3BlobStore(s3, artifacts_bucket), MODEL_PREFIX, keep_previous=KEEP_PREVIOUS, subject="snapshot"
        )
        self._cache: dict[str, tuple[float, Any]] = {}

    # ------------------------------------------------------------------ prod

    def dataset(self, name: str) -> PartitionedDataset:
        return PartitionedDataset(self.prod, name)

    def read_dataset(self, dataset: str, last_partitions: int | None = None) -> tuple[pd.DataFrame, DatasetInfo]:
        partitioned = self.dataset(dataset)
        days = partitioned.partitions()
        frame = partitioned.read(None if last_partitions is None else days[-last_partitions:])
        return frame, DatasetInfo(dataset, len(days), days[-1] if days else None, len(frame))

    def insight(
        self, dataset: str, ttl: float = 60.0, last_partitions: int = 35
    ) -> tuple[pd.DataFrame, DatasetInfo] | None:
        """Another AI system's insights (recent partitions), or None when it has not written any yet."""
        cached = self._cache.get(dataset)
        if cached and time.monotonic() - cached[0] < ttl:
            return cached[1]
        partitioned = self.dataset(dataset)
        listing = partitioned.listing((".parquet", ".json"))
        keys = [k for ks in listing.values() for k in ks]
        if not keys:
            result = None
        else:
            days = partitions_of(keys)
            wanted = set(days[-last_partitions:])
            chosen = sorted(k for k in keys if not days or partitioned.period_of(k) in wanted)
            frames = []
            for key in chosen:
                if key.endswith(".parquet"):
                    part = codec.read_parquet(self.prod, key)
                else:
                    payload = codec.read_json(self.prod, key)
                    part = pd.DataFrame(payload if isinstance(payload, list) else [payload])
                if (day := partitioned.period_of(key)) and "date" not in part.columns:
                    part["date"] = day
                frames.append(part)
            present = [f for f in frames if not f.empty]
            frame = pd.concat(present, ignore_index=True) if present else pd.DataFrame()
            result = (frame, DatasetInfo(dataset, len(days) or len(keys), days[-1] if days else None, len(frame)))
        self._cache[dataset] = (time.monotonic(), result)
        return result

    def quality_reports(self, limit: int = 500) -> list[dict[str, Any]]:
        keys = [k for k in self.curated.list("_reports/") if k.endswith(".json")]
        reports = []
        for key in sorted(keys)[-limit:]:
            try:
                reports.append(codec.read_json(self.curated, key))
            except (ObjectNotFoundError, CorruptObjectError):
                continue
        return reports

    # ------------------------------------------------------------------ model versions

    def current_pointer(self) -> dict[str, Any] | None:
        return self.snapshots.pointer()

    def load_version(self, version: str) -> Snapshot:
        snapshots, store = self.snapshots, self.snapshots.store
        metadata = snapshots.read_json(version, "metadata.json")
        mart = codec.read_parquet(store, snapshots.key(version, "copilot_mart.parquet"))
        kpis = codec.read_parquet(store, snapshots.key(version, "country_kpis.parquet"))
        catalog = snapshots.read_json(version, "catalog.json")
        orders = None
        if ORDERS in metadata.get("inputs", {}):  # versions saved before it was snapshotted have none
            orders = codec.read_parquet(store, snapshots.key(version, f"{ORDERS}.parquet"))
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
        loaded = self.snapshots.load(self.load_version, pointer)
        return loaded[0] if loaded else None

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
