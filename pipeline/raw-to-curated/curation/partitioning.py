"""Split a curation's rows into the curated partitions they are written to, a bounded chunk at a time.

The curated layout is `<dataset>/<field>=<label>/part-<object-id>-<n>.parquet` at the grain `CURATED_GRAIN`:
one object per source object per month (a month past `PART_ROWS` rows is split into several parts), so the
number of curated objects is bounded by months, not days, and re-curating an object overwrites its own files.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from retail_platform.storage.partitions import Grain

CURATED_GRAIN: Grain = "month"
PART_ROWS = 1_000_000  # rows of one partition in one curated Parquet object, at most
CHUNK_ROWS = 250_000  # rows reordered at once


def day_numbers(table: pa.Table, column: str) -> np.ndarray:
    """Days since the epoch of a timestamp or date column (UTC calendar days)."""
    stamps = table[column]
    if pa.types.is_timestamp(stamps.type) and stamps.type.tz is not None:
        stamps = stamps.cast(pa.timestamp(stamps.type.unit))  # the stored instants are UTC
    return stamps.to_numpy().astype("datetime64[D]").astype(np.int64)


def _labels(days: np.ndarray, grain: Grain) -> np.ndarray:
    """The partition label of each day number, as strings (`YYYY-MM-DD` or `YYYY-MM`)."""
    unit = "D" if grain == "day" else "M"
    return days.astype("datetime64[D]").astype(f"datetime64[{unit}]").astype(str)


def by_partition(
    held: list[pa.Table],
    column: str | None,
    grain: Grain = CURATED_GRAIN,
    part_rows: int = PART_ROWS,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[tuple[str, int, pa.Table]]:
    """(label, part, rows) over the held batches (same schema, in file order): each partition's rows of every
    batch together, ordered by day and then by source order; a partition past `part_rows` rows is split.

    Rows are reordered a chunk of whole days (about `chunk_rows` rows) at a time, with one take per batch (a
    take across the batches would concatenate them all, for every chunk); a partition's rows are yielded as
    soon as it is complete or reaches `part_rows`, so memory stays bounded by a chunk plus one part however
    big the file: the batches themselves may be memory-mapped from disk. Unpartitioned data (`column` None)
    is cut into parts of `part_rows` under the label "".
    """
    held = [t for t in held if t.num_rows]
    if not held:
        return
    if column is None:
        whole = pa.concat_tables(held)
        for part, start in enumerate(range(0, whole.num_rows, part_rows)):
            yield "", part, whole.slice(start, part_rows)
        return
    pending = _Parts(part_rows)
    for label, piece in _day_ordered_pieces(held, column, grain, chunk_rows):
        yield from pending.add(label, piece)
    yield from pending.close()


class _Parts:
    """Collects one partition's pieces and cuts them into parts of at most `part_rows` rows."""

    def __init__(self, part_rows: int) -> None:
        self.part_rows = part_rows
        self.label: str | None = None
        self.pieces: list[pa.Table] = []
        self.rows = 0
        self.part = 0

    def add(self, label: str, piece: pa.Table) -> Iterator[tuple[str, int, pa.Table]]:
        if label != self.label:
            yield from self.close()
            self.label, self.part = label, 0
        self.pieces.append(piece)
        self.rows += piece.num_rows
        while self.rows >= self.part_rows:
            whole = pa.concat_tables(self.pieces)
            yield self.label, self.part, whole.slice(0, self.part_rows)
            self.part += 1
            rest = whole.slice(self.part_rows)
            self.pieces, self.rows = ([rest] if rest.num_rows else []), rest.num_rows

    def close(self) -> Iterator[tuple[str, int, pa.Table]]:
        if self.rows and self.label is not None:
            yield self.label, self.part, pa.concat_tables(self.pieces)
        self.pieces, self.rows = [], 0


def _day_ordered_pieces(
    held: list[pa.Table], column: str, grain: Grain, chunk_rows: int
) -> Iterator[tuple[str, pa.Table]]:
    """(label, rows of one day) in day order, each day's rows of every batch in source order."""
    orders, sorted_days = [], []
    for table in held:
        days = day_numbers(table, column)
        orders.append(np.argsort(days, kind="stable"))
        sorted_days.append(days[orders[-1]])
    days, counts = np.unique(np.concatenate(sorted_days), return_counts=True)
    labels = _labels(days, grain)
    first = 0
    while first < len(days):
        last, rows = first + 1, int(counts[first])
        while last < len(days) and rows + counts[last] <= chunk_rows:
            rows += int(counts[last])
            last += 1
        taken = []
        for table, order, ordered in zip(held, orders, sorted_days, strict=True):
            start = np.searchsorted(ordered, days[first], side="left")
            end = np.searchsorted(ordered, days[last - 1], side="right")
            taken.append((table.take(pa.array(order[start:end])), ordered[start:end]))
        chunk_days = days[first:last]
        bounds = [(np.searchsorted(o, chunk_days, "left"), np.searchsorted(o, chunk_days, "right")) for _, o in taken]
        for i in range(len(chunk_days)):
            pieces = [
                table.slice(starts[i], ends[i] - starts[i])
                for (table, _), (starts, ends) in zip(taken, bounds, strict=True)
                if ends[i] > starts[i]
            ]
            yield str(labels[first + i]), pa.concat_tables(pieces)
        first = last


__all__ = ["CHUNK_ROWS", "CURATED_GRAIN", "PART_ROWS", "by_partition", "day_numbers"]
