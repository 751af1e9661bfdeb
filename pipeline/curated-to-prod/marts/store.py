"""Storage of curated-to-prod: list curated partitions once per dataset, read the ones a plan needs
(concurrently), write and delete whole prod partitions. Both sides are the platform's `PartitionedDataset`
(day grain) over an injected boto3 S3 client."""

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


def _day(label: str | None) -> date | None:
    return date.fromisoformat(label) if label is not None else None


class CuratedReader:
    """One listing per curated dataset prefix; reads of whole partitions."""

    def __init__(self, s3: S3Client, bucket: str) -> None:
        self.store = S3BlobStore(s3, bucket)
        self._listing: dict[str, dict[date | None, list[str]]] = {}

    def dataset(self, name: str) -> PartitionedDataset:
        return PartitionedDataset(self.store, name)

    def listing(self, dataset: str) -> dict[date | None, list[str]]:
        if dataset not in self._listing:
            self._listing[dataset] = {_day(label): keys for label, keys in self.dataset(dataset).listing().items()}
        return self._listing[dataset]

    def available(self, datasets: Iterable[str]) -> dict[str, set[date]]:
        return {name: {d for d in self.listing(name) if d is not None} for name in datasets}

    def read(self, dataset: str, days: Iterable[date] | None) -> Any:
        """The dataset's rows in the given partitions (every object when days is None) as one frame."""
        listing = self.listing(dataset)
        wanted = listing if days is None else {d: listing[d] for d in days if d in listing}
        keys = sorted(k for keys in wanted.values() for k in keys)
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


def partition_tables(frame: Any, dataset: str) -> dict[date, pa.Table]:
    """Arrow table per date partition of a conformed prod frame (rows keep their order within a day)."""
    if frame.empty:
        return {}
    days = frame["date"].to_numpy(dtype="datetime64[D]")
    order = np.argsort(days, kind="stable")
    days = days[order]
    table = to_table(frame.iloc[order].reset_index(drop=True), dataset)
    bounds = [0, *(np.flatnonzero(days[1:] != days[:-1]) + 1).tolist(), len(days)]
    return {days[start].item(): table.slice(start, end - start) for start, end in itertools.pairwise(bounds)}


def partition_bytes(frame: Any, dataset: str) -> dict[date, bytes]:
    """Parquet bytes per date partition: exactly what `ProdWriter.write` stores."""
    return {day: codec.parquet_bytes(table) for day, table in partition_tables(frame, dataset).items()}


class ProdWriter:
    """Whole-partition writes and deletes in the prod bucket."""

    def __init__(self, s3: S3Client, bucket: str) -> None:
        self.store = S3BlobStore(s3, bucket)

    def dataset(self, name: str) -> PartitionedDataset:
        return PartitionedDataset(self.store, name)

    def existing(self, dataset: str) -> set[date]:
        return {date.fromisoformat(label) for label in self.dataset(dataset).partitions()}

    def write(self, dataset: str, parts: Mapping[date, pa.Table]) -> list[date]:
        """Serialise and put every partition (concurrently: Arrow releases the GIL while encoding)."""
        return [date.fromisoformat(label) for label in self.dataset(dataset).write_many(parts)]

    def delete(self, dataset: str, days: Iterable[date]) -> list[date]:
        return [date.fromisoformat(label) for label in self.dataset(dataset).delete(days)]
