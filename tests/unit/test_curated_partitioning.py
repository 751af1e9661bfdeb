"""raw-to-curated's split of curated rows into monthly partitions: whole months, days in order, source order
within a day, big months cut into parts, memory bounded by chunks of days; the sink's keys follow the layout."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from curation.partitioning import by_partition

# (timestamp, row) in file order: three months, the last day of January, a leap day, a year boundary
STAMPS = [
    "2024-02-29T23:59:59Z",
    "2024-01-31T00:00:00Z",
    "2023-12-31T12:00:00Z",
    "2024-02-01T08:00:00Z",
    "2024-01-02T00:00:00Z",
    "2024-01-31T09:00:00Z",
    "2024-02-29T00:00:01Z",
    "2024-01-02T10:00:00Z",
]


def _held() -> list[pa.Table]:
    table = pa.table({"ts": pa.array(pd.to_datetime(STAMPS)), "row": list(range(len(STAMPS)))})
    return [table.slice(0, 3), table.slice(3, 0), table.slice(3, 5)]  # as held: file order, one batch empty


@pytest.mark.parametrize("chunk_rows", [1, 2, 4, 100])
def test_month_partitions_hold_their_days_in_order_and_source_order_within_a_day(chunk_rows):
    parts = [(m, p, t["row"].to_pylist()) for m, p, t in by_partition(_held(), "ts", "month", chunk_rows=chunk_rows)]
    assert parts == [
        ("2023-12", 0, [2]),
        ("2024-01", 0, [4, 7, 1, 5]),  # Jan 2 (rows 4, 7 in file order), then Jan 31 (rows 1, 5)
        ("2024-02", 0, [3, 0, 6]),  # Feb 1, then Feb 29 (rows 0, 6 in file order)
    ]


@pytest.mark.parametrize("chunk_rows", [1, 3, 100])
def test_a_month_past_part_rows_is_cut_into_parts_across_chunks(chunk_rows):
    parts = [
        (m, p, t["row"].to_pylist())
        for m, p, t in by_partition(_held(), "ts", "month", part_rows=3, chunk_rows=chunk_rows)
    ]
    assert parts == [("2023-12", 0, [2]), ("2024-01", 0, [4, 7, 1]), ("2024-01", 1, [5]), ("2024-02", 0, [3, 0, 6])]


def test_utc_instants_fall_in_their_utc_month():
    stamps = pd.to_datetime(["2024-03-31T23:30:00-02:00", "2024-03-31T23:30:00+02:00"], utc=True)
    table = pa.table({"ts": pa.array(stamps), "row": [0, 1]})
    assert [(m, t["row"].to_pylist()) for m, _, t in by_partition([table], "ts", "month")] == [
        ("2024-03", [1]),
        ("2024-04", [0]),  # 01:30 UTC on April 1st
    ]


def test_the_sink_writes_each_part_under_its_month(monkeypatch):
    from curation import outputs

    puts: list[str] = []
    monkeypatch.setattr(outputs.s3io, "write_parquet_table", lambda _s3, _bucket, key, _table: puts.append(key))
    sink = outputs.S3Sink(object(), "local-curated", "order_lines", "abc123")  # type: ignore[arg-type]
    for label, part, table in by_partition(_held(), "ts", "month", part_rows=3):
        sink.curated(label, part, table)
    sink.curated("2024-03-05", 0, _held()[0])  # a day label still lands in a day partition
    sink.flush()
    sink.close()
    assert sorted(puts) == [
        "order_lines/date=2024-03-05/part-abc123-00000.parquet",
        "order_lines/month=2023-12/part-abc123-00000.parquet",
        "order_lines/month=2024-01/part-abc123-00000.parquet",
        "order_lines/month=2024-01/part-abc123-00001.parquet",
        "order_lines/month=2024-02/part-abc123-00000.parquet",
    ]
    assert sink.partitions == {"2023-12", "2024-01", "2024-02", "2024-03-05"}
