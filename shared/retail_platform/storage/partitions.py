"""`PartitionedDataset`: a dataset's date partitions in a `BlobStore`, at one grain.

The grain is the one setting that decides the partition layout: `day` (the platform's layout today,
`<prefix>/date=YYYY-MM-DD/part-0.parquet`) or `month` (`<prefix>/month=YYYY-MM/part-0.parquet`).
Partitions are named by their label (`2024-03-05` or `2024-03`); `period(day)` gives a day's label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import pandas as pd
import pyarrow as pa

from retail_platform.storage import codec
from retail_platform.storage.blobstore import BlobStore
from retail_platform.storage.errors import ObjectNotFoundError, StorageError

Grain = Literal["day", "month"]
DEFAULT_GRAIN: Grain = "day"
PART = "part-0.parquet"
READ_THREADS = 16


@dataclass(frozen=True)
class _Layout:
    field: str
    pattern: re.Pattern[str]
    label_format: str


_LAYOUTS: dict[str, _Layout] = {
    "day": _Layout("date", re.compile(r"(?:^|/)date=(\d{4}-\d{2}-\d{2})/"), "%Y-%m-%d"),
    "month": _Layout("month", re.compile(r"(?:^|/)month=(\d{4}-\d{2})/"), "%Y-%m"),
}


class PartitionedDataset:
    """Read and write the partitions of the dataset under `prefix`."""

    def __init__(self, store: BlobStore, prefix: str, grain: Grain = DEFAULT_GRAIN) -> None:
        if grain not in _LAYOUTS:
            raise ValueError(f"unknown partition grain {grain!r}: expected one of {sorted(_LAYOUTS)}")
        self.store = store
        self.prefix = prefix.rstrip("/")
        self.grain = grain
        self._layout = _LAYOUTS[grain]

    # ------------------------------------------------------------------ naming

    def period(self, day: date | datetime | str) -> str:
        """The label of the partition holding `day` (an ISO date string, date or datetime)."""
        if isinstance(day, str):
            day = date.fromisoformat(day[:10])
        return day.strftime(self._layout.label_format)

    def key(self, period: date | datetime | str, part: str = PART) -> str:
        return f"{self.prefix}/{self._layout.field}={self.period_label(period)}/{part}"

    def period_label(self, period: date | datetime | str) -> str:
        """`period` as a label: a label passes through, a date is mapped to its partition."""
        if isinstance(period, str) and self._layout.pattern.search(f"{self._layout.field}={period}/"):
            return period
        return self.period(period)

    def period_of(self, key: str) -> str | None:
        """The partition label in an object key (None when the key is not in a partition)."""
        match = self._layout.pattern.search(key)
        return match.group(1) if match else None

    # ------------------------------------------------------------------ listing

    def listing(self, suffix: str | tuple[str, ...] = ".parquet") -> dict[str | None, list[str]]:
        """Object keys ending with `suffix` by partition label (None for objects outside any partition)."""
        by_period: dict[str | None, list[str]] = {}
        for key in self.store.list(self.prefix + "/"):
            if key.endswith(suffix):
                by_period.setdefault(self.period_of(key), []).append(key)
        return {period: sorted(keys) for period, keys in by_period.items()}

    def partitions(self) -> list[str]:
        """Labels of the partitions that hold data, oldest first."""
        return sorted(p for p in self.listing() if p is not None)

    def latest(self) -> str | None:
        partitions = self.partitions()
        return partitions[-1] if partitions else None

    # ------------------------------------------------------------------ read

    def read(
        self,
        periods: Iterable[str] | None = None,
        columns: list[str] | None = None,
        threads: int = READ_THREADS,
    ) -> pd.DataFrame:
        """Rows of the given partitions (every object under the prefix when None), as one frame.

        Objects are fetched concurrently (S3 latency, not CPU, bounds this); empty parts are dropped."""
        listing = self.listing()
        if periods is None:
            keys = sorted(k for keys in listing.values() for k in keys)
        else:
            wanted = {self.period_label(p) for p in periods}
            keys = sorted(k for p, keys in listing.items() if p in wanted for k in keys)
        tables = self.read_tables(keys, columns, threads)
        frames = [t.to_pandas() for t in tables]
        frames = [f for f in frames if not f.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def read_tables(
        self, keys: list[str], columns: list[str] | None = None, threads: int = READ_THREADS
    ) -> list[pa.Table]:
        """Arrow tables of `keys`, in order, fetched by a small thread pool."""
        if not keys:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(keys)))) as pool:
            return list(pool.map(lambda key: codec.read_table(self.store, key, columns), keys))

    def read_partition(self, period: date | datetime | str) -> pd.DataFrame:
        return codec.read_parquet(self.store, self.key(period))

    def read_latest(self) -> tuple[str, pd.DataFrame] | None:
        """The newest partition that reads (older ones are tried when the newest is missing or corrupt)."""
        for period in reversed(self.partitions()):
            try:
                return period, self.read_partition(period)
            except (ObjectNotFoundError, StorageError, OSError, ValueError):
                continue
        return None

    # ------------------------------------------------------------------ write

    def write(self, period: date | datetime | str, data: pd.DataFrame | pa.Table, part: str = PART) -> str:
        """Replace one partition (or one named `part` of it) with `data`; returns its key."""
        key = self.key(period, part)
        codec.write_parquet(self.store, key, data)
        return key

    def write_many(self, parts: Mapping[str, pd.DataFrame | pa.Table], threads: int = READ_THREADS) -> list[str]:
        """Replace several partitions concurrently (Arrow releases the GIL while encoding); sorted labels."""
        if not parts:
            return []

        def put(item: tuple[str, pd.DataFrame | pa.Table]) -> str:
            self.write(*item)
            return self.period_label(item[0])

        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(parts)))) as pool:
            return sorted(pool.map(put, sorted(parts.items())))

    def delete(self, periods: Iterable[date | datetime | str]) -> list[str]:
        """Delete whole partitions (their `part-0.parquet`); returns the labels, sorted."""
        labels = sorted({self.period_label(p) for p in periods})
        self.store.delete([self.key(p) for p in labels])
        return labels
