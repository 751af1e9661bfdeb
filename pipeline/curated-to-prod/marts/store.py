"""S3 adapter of curated-to-prod: list curated partitions once per dataset, read the ones a plan needs
(concurrently), write and delete whole prod partitions. Takes an injected boto3 S3 client."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from marts.schema import to_table
from retail_platform import s3io

MAX_WORKERS = 16
PROD_PART = "part-0.parquet"
_PARTITION = re.compile(r"/date=(\d{4}-\d{2}-\d{2})/")


def partition_day(key: str) -> date | None:
    match = _PARTITION.search(key)
    return date.fromisoformat(match.group(1)) if match else None


def prod_key(dataset: str, day: date) -> str:
    return f"{dataset}/date={day.isoformat()}/{PROD_PART}"


class CuratedReader:
    """One listing per curated dataset prefix; reads of whole partitions."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3, self.bucket = s3, bucket
        self._listing: dict[str, dict[date | None, list[str]]] = {}

    def listing(self, dataset: str) -> dict[date | None, list[str]]:
        if dataset not in self._listing:
            by_day: dict[date | None, list[str]] = {}
            for key in s3io.list_keys(self.s3, self.bucket, f"{dataset}/"):
                if key.endswith(".parquet"):
                    by_day.setdefault(partition_day(key), []).append(key)
            self._listing[dataset] = {day: sorted(keys) for day, keys in by_day.items()}
        return self._listing[dataset]

    def available(self, datasets: Iterable[str]) -> dict[str, set[date]]:
        return {name: {d for d in self.listing(name) if d is not None} for name in datasets}

    def read(self, dataset: str, days: Iterable[date] | None) -> Any:
        """The dataset's rows in the given partitions (every object when days is None) as one frame."""
        listing = self.listing(dataset)
        wanted = listing if days is None else {d: listing[d] for d in days if d in listing}
        keys = sorted(k for keys in wanted.values() for k in keys)
        if not keys:
            return None
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(keys))) as pool:
            tables = list(pool.map(self._table, keys))
        tables = [t for t in tables if t.num_rows]
        if not tables:
            return None
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()

    def columns_of_one(self, dataset: str) -> list[str]:
        """The column names of one object of the dataset (its last key; [] when it has none): enough to tell
        whether a lookup carries custom attributes without reading all of it."""
        keys = [k for keys in self.listing(dataset).values() for k in keys]
        if not keys:
            return []
        body = s3io.read_bytes(self.s3, self.bucket, max(keys))
        return list(pq.read_schema(io.BytesIO(body)).names)

    def _table(self, key: str) -> pa.Table:
        table = pq.read_table(io.BytesIO(s3io.read_bytes(self.s3, self.bucket, key)))
        return table.replace_schema_metadata(None)  # mixed pandas metadata across files is noise here


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


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def partition_bytes(frame: Any, dataset: str) -> dict[date, bytes]:
    """Parquet bytes per date partition: exactly what `ProdWriter.write` stores."""
    return {day: parquet_bytes(table) for day, table in partition_tables(frame, dataset).items()}


class ProdWriter:
    """Whole-partition writes and deletes in the prod bucket."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3, self.bucket = s3, bucket

    def existing(self, dataset: str) -> set[date]:
        return {
            d
            for key in s3io.list_keys(self.s3, self.bucket, f"{dataset}/")
            if key.endswith(PROD_PART) and (d := partition_day(key)) is not None
        }

    def write(self, dataset: str, parts: Mapping[date, pa.Table]) -> list[date]:
        """Serialise and put every partition (concurrently: Arrow releases the GIL while encoding)."""

        def put(item: tuple[date, pa.Table]) -> date:
            day, table = item
            body = parquet_bytes(table)
            s3io.write_bytes(self.s3, self.bucket, prod_key(dataset, day), body, "application/vnd.apache.parquet")
            return day

        if not parts:
            return []
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(parts))) as pool:
            return sorted(pool.map(put, sorted(parts.items())))

    def delete(self, dataset: str, days: Iterable[date]) -> list[date]:
        days = sorted(days)
        s3io.delete_keys(self.s3, self.bucket, [prod_key(dataset, d) for d in days])
        return days
