"""tools/catalog_cost.py: monthly regrouping of day files, catalogued columns only, Athena's price arithmetic."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tools import catalog_cost


def _write(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def _column_bytes(table: pa.Table) -> dict[str, int]:
    """Compressed column-chunk bytes of `table` written as one zstd object (the expected monthly file)."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    meta = pq.ParquetFile(io.BytesIO(sink.getvalue())).metadata
    return {
        meta.schema.column(i).name: meta.row_group(0).column(i).total_compressed_size for i in range(meta.num_columns)
    }


def test_day_files_are_measured_as_one_object_per_month_of_catalogued_columns(tmp_path: Path) -> None:
    day1 = pa.table({"sku": ["A", "B"], "units": [1, 2], "region": ["N", "S"], "_source_row": [1, 2]})
    day2 = pa.table({"sku": ["A"], "units": [5], "region": ["N"], "_source_row": [3]})
    other_month = pa.table({"sku": ["C"], "units": [7], "region": ["W"], "_source_row": [4]})
    _write(tmp_path / "daily_sales" / "date=2024-03-01" / "part-0.parquet", day1)
    _write(tmp_path / "daily_sales" / "date=2024-03-02" / "part-0.parquet", day2)
    _write(tmp_path / "daily_sales" / "month=2024-04" / "part-0.parquet", other_month)

    measured = catalog_cost.measure(tmp_path, "daily_sales", ["sku", "units", "not_written"])

    march = _column_bytes(pa.concat_tables([day1, day2]).select(["sku", "units"]))
    april = _column_bytes(other_month.select(["sku", "units"]))
    assert measured is not None
    assert measured.rows == 4
    assert measured.column_bytes == {c: march[c] + april[c] for c in ("sku", "units")}
    assert measured.bytes_per_row(["units"]) == (march["units"] + april["units"]) / 4


def test_an_absent_dataset_measures_nothing(tmp_path: Path) -> None:
    assert catalog_cost.measure(tmp_path, "order_lines", ["sku"]) is None


def test_athena_price_is_5_usd_per_tb_with_a_10_mb_minimum() -> None:
    assert catalog_cost.query_cost(1e12) == pytest.approx(5.0)
    assert catalog_cost.query_cost(250e9) == pytest.approx(1.25)
    assert catalog_cost.query_cost(1) == pytest.approx(10 * 1024**2 / 1e12 * 5)


def test_costs_grow_linearly_with_the_lines() -> None:
    measured = {
        "order_lines": catalog_cost.Measured(1000, {"sku": 20_000, "units": 30_000}),  # 50 bytes a row
        "daily_sales": catalog_cost.Measured(
            100, {"date": 400, "sku": 600, "country": 100, "units": 200, "revenue_reporting": 300}
        ),
    }
    small = catalog_cost.price(catalog_cost.scenarios(100e6, 12, 1e6), measured)
    large = catalog_cost.price(catalog_cost.scenarios(200e6, 12, 2e6), measured)
    full = small[0]
    assert full["bytes_per_row"] == 50.0
    assert full["scanned_gb"] == pytest.approx(100e6 * 12 * 50 / 1e9)
    assert full["usd_per_month"] == pytest.approx(30 * 100e6 * 12 * 50 / 1e12 * 5, rel=1e-3)
    for a, b in zip(small, large, strict=True):
        assert b["usd_per_query"] == pytest.approx(2 * a["usd_per_query"], rel=1e-3)
