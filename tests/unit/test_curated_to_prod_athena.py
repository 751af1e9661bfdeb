"""Athena path of the SQL marts: the Trino text of every prod dataset parses as Trino and equals its golden
copy (tests/golden/marts_trino; regenerate with UPDATE_GOLDEN=1 after a deliberate change and review the
diff), and the runner's calls to Athena are exactly those expected (botocore Stubber, no network)."""

from __future__ import annotations

import csv
import os
from datetime import date, datetime, timedelta
from pathlib import Path

import boto3
import pandas as pd
import pyarrow as pa
import pytest
import sqlglot
from botocore.stub import ANY, Stubber
from moto import mock_aws

from marts import PROD_DATASETS, WEEKLY_DATASETS
from marts.curated import CuratedInputs
from marts.schema import contract
from marts.sql.athena import (
    AthenaQueries,
    AthenaRebuild,
    Catalog,
    mart_select,
    measure_curated,
    month_batches,
    prod_extras,
    unload,
)
from marts.sql.queries import Context
from marts.sql.run import SqlMarts, curated_schema
from marts.sql.run_tables import attribute_fields, parquet_schema, sql_columns
from retail_platform.sql import SqlEngine, SqlError, check_trino
from retail_platform.storage import MemoryBlobStore, S3BlobStore, codec
from tests.unit.test_curated_to_prod_marts import sample_frames

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "marts_trino"
CTX = Context(reporting="EUR", pairs=(("EUR", "GBP"), ("EUR", "USD")))
DB, WG = "retail_platform_test", "retail-platform-test"


@pytest.mark.parametrize("name", PROD_DATASETS)
def test_trino_text_of_each_mart_parses_and_matches_its_golden_copy(name):
    text = mart_select(name, CTX, DB, date(2024, 3, 1), date(2024, 3, 31))
    check_trino(text)
    assert "$" not in text and "'2024-02-29 00:00:00'" in text  # read window: a day before
    path = GOLDEN / f"{name}.sql"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text + "\n")
    assert text + "\n" == path.read_text()


def test_unload_partitions_by_month_in_parquet():
    sql = unload("SELECT 1 AS x, '2024-03' AS month", "s3://prod/_athena/r/daily_sales/2024-03/")
    assert sql.startswith("UNLOAD (SELECT 1 AS x")
    assert "partitioned_by = ARRAY['month']" in sql and "format = 'PARQUET'" in sql


def test_months_are_batched_to_bound_partitions_per_query():
    labels = [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01"]
    batches = month_batches(labels, size=10)
    assert [(b[0], b[1], len(b[2])) for b in batches] == [
        (date(2023, 1, 1), date(2023, 10, 31), 10),
        (date(2023, 11, 1), date(2024, 1, 31), 3),
    ]


def athena():
    return boto3.client("athena", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def start(stub: Stubber, query_id: str, sql=ANY) -> None:
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": query_id},
        {"QueryString": sql, "QueryExecutionContext": {"Database": DB}, "WorkGroup": WG},
    )


def state(stub: Stubber, query_id: str, value: str, reason: str = "") -> None:
    status = {"State": value, **({"StateChangeReason": reason} if reason else {})}
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"QueryExecutionId": query_id, "Status": status}},
        {"QueryExecutionId": query_id},
    )


def results(stub: Stubber, query_id: str, rows: list[list[str]]) -> None:
    data = [{"Data": [{"VarCharValue": "h"} for _ in rows[0]]}] if rows else [{"Data": []}]
    data += [{"Data": [{"VarCharValue": v} for v in row]} for row in rows]
    stub.add_response("get_query_results", {"ResultSet": {"Rows": data}}, {"QueryExecutionId": query_id})


def test_polling_backs_off_until_the_query_succeeds():
    client, slept = athena(), []
    with Stubber(client) as stub:
        start(stub, "q1", "SELECT 1")
        for value in ("QUEUED", "RUNNING", "RUNNING", "SUCCEEDED"):
            state(stub, "q1", value)
        assert AthenaQueries(client, DB, WG, sleep=slept.append).run("SELECT 1") == "q1"
        stub.assert_no_pending_responses()
    assert slept == [0.5, 1.0, 2.0]


def test_a_failed_query_raises_with_athenas_reason_and_a_slow_one_is_stopped():
    client = athena()
    with Stubber(client) as stub:
        start(stub, "q2")
        state(stub, "q2", "FAILED", "TABLE_NOT_FOUND: curated_order_lines")
        with pytest.raises(SqlError, match="TABLE_NOT_FOUND"):
            AthenaQueries(client, DB, WG, sleep=lambda s: None).run("SELECT 1")
        start(stub, "q3")
        state(stub, "q3", "RUNNING")
        state(stub, "q3", "RUNNING")
        stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q3"})
        with pytest.raises(SqlError, match="stopped"):
            AthenaQueries(client, DB, WG, sleep=lambda s: None, timeout_s=0.5).run("SELECT 1")
        stub.assert_no_pending_responses()


def test_a_rebuild_unloads_each_dataset_and_replaces_its_months():
    client = athena()
    prod = MemoryBlobStore(
        "prod",
        {
            "country_kpis/month=2024-03/part-0.parquet": b"old",
            "country_kpis/month=2024-03/part-1.parquet": b"stale",
            "country_kpis/month=2024-02/part-0.parquet": b"untouched",
        },
    )
    staged = "_athena/run1/country_kpis/2024-03/"
    prod.put(staged + "month=2024-03/20240301_a.parquet", b"new-a")
    prod.put(staged + "month=2024-03/20240301_b.parquet", b"new-b")
    rebuild = AthenaRebuild(AthenaQueries(client, DB, WG, sleep=lambda s: None), prod, "AUTO", run_id="run1")
    with Stubber(client) as stub:
        for query_id, rows in (("c", [["GBP"]]), ("p", []), ("m", [["2024-03"]])):
            start(stub, query_id)
            state(stub, query_id, "SUCCEEDED")
            results(stub, query_id, rows)
        start(stub, "u")
        state(stub, "u", "SUCCEEDED")
        assert rebuild.run(["country_kpis"]) == {"country_kpis": ["2024-03"]}
        stub.assert_no_pending_responses()
    assert prod.objects == {
        "country_kpis/month=2024-03/part-0.parquet": b"new-a",
        "country_kpis/month=2024-03/part-1.parquet": b"new-b",
        "country_kpis/month=2024-02/part-0.parquet": b"untouched",
    }


def test_measure_counts_parquet_bytes_of_the_curated_datasets():
    store = MemoryBlobStore("curated", {"order_lines/month=2024-03/p.parquet": b"12345", "orders/x.parquet": b"12"})
    store.put("order_lines/_report.json", b"{}")
    assert measure_curated(store, ["order_lines", "orders", "payments"]) == {"curated_bytes": 7, "curated_objects": 2}


def test_the_trino_text_read_back_into_duckdb_gives_the_duckdb_marts():
    """Semantics, not just syntax: each dataset's Trino text, transpiled back to DuckDB and run over tables
    shaped like the catalogued ones (contract columns and lineage only), returns the rows DuckDB builds."""
    inputs = CuratedInputs.from_frames(sample_frames())
    first, last = date(2023, 2, 1), date(2023, 3, 31)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    wanted = {n: [d for d in days if d.weekday() == 0] if n in WEEKLY_DATASETS else days for n in PROD_DATASETS}
    with SqlEngine() as engine:
        marts = SqlMarts.from_inputs(inputs, engine)
        expected = marts.build(wanted, "EUR")
        ctx = marts.context("EUR")
        engine.execute("CREATE SCHEMA catalog")
        for name in CuratedInputs.__dataclass_fields__:
            columns = ", ".join(f.name for f in curated_schema(name))
            engine.execute(f"CREATE VIEW catalog.curated_{name} AS SELECT {columns} FROM main.curated_{name}")  # noqa: S608 - test table names
        for name in PROD_DATASETS:
            trino = mart_select(name, ctx, "catalog", first, last)
            got = engine.query_df(sqlglot.transpile(trino, read="trino", write="duckdb")[0]).drop(columns="month")
            assert set(got["date"].dt.strftime("%Y-%m")) <= {"2023-02", "2023-03"}
            want = expected[name]
            keys = ["date", *contract(name).business_key[1:]] if name != "payment_transactions" else ["payment_id"]
            got = got.sort_values(keys).reset_index(drop=True)[list(want.columns)]
            want = want.sort_values(keys).reset_index(drop=True)
            got, want = got.convert_dtypes(), want.convert_dtypes()  # one missing-value marker (pd.NA) on both sides
            pd.testing.assert_frame_equal(got, want, check_dtype=False, check_exact=False, rtol=1e-9, obj=name)


# ---------------------------------------------------------------------- custom attributes on the Athena path

ATTRIBUTES = {
    "order_lines": {"region": "VARCHAR", "profit": "DOUBLE", "ship_date": "TIMESTAMP"},
    "products": {"supplier": "VARCHAR"},
    "customers": {"tier": "VARCHAR"},
}
RUN_TABLES = {name: f"curated_{name}_run_r1" for name in ATTRIBUTES}


@pytest.mark.parametrize("name", PROD_DATASETS)
def test_trino_text_with_custom_attributes_matches_its_golden_copy(name):  # golden: the three that carry some
    """Attributes declared by the run's table copies are read, carried and written after the contract columns
    (golden copies in tests/golden/marts_trino_attributes, UPDATE_GOLDEN=1 to regenerate)."""
    catalog = Catalog(DB, RUN_TABLES, ATTRIBUTES)
    ctx = catalog.context("EUR", CTX.pairs)
    extras = prod_extras(name, ctx, catalog)
    text = mart_select(name, ctx, catalog, date(2024, 3, 1), date(2024, 3, 31), extras)
    check_trino(text)
    assert '"curated_order_lines_run_r1"' in text and '"curated_orders"' in text
    expected_extras = {  # as the DuckDB path writes them (a real export's values: the test below)
        "daily_sales": [("profit", "float"), ("supplier", "string")],
        "customer_transactions": [("profit", "float"), ("region", "string"), ("ship_date", "date"), ("tier", "string")],
        "copilot_mart": [("profit", "float"), ("region", "string"), ("ship_date", "date"), ("supplier", "string")],
    }
    assert extras == expected_extras.get(name, [])
    path = GOLDEN.parent / "marts_trino_attributes" / f"{name}.sql"
    if not extras:
        return
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text + "\n")
    assert text + "\n" == path.read_text()


def test_custom_attributes_of_a_real_export_reach_prod_through_the_trino_text(tmp_path):
    """The Superstore export (region, segment, profit, ship_date... as custom attributes; its orders of the last
    two months, to stay fast), curated by the real engine: the Trino text over tables declaring its attributes,
    read back into DuckDB, gives the DuckDB marts with every attribute column and value."""
    from tests.unit.test_curated_to_prod_sql import EXPORTS, curated

    key, source = EXPORTS["superstore"]
    lines = source.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    date_at = next(csv.reader(lines[:1])).index("Order Date")
    recent = [line for line in lines[1:] if next(csv.reader([line]))[date_at].startswith(("11/", "12/"))]
    recent = [line for line in recent if next(csv.reader([line]))[date_at].endswith("/2017")]
    export = tmp_path / "superstore.csv"
    export.write_text(lines[0] + "".join(recent), encoding="utf-8")
    assert len(recent) > 100
    inputs = curated([(key, export)])
    first, last = date(2017, 11, 1), date(2017, 12, 31)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    wanted = {n: [d for d in days if d.weekday() == 0] if n in WEEKLY_DATASETS else days for n in PROD_DATASETS}
    with SqlEngine() as engine:
        marts = SqlMarts.from_inputs(inputs, engine)
        expected = marts.build(wanted, "USD")
        engine.execute("CREATE SCHEMA catalog")
        attributes, tables = {}, {}
        for name in CuratedInputs.__dataclass_fields__:
            fields = [f for f in pa.Schema.from_pandas(getattr(inputs, name), preserve_index=False)]
            found = [f for f in fields if f.name not in curated_schema(name).names and not f.name.startswith("_")]
            columns = ", ".join([*curated_schema(name).names, *(f.name for f in found)])
            tables[name] = f"curated_{name}_run_x" if found else f"curated_{name}"
            attributes[name] = sql_columns(found) if found else {}
            engine.execute(f"CREATE VIEW catalog.{tables[name]} AS SELECT {columns} FROM main.curated_{name}")  # noqa: S608 - test names
        catalog = Catalog("catalog", tables, attributes)
        ctx = catalog.context("USD", marts.context("USD").pairs)
        assert {a.name for a in ctx.lines} >= {"region", "segment", "profit", "ship_date"}
        for name in PROD_DATASETS:
            trino = mart_select(name, ctx, catalog, first, last, prod_extras(name, ctx, catalog))
            got = engine.query_df(sqlglot.transpile(trino, read="trino", write="duckdb")[0]).drop(columns="month")
            want = expected[name]
            assert list(got.columns) == list(want.columns), name
            keys = ["date", *contract(name).business_key[1:]] if name != "payment_transactions" else ["payment_id"]
            got, want = (one_missing_marker(f.sort_values(keys).reset_index(drop=True)) for f in (got, want))
            pd.testing.assert_frame_equal(got, want, check_dtype=False, check_exact=False, rtol=1e-9, obj=name)


def one_missing_marker(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable dtypes on both sides, a column of missing values only typed as strings (one marker: pd.NA)."""
    frame = frame.convert_dtypes()
    for column in frame.select_dtypes(include="object").columns:  # only missing values: strings on both sides
        if frame[column].isna().all():
            frame[column] = frame[column].astype("string")
    return frame


def parquet_object(**columns) -> bytes:
    return codec.parquet_bytes(pa.table(columns))


def test_attributes_are_the_union_of_the_objects_footers_read_by_ranged_gets():
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="cur", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        store = S3BlobStore(s3, "cur")
        store.put(
            "order_lines/month=2024-01/part-a-0.parquet", parquet_object(sku=["A"], Region=["West"], _warnings=[""])
        )
        store.put("order_lines/month=2024-02/part-b-0.parquet", parquet_object(sku=["B"], profit=[1], month=["x"]))
        store.put("order_lines/month=2024-03/part-c-0.parquet", parquet_object(sku=["C"], profit=[2.5]))
        store.put("order_lines/_report.json", b"{}")
        fields = attribute_fields(store, "order_lines")
        assert [(f.name, f.type) for f in fields] == [("profit", pa.float64()), ("region", pa.string())]
        assert parquet_schema(store, "order_lines/month=2024-01/part-a-0.parquet").names == [
            "sku",
            "Region",
            "_warnings",
        ]
        assert attribute_fields(store, "products") == []


def glue():
    return boto3.client("glue", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


STACK_TABLE = {
    "Name": "curated_order_lines",
    "DatabaseName": DB,
    "CreateTime": datetime(2026, 1, 1),
    "StorageDescriptor": {
        "Columns": [{"Name": "order_id", "Type": "string"}, {"Name": "sku", "Type": "string"}],
        "Location": "s3://cur/order_lines/",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    },
    "PartitionKeys": [{"Name": "month", "Type": "string"}],
    "TableType": "EXTERNAL_TABLE",
    "Parameters": {"projection.enabled": "true", "projection.month.type": "date"},
}


def test_a_rebuild_declares_the_attributes_in_a_run_table_reads_it_and_drops_it_even_when_a_query_fails():
    client, catalog = athena(), glue()
    curated = MemoryBlobStore("cur")
    curated.put("order_lines/month=2024-03/part-a-0.parquet", parquet_object(sku=["A"], region=["West"], profit=[1.5]))
    curated.put("orders/month=2024-03/part-a-0.parquet", parquet_object(order_id=["1"]))
    prod = MemoryBlobStore("prod")
    rebuild = AthenaRebuild(AthenaQueries(client, DB, WG, sleep=lambda s: None), prod, "EUR", "r1", curated, catalog)
    copy = {k: v for k, v in STACK_TABLE.items() if k not in ("DatabaseName", "CreateTime")}
    copy["Name"] = "curated_order_lines_run_r1"
    copy["StorageDescriptor"] = {
        **STACK_TABLE["StorageDescriptor"],
        "Columns": [
            *STACK_TABLE["StorageDescriptor"]["Columns"],
            {"Name": "profit", "Type": "double", "Comment": "custom attribute"},
            {"Name": "region", "Type": "string", "Comment": "custom attribute"},
        ],
    }
    unloads = []
    with Stubber(client) as stub, Stubber(catalog) as glue_stub:
        glue_stub.add_response("get_table", {"Table": STACK_TABLE}, {"DatabaseName": DB, "Name": "curated_order_lines"})
        glue_stub.add_response("create_table", {}, {"DatabaseName": DB, "TableInput": copy})
        for query_id, rows in (("c", [["EUR"]]), ("p", []), ("m", [["2024-03"]])):
            start(stub, query_id)
            state(stub, query_id, "SUCCEEDED")
            results(stub, query_id, rows)
        start(stub, "u", ANY)
        state(stub, "u", "FAILED", "HIVE_BAD_DATA")
        glue_stub.add_response("delete_table", {}, {"DatabaseName": DB, "Name": "curated_order_lines_run_r1"})
        client.meta.events.register(
            "before-parameter-build.athena.StartQueryExecution",
            lambda params, **_: unloads.append(params["QueryString"]),
        )
        with pytest.raises(SqlError, match="HIVE_BAD_DATA"):
            rebuild.run(["daily_sales"])
        stub.assert_no_pending_responses()
        glue_stub.assert_no_pending_responses()
    unload_text = unloads[-1]
    assert unload_text.startswith("UNLOAD (") and '"curated_order_lines_run_r1"' in unload_text
    assert '"region"' in unload_text and 'AS "profit"' in unload_text  # read from the copy, profit written
