"""`PartitionedDataset`: a dataset's date partitions in a `BlobStore`.

Reading is grain-agnostic: objects under `date=YYYY-MM-DD/` (day partitions) and `month=YYYY-MM/` (month
partitions) are both recognised, so a reader works before, during and after a dataset moves from daily to
monthly files. A request for a day or a month selects every object whose partition overlaps it (a month
object is read whole for a day inside it: callers that want that day only filter by their date column).

The grain decides writing only: `day` writes `<prefix>/date=YYYY-MM-DD/part-0.parquet`, `month` writes
`<prefix>/month=YYYY-MM/part-0.parquet`. `replace` writes a partition and removes every other object lying
inside it (older day partitions of that month, other parts), which is the compaction of a rebuilt month.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
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
FIELDS: dict[str, str] = {"day": "date", "month": "month"}

_KEY_PARTITION = re.compile(r"(?:^|/)(?:date=(\d{4}-\d{2}-\d{2})|month=(\d{4}-\d{2}))/")
_DAY_LABEL = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_LABEL = re.compile(r"\d{4}-\d{2}")

Period = date | datetime | str


# ---------------------------------------------------------------------- labels


def grain_of(label: str) -> Grain:
    """`day` for a `YYYY-MM-DD` label, `month` for `YYYY-MM`; anything else is a ValueError."""
    if _DAY_LABEL.fullmatch(label):
        return "day"
    if _MONTH_LABEL.fullmatch(label):
        return "month"
    raise ValueError(f"not a partition label: {label!r} (expected YYYY-MM-DD or YYYY-MM)")


def label_of(period: Period) -> str:
    """A day or month label as given, or the day label of a date/datetime (a timestamp string is cut to its day)."""
    if isinstance(period, datetime | date):
        return period.strftime("%Y-%m-%d")
    label = period if _MONTH_LABEL.fullmatch(period) else period[:10]
    first_day = label if grain_of(label) == "day" else f"{label}-01"
    try:
        date.fromisoformat(first_day)
    except ValueError as e:
        raise ValueError(f"not a partition label: {period!r} ({e})") from e
    return label


def month_of(period: Period) -> str:
    """The `YYYY-MM` label of the month holding a day (label, date or datetime) or of a month label."""
    return label_of(period)[:7]


def months_of(periods: Iterable[Period]) -> list[str]:
    """The distinct month labels of day or month labels, sorted: what an event's day labels map to."""
    return sorted({month_of(p) for p in periods})


def span(period: Period) -> tuple[date, date]:
    """First and last day of a day or month label."""
    label = label_of(period)
    if grain_of(label) == "day":
        day = date.fromisoformat(label)
        return day, day
    first = date.fromisoformat(f"{label}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def days_of(period: Period) -> list[date]:
    """Every day of a day or month label, in order."""
    first, last = span(period)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def overlaps(a: Period, b: Period) -> bool:
    """Whether two day/month labels share a day."""
    (a0, a1), (b0, b1) = span(a), span(b)
    return a0 <= b1 and b0 <= a1


def period_of(key: str) -> str | None:
    """The partition label in an object key, day or month (None when the key is not in a partition)."""
    match = _KEY_PARTITION.search(key)
    return (match.group(1) or match.group(2)) if match else None


def overlapping(listing: Mapping[str | None, list[str]], periods: Iterable[Period] | None) -> list[str]:
    """Keys of a `listing` (label -> keys) whose partition overlaps any of `periods` (all keys when None)."""
    if periods is None:
        return sorted(k for keys in listing.values() for k in keys)
    wanted = _Wanted(periods)
    return sorted(
        key for label, keys in listing.items() if label is not None and wanted.overlaps(label) for key in keys
    )


# ---------------------------------------------------------------------- dataset


class PartitionedDataset:
    """Read (any grain) and write (at `grain`) the partitions of the dataset under `prefix`."""

    def __init__(self, store: BlobStore, prefix: str, grain: Grain = DEFAULT_GRAIN) -> None:
        if grain not in FIELDS:
            raise ValueError(f"unknown partition grain {grain!r}: expected one of {sorted(FIELDS)}")
        self.store = store
        self.prefix = prefix.rstrip("/")
        self.grain = grain

    # ------------------------------------------------------------------ naming (write grain)

    def period(self, day: Period) -> str:
        """The label of the partition this dataset writes `day` to (a label of the other grain is mapped:
        a day to its month; a month cannot be written as a day partition)."""
        label = label_of(day)
        if self.grain == "month":
            return label[:7]
        if grain_of(label) != "day":
            raise ValueError(f"{self.prefix}: a day-grain dataset needs a day, not the month {label!r}")
        return label

    def key(self, period: Period, part: str = PART) -> str:
        return f"{self.prefix}/{FIELDS[self.grain]}={self.period(period)}/{part}"

    @staticmethod
    def period_of(key: str) -> str | None:
        """The partition label (day or month) in an object key (None when the key is not in a partition)."""
        return period_of(key)

    # ------------------------------------------------------------------ listing (any grain)

    def listing(self, suffix: str | tuple[str, ...] = ".parquet") -> dict[str | None, list[str]]:
        """Object keys ending with `suffix` by partition label, day or month (None outside any partition)."""
        by_period: dict[str | None, list[str]] = {}
        for key in self.store.list(self.prefix + "/"):
            if key.endswith(suffix):
                by_period.setdefault(period_of(key), []).append(key)
        return {period: sorted(keys) for period, keys in by_period.items()}

    def partitions(self) -> list[str]:
        """Labels of the partitions that hold data (day and/or month labels), sorted."""
        return sorted(p for p in self.listing() if p is not None)

    def latest(self) -> str | None:
        partitions = self.partitions()
        return partitions[-1] if partitions else None

    def keys(self, periods: Iterable[Period] | None = None, suffix: str | tuple[str, ...] = ".parquet") -> list[str]:
        """Keys of the objects whose partition overlaps any of `periods` (every object when None), sorted."""
        return overlapping(self.listing(suffix), periods)

    # ------------------------------------------------------------------ read

    def read(
        self,
        periods: Iterable[Period] | None = None,
        columns: list[str] | None = None,
        threads: int = READ_THREADS,
    ) -> pd.DataFrame:
        """Rows of the objects whose partition overlaps `periods` (day or month labels; every object under
        the prefix when None), as one frame. Fetched concurrently (S3 latency bounds this); empty parts dropped."""
        return self._frame(self.keys(periods), columns, threads)

    def read_tables(
        self, keys: list[str], columns: list[str] | None = None, threads: int = READ_THREADS
    ) -> list[pa.Table]:
        """Arrow tables of `keys`, in order, fetched by a small thread pool."""
        if not keys:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(keys)))) as pool:
            return list(pool.map(lambda key: codec.read_table(self.store, key, columns), keys))

    def read_partition(self, period: Period) -> pd.DataFrame:
        """Rows of the objects overlapping one day or month; `ObjectNotFoundError` when there are none."""
        keys = self.keys([period])
        if not keys:
            raise ObjectNotFoundError(f"{self.store.bucket}/{self.prefix}: no partition overlaps {period}")
        return self._frame(keys)

    def read_latest(self) -> tuple[str, pd.DataFrame] | None:
        """The newest partition that reads (older ones are tried when the newest is missing or corrupt)."""
        listing = self.listing()
        for period in sorted((p for p in listing if p is not None), reverse=True):
            try:
                return period, self._frame(listing[period], strict=True)
            except (ObjectNotFoundError, StorageError, OSError, ValueError):
                continue
        return None

    def _frame(
        self, keys: list[str], columns: list[str] | None = None, threads: int = READ_THREADS, strict: bool = False
    ) -> pd.DataFrame:
        frames = [t.to_pandas() for t in self.read_tables(keys, columns, threads)]
        kept = [f for f in frames if not f.empty] or (frames[:1] if strict else [])
        return pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()

    # ------------------------------------------------------------------ write (at the dataset's grain)

    def write(self, period: Period, data: pd.DataFrame | pa.Table, part: str = PART) -> str:
        """Put one partition (or one named `part` of it) at this dataset's grain; returns its key."""
        key = self.key(period, part)
        codec.write_parquet(self.store, key, data)
        return key

    def write_many(
        self,
        parts: Mapping[Period, pd.DataFrame | pa.Table],
        threads: int = READ_THREADS,
        replace: bool = False,
    ) -> list[str]:
        """Put several partitions concurrently (Arrow releases the GIL while encoding); their sorted labels.

        With `replace`, every other object inside a written partition (day partitions of a rebuilt month,
        other parts) is deleted after the writes, so a rebuilt partition holds exactly one object."""
        if not parts:
            return []
        by_label = {self.period(p): data for p, data in parts.items()}
        if len(by_label) != len(parts):
            raise ValueError(f"{self.prefix}: several parts map to the same {self.grain} partition")

        def put(item: tuple[str, pd.DataFrame | pa.Table]) -> str:
            return self.write(*item)

        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(by_label)))) as pool:
            written = set(pool.map(put, sorted(by_label.items())))
        if replace:
            stale = [k for k in self._keys_within(by_label) if k not in written]
            self.store.delete(stale)
        return sorted(by_label)

    def replace(self, period: Period, data: pd.DataFrame | pa.Table) -> str:
        """Write one partition and delete every other object inside it (compaction); returns its key."""
        self.write_many({period: data}, replace=True)
        return self.key(period)

    def delete(self, periods: Iterable[Period]) -> list[str]:
        """Delete every object whose partition lies inside one of `periods` (a day label never removes the
        month holding it); returns the given labels, sorted."""
        labels = sorted({label_of(p) for p in periods})
        self.store.delete(self._keys_within(labels))
        return labels

    def _keys_within(self, periods: Iterable[str]) -> list[str]:
        outer = {label_of(p) for p in periods}  # a label lies inside itself, a day inside its month
        return sorted(
            key
            for label, keys in self.listing().items()
            if label is not None and (label in outer or label[:7] in outer)
            for key in keys
        )


class _Wanted:
    """Day and month labels asked for, indexed so that a listing of any size is matched in one pass."""

    def __init__(self, periods: Iterable[Period]) -> None:
        labels = {label_of(p) for p in periods}
        self.days = {label for label in labels if grain_of(label) == "day"}
        self.whole_months = labels - self.days
        self.months = self.whole_months | {day[:7] for day in self.days}

    def overlaps(self, label: str) -> bool:
        if len(label) == 7:  # a month partition overlaps a wanted day or month inside it
            return label in self.months
        return label in self.days or label[:7] in self.whole_months
