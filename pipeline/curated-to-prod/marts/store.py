"""Storage of curated-to-prod: list curated partitions once per dataset, read the ones a plan needs
(concurrently), write and delete whole prod partitions. Both sides are the platform's `PartitionedDataset`
over an injected boto3 S3 client: curated is read at whatever grain it was written (day or month objects),
prod is written at `PROD_GRAIN`, one object per partition (a rebuilt partition is compacted to that one)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from marts.schema import to_table
from retail_platform.storage import PartitionedDataset, S3BlobStore, codec
from retail_platform.storage.blobstore import S3Client
from retail_platform.storage.partitions import Grain, days_of, grain_of, overlapping

PROD_GRAIN: Grain = "month"


class CuratedReader:
    """One listing per curated dataset prefix; reads of the objects overlapping the days a plan needs."""

    def __init__(self, s3: S3Client, bucket: str) -> None:
        self.store = S3BlobStore(s3, bucket)
        self._listing: dict[str, dict[str | None, list[str]]] = {}

    def dataset(self, name: str) -> PartitionedDataset:
        return PartitionedDataset(self.store, name)

    def listing(self, dataset: str) -> dict[str | None, list[str]]:
        if dataset not in self._listing:
            self._listing[dataset] = self.dataset(dataset).listing()
        return self._listing[dataset]

    def available(self, datasets: Iterable[str]) -> dict[str, set[date]]:
        """The days each dataset's partitions cover (every day of a month object: its rows' days are not
        listed, and a plan over whole months needs no finer view)."""
        return {
            name: {day for label in self.listing(name) if label is not None for day in days_of(label)}
            for name in datasets
        }

    def read(self, dataset: str, days: Iterable[date] | None) -> Any:
        """The rows of the objects overlapping `days` (every object when None) as one frame (None if none)."""
        wanted = None if days is None else [d.isoformat() for d in days]
        keys = overlapping(self.listing(dataset), wanted)
        # mixed pandas metadata across files is noise here
        tables = [t.replace_schema_metadata(None) for t in self.dataset(dataset).read_tables(keys) if t.num_rows]
        if not tables:
            return None
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()

    def columns_of_one(self, dataset: str) -> list[str]:
        """The column names of one object of the dataset (its last key; [] when it has none): enough to tell
        whether a lookup carries custom attributes without reading all of it."""
        keys = [k for keys in self.listing(dataset).values() for k in keys]
        if not keys:
            return []
        return list(pq.read_schema(io.BytesIO(self.store.get(max(keys)))).names)


def partition_labels(days: np.ndarray, grain: Grain) -> np.ndarray:
    """The partition label (str) of each datetime64[D] day at `grain`."""
    unit = "D" if grain == "day" else "M"
    return days.astype(f"datetime64[{unit}]").astype(str)


def partition_tables(frame: Any, dataset: str, grain: Grain = PROD_GRAIN) -> dict[str, pa.Table]:
    """Arrow table per partition label of a conformed prod frame, ordered by date (stable: rows keep their
    order within a day)."""
    if frame.empty:
        return {}
    days = frame["date"].to_numpy(dtype="datetime64[D]")
    order = np.argsort(days, kind="stable")
    labels = partition_labels(days[order], grain)
    table = to_table(frame.iloc[order].reset_index(drop=True), dataset)
    bounds = [0, *(np.flatnonzero(labels[1:] != labels[:-1]) + 1).tolist(), len(labels)]
    return {str(labels[start]): table.slice(start, end - start) for start, end in itertools.pairwise(bounds)}


def table_partitions(table: pa.Table, grain: Grain = PROD_GRAIN) -> dict[str, pa.Table]:
    """`partition_tables` of an already conformed Arrow table (`SqlMarts.tables`): sorted by date, so each
    partition is a slice of it, rows kept in their order within a day."""
    if not table.num_rows:
        return {}
    days = table.column("date").to_numpy().astype("datetime64[D]")
    if (days[1:] < days[:-1]).any():
        order = np.argsort(days, kind="stable")
        table, days = table.take(order), days[order]
    labels = partition_labels(days, grain)
    bounds = [0, *(np.flatnonzero(labels[1:] != labels[:-1]) + 1).tolist(), len(labels)]
    return {str(labels[start]): table.slice(start, end - start) for start, end in itertools.pairwise(bounds)}


def partition_bytes(frame: Any, dataset: str, grain: Grain = PROD_GRAIN) -> dict[str, bytes]:
    """Parquet bytes per partition: exactly what `ProdWriter.write` stores."""
    return {label: codec.parquet_bytes(table) for label, table in partition_tables(frame, dataset, grain).items()}


class ProdWriter:
    """Whole-partition writes (compacting) and deletes in the prod bucket, at `grain`."""

    def __init__(self, s3: S3Client, bucket: str, grain: Grain = PROD_GRAIN) -> None:
        self.store = S3BlobStore(s3, bucket)
        self.grain = grain

    def dataset(self, name: str) -> PartitionedDataset:
        return PartitionedDataset(self.store, name, self.grain)

    def partition_of(self, day: date | str) -> str:
        return self.dataset("").period(day)

    def existing(self, dataset: str) -> set[str]:
        """The partitions (at this grain) that hold objects; an object this grain cannot hold (a month under the
        day grain) keeps its own label."""
        labels = self.dataset(dataset).partitions()
        return {
            label if self.grain == "day" and grain_of(label) == "month" else self.partition_of(label)
            for label in labels
        }

    def write(self, dataset: str, parts: Mapping[str, pa.Table]) -> list[str]:
        """Put every partition (concurrently: Arrow releases the GIL while encoding), each replacing whatever
        lay inside it (day objects of a rebuilt month, extra parts): one object per partition."""
        return self.dataset(dataset).write_many(parts, replace=True)

    def delete(self, dataset: str, labels: Iterable[str]) -> list[str]:
        return self.dataset(dataset).delete(labels)
