"""Where the copilot's data comes from: the snapshot the batch path saved, or the prod datasets themselves.

Snapshots are versions in the platform's `VersionedArtifacts`; prod datasets are `PartitionedDataset`s read
grain-agnostically (day `date=` or month `month=` partitions). The three tables the engine queries are DuckDB
views over parquet objects mirrored from a `BlobStore` (`retail_platform.sql`), never frames held whole.

`CopilotData` takes its three stores (prod, curated, artifacts) as `BlobStore`s, so the handler runs in unit
tests on `MemoryBlobStore` as it does on S3.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pandas as pd

from retail_copilot.errors import PlanError
from retail_copilot.sqlplan import KPIS, MART
from retail_copilot.sqlplan import ORDERS as ORDERS_SOURCE
from retail_copilot.warehouse import DuckWarehouse, Warehouse
from retail_platform.storage import PartitionedDataset, S3BlobStore, VersionedArtifacts, codec
from retail_platform.storage.artifacts import UNREADABLE
from retail_platform.storage.blobstore import BlobStore, S3Client
from retail_platform.storage.errors import CorruptObjectError, ObjectNotFoundError
from retail_platform.storage.partitions import span

MODEL_PREFIX = "models/retail-copilot/"
KEEP_PREVIOUS = 3
SUBSCRIBED = ("copilot_mart", "country_kpis")  # the prod datasets whose updates rebuild the snapshot
ORDERS = "customer_transactions"  # also snapshotted when prod has it (distinct customers and orders)
SOURCES = (MART, KPIS, ORDERS_SOURCE)
INSIGHT_DATASETS = ("fraud_alerts", "demand_forecasts", "inventory_advice", "market_trends", "pulse")


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
    """What one model version answers from, with its version and the freshness of its inputs: frames held in
    memory (tests, the CLI; registered with DuckDB on first use) or a `Warehouse` over parquet objects."""

    mart: pd.DataFrame | None
    kpis: pd.DataFrame | None
    catalog: dict[str, Any] | None
    version: str
    datasets: dict[str, DatasetInfo] = field(default_factory=dict)
    orders: pd.DataFrame | None = None  # customer_transactions, for distinct customers and orders (optional)
    warehouse: Warehouse | None = None

    def tables(self) -> Warehouse:
        if self.warehouse is None:
            if self.mart is None:
                raise PlanError("There is no sales data yet (prod copilot_mart is empty).")
            self.warehouse = DuckWarehouse.from_frames(self.mart, self.kpis, self.orders)
        return self.warehouse


def recent(labels: list[str], days: int) -> list[str]:
    """The day or month labels whose partition holds one of the last `days` days of the newest one."""
    if not labels:
        return []
    last = max(span(label)[1] for label in labels)
    first = last - timedelta(days=days - 1)
    return [label for label in labels if span(label)[1] >= first]


class CopilotData:
    """Reads prod datasets, insights, quality reports and snapshot versions from three BlobStores."""

    def __init__(
        self,
        prod: BlobStore,
        curated: BlobStore,
        artifacts: BlobStore,
        engine_factory: Callable[[], Any] | None = None,
        athena: Callable[[], Warehouse] | None = None,
    ) -> None:
        self.prod = prod
        self.curated = curated
        self.artifacts = artifacts
        self.snapshots = VersionedArtifacts(artifacts, MODEL_PREFIX, keep_previous=KEEP_PREVIOUS, subject="snapshot")
        self.engine_factory = engine_factory  # a SqlEngine per warehouse (default: the platform's, cache in /tmp)
        self.athena = athena  # the catalogued prod tables on Athena (None: not configured)
        self._cache: dict[str, tuple[float, Any]] = {}

    @classmethod
    def on_s3(cls, s3: S3Client, prod_bucket: str, curated_bucket: str, artifacts_bucket: str) -> CopilotData:
        return cls(S3BlobStore(s3, prod_bucket), S3BlobStore(s3, curated_bucket), S3BlobStore(s3, artifacts_bucket))

    def _engine(self) -> Any:
        if self.engine_factory is not None:
            return self.engine_factory()
        from retail_platform.sql import SqlEngine

        return SqlEngine()

    # ------------------------------------------------------------------ prod

    def dataset(self, name: str) -> PartitionedDataset:
        return PartitionedDataset(self.prod, name)

    def info(self, dataset: str, rows: int | None = None) -> DatasetInfo:
        labels = self.dataset(dataset).partitions()
        return DatasetInfo(dataset, len(labels), labels[-1] if labels else None, rows)

    def prod_tables(self) -> DuckWarehouse:
        """copilot_mart, country_kpis and customer_transactions of prod as DuckDB views (PlanError: no mart)."""
        return DuckWarehouse.from_store(self.prod, {s: f"{s}/" for s in SOURCES}, engine=self._engine())

    def warehouse(self, engine: str) -> Warehouse:
        """The prod tables where `engine` ("duckdb" or "athena") runs plans."""
        if engine == "athena":
            if self.athena is None:
                raise PlanError("Athena is not configured (GLUE_DATABASE, ATHENA_WORKGROUP).")
            return self.athena()
        return self.prod_tables()

    def read_recent(self, dataset: str, days: int) -> tuple[pd.DataFrame, DatasetInfo]:
        """The partitions of a prod dataset that hold its last `days` days (day or month partitions)."""
        partitioned = self.dataset(dataset)
        labels = partitioned.partitions()
        frame = partitioned.read(recent(labels, days)) if labels else pd.DataFrame()
        return frame, DatasetInfo(dataset, len(labels), labels[-1] if labels else None, len(frame))

    def insight(
        self, dataset: str, ttl: float = 60.0, last_partitions: int = 35
    ) -> tuple[pd.DataFrame, DatasetInfo] | None:
        """Another AI system's insights (its newest partitions), or None when it has not written any yet."""
        cached = self._cache.get(dataset)
        if cached and time.monotonic() - cached[0] < ttl:
            return cached[1]
        partitioned = self.dataset(dataset)
        listing = partitioned.listing((".parquet", ".json"))
        keys = [k for ks in listing.values() for k in ks]
        if not keys:
            result = None
        else:
            labels = sorted(p for p in listing if p is not None)
            wanted = set(labels[-last_partitions:])
            chosen = sorted(k for k in keys if not labels or partitioned.period_of(k) in wanted)
            frames = []
            for key in chosen:
                if key.endswith(".parquet"):
                    part = codec.read_parquet(self.prod, key)
                else:
                    payload = codec.read_json(self.prod, key)
                    part = pd.DataFrame(payload if isinstance(payload, list) else [payload])
                if (label := partitioned.period_of(key)) and "date" not in part.columns:
                    part["date"] = label
                frames.append(part)
            present = [f for f in frames if not f.empty]
            frame = pd.concat(present, ignore_index=True) if present else pd.DataFrame()
            result = (frame, DatasetInfo(dataset, len(labels) or len(keys), labels[-1] if labels else None, len(frame)))
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
        """A saved version: its catalogue and metadata, its tables as DuckDB views over the version's files."""
        snapshots = self.snapshots
        metadata = snapshots.read_json(version, "metadata.json")
        catalog = snapshots.read_json(version, "catalog.json")
        inputs = metadata.get("inputs", {})
        datasets = {
            name: DatasetInfo(name, info["partitions"], info["latest_partition"], info.get("rows"))
            for name, info in inputs.items()
        }
        if metadata.get("engine") == "athena":  # too large to copy: the version holds the catalogue only
            return Snapshot(None, None, catalog, version, datasets, warehouse=self.warehouse("athena"))
        keys = {
            source: [snapshots.key(version, f"{source}.parquet")]
            for source in SOURCES
            if source != ORDERS_SOURCE or ORDERS in inputs  # versions saved before it was snapshotted have none
        }
        prefix = snapshots.key(version, "")
        warehouse = DuckWarehouse.from_store(self.artifacts, dict.fromkeys(keys, prefix), keys, self._engine())
        return Snapshot(None, None, catalog, version, datasets, warehouse=warehouse)

    def load_current(self, pointer: dict[str, Any] | None = None) -> Snapshot | None:
        """The current model version; the previous good one if the current cannot be read; None if none.

        `pointer` is current.json when the caller has just read it (saves reading it twice)."""
        pointer = pointer if pointer is not None else self.current_pointer()
        if not pointer:
            return None
        import duckdb

        from retail_platform.sql import SqlError

        unreadable = (*UNREADABLE, SqlError, PlanError, duckdb.Error)  # a corrupt parquet file fails in DuckDB
        loaded = self.snapshots.load(self.load_version, pointer, unreadable)
        return loaded[0] if loaded else None

    def load_live(self, engine: str = "duckdb") -> Snapshot:
        """No saved version: answer from the prod datasets directly (DuckDB views over their mirrored
        partitions, or the Athena tables)."""
        warehouse = self.warehouse(engine)
        if isinstance(warehouse, DuckWarehouse):
            warehouse = warehouse.compact()[0]  # the partitions scanned once, not once per question
        datasets = {name: self.info(name) for name in SOURCES if name in warehouse.tables.columns}
        return Snapshot(None, None, None, "live", datasets, warehouse=warehouse)
