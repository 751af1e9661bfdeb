"""retail_platform.sql: DuckDB views over mirrored parquet objects of a BlobStore, bound parameters, the
cache keyed by fingerprint, and the Trino translation."""

from __future__ import annotations

import io

import boto3
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from retail_platform.sql import SqlEngine, SqlError, check_trino, prod_views, quote_identifier, to_trino
from retail_platform.storage import MemoryBlobStore, S3BlobStore


def parquet(**columns) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


@pytest.fixture
def store() -> MemoryBlobStore:
    return MemoryBlobStore(
        "curated",
        {
            "order_lines/month=2024-01/part-a-0.parquet": parquet(sku=["A", "B"], qty=[1.0, 2.0], country=["GB", "DE"]),
            "order_lines/month=2024-02/part-a-0.parquet": parquet(sku=["A"], qty=[5.0], country=["GB"]),
            # a later export with an extra column: union_by_name gives nulls to the older files
            "order_lines/month=2024-02/part-b-0.parquet": parquet(
                sku=["C"], qty=[7.0], country=["FR"], region=["West"]
            ),
            "order_lines/month=2024-02/notes.txt": b"not parquet",
        },
    )


def test_views_scan_every_object_with_partition_columns_and_bound_parameters(store, tmp_path):
    with SqlEngine(tmp_path) as engine:
        assert engine.register("order_lines", store, "order_lines") == 3
        table = engine.query(
            "SELECT month, sum(qty) AS units, count(region) AS with_region FROM order_lines "
            "WHERE country <> $skip GROUP BY month ORDER BY month",
            {"skip": "DE"},
        )
        assert table.to_pylist() == [
            {"month": "2024-01", "units": 1.0, "with_region": 0},
            {"month": "2024-02", "units": 12.0, "with_region": 1},
        ]
        # a parameter is a value, never SQL: the quote is compared, not executed
        assert engine.query("SELECT count(*) AS n FROM order_lines WHERE sku = ?", ["A' OR '1'='1"]).to_pylist() == [
            {"n": 0}
        ]


@pytest.mark.parametrize(("periods", "expected"), [(["2024-02"], 12.0), (["2024-01-15"], 3.0), (["2023-12"], None)])
def test_periods_select_the_partitions_they_overlap(store, tmp_path, periods, expected):
    schema = pa.schema([("sku", pa.string()), ("qty", pa.float64())])
    with SqlEngine(tmp_path) as engine:
        engine.register("lines", store, "order_lines/", periods=periods, empty=schema)
        assert engine.query("SELECT sum(qty) AS q FROM lines").to_pylist() == [{"q": expected}]


def test_cache_fetches_only_changed_objects_and_forgets_deleted_ones(store, tmp_path):
    with SqlEngine(tmp_path) as engine:
        engine.register("lines", store, "order_lines/")
        mirror = engine.mirror(store)
        assert mirror.fetched == 3
    with SqlEngine(tmp_path) as engine:  # a warm cache (a second run in the same Lambda) fetches nothing
        engine.register("lines", store, "order_lines/")
        assert engine.mirror(store).fetched == 0
        store.put("order_lines/month=2024-01/part-a-0.parquet", parquet(sku=["A"], qty=[100.0], country=["GB"]))
        store.delete(["order_lines/month=2024-02/part-b-0.parquet"])
        engine.register("lines", store, "order_lines/")
        assert engine.mirror(store).fetched == 1
        assert engine.query("SELECT sum(qty) AS q FROM lines").to_pylist() == [{"q": 105.0}]
    assert not (tmp_path / "curated" / "order_lines/month=2024-02/part-b-0.parquet").exists()


def test_s3_objects_are_fingerprinted_by_their_listing(tmp_path):
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="prod", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        store = S3BlobStore(s3, "prod")
        store.put("daily_sales/month=2024-03/part-0.parquet", parquet(revenue=[1.5, 2.5]))
        with SqlEngine(tmp_path) as engine:
            engine.register("daily_sales", store, "daily_sales")
            assert engine.query("SELECT sum(revenue) AS r FROM daily_sales").to_pylist() == [{"r": 4.0}]
        with SqlEngine(tmp_path) as engine:
            engine.register("daily_sales", store, "daily_sales")
            assert engine.mirror(store).fetched == 0
            store.put("daily_sales/month=2024-03/part-0.parquet", parquet(revenue=[10.0]))
            engine.register("daily_sales", store, "daily_sales")
            assert engine.query("SELECT sum(revenue) AS r FROM daily_sales").to_pylist() == [{"r": 10.0}]


def test_an_empty_dataset_needs_a_schema_and_names_must_be_identifiers(store, tmp_path):
    with SqlEngine(tmp_path) as engine:
        with pytest.raises(SqlError, match="no parquet object"):
            engine.register("payments", store, "payments/")
        engine.register("payments", store, "payments/", empty=pa.schema([("amount", pa.float64())]))
        assert engine.columns("payments") == [("amount", "DOUBLE")]
        assert engine.query("SELECT count(*) AS n FROM payments").to_pylist() == [{"n": 0}]
        with pytest.raises(SqlError, match="plain identifier"):
            engine.register("x; DROP TABLE y", store, "order_lines/")
        with pytest.raises(SqlError, match="query failed"):
            engine.query("SELECT nope FROM payments")


def test_keys_outside_the_cache_are_refused(tmp_path):
    store = MemoryBlobStore("b", {"../../etc/x.parquet": parquet(a=[1])})
    with SqlEngine(tmp_path) as engine, pytest.raises(ValueError, match="escapes"):
        engine.register("x", store, "../")


def test_quote_identifier_doubles_quotes():
    assert quote_identifier('we"ird') == '"we""ird"'


def test_trino_translation_and_check():
    assert to_trino("SELECT date_trunc('month', d) AS m, epoch(ts) AS e FROM t", pretty=False) == (
        "SELECT DATE_TRUNC('MONTH', d) AS m, TO_UNIXTIME(ts) AS e FROM t"
    )
    check_trino("SELECT a FROM t WHERE b = ?")
    with pytest.raises(SqlError, match="not valid Trino"):
        check_trino("SELECT FROM WHERE")


def test_in_lambda_duckdb_is_capped_below_the_functions_memory(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3072")
    with SqlEngine(tmp_path) as engine:
        limit = engine.query("SELECT current_setting('memory_limit') AS m").to_pylist()[0]["m"]
    assert limit == "1.7 GiB"  # 60% of 3072 MB = 1843 MB


def test_narrow_scans_only_the_chosen_partitions_and_keeps_every_column(store, tmp_path):
    with SqlEngine(tmp_path) as engine:
        engine.register("order_lines", store, "order_lines")
        columns = engine.columns("order_lines")
        assert engine.narrow("order_lines", ["2024-01"]) == 1
        assert engine.columns("order_lines") == columns  # `region` only exists in a February object
        rows = engine.query("SELECT sku, region FROM order_lines ORDER BY sku").to_pylist()
        assert rows == [{"sku": "A", "region": None}, {"sku": "B", "region": None}]
        assert engine.narrow("order_lines", ["2023-12"]) == 0
        assert engine.columns("order_lines") == columns
        assert engine.query("SELECT count(*) AS n FROM order_lines").to_pylist() == [{"n": 0}]
        assert engine.narrow("order_lines", None) == 3
        assert engine.query("SELECT sum(qty) AS q FROM order_lines").to_pylist() == [{"q": 15.0}]


def test_prod_views_yield_an_engine_over_every_dataset_or_none_when_one_is_missing(store):
    with prod_views(store, "order_lines", threads=1) as engine:
        assert engine.query("SELECT count(*) AS n FROM order_lines").to_pylist() == [{"n": 4}]
        assert "month" not in dict(engine.columns("order_lines"))  # the rows' own columns, no partition keys
    with pytest.raises(duckdb.ConnectionException):  # closed on exit
        engine.connection.execute("SELECT 1")
    with prod_views(store, "order_lines", "daily_sales") as missing:
        assert missing is None
