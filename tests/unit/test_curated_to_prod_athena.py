"""Athena path of the SQL marts: the Trino text of every prod dataset parses as Trino and equals its golden
copy (tests/golden/marts_trino; regenerate with UPDATE_GOLDEN=1 after a deliberate change and review the
diff), and the runner's calls to Athena are exactly those expected (botocore Stubber, no network)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import boto3
import pandas as pd
import pytest
import sqlglot
from botocore.stub import ANY, Stubber

from marts import PROD_DATASETS, WEEKLY_DATASETS
from marts.curated import CuratedInputs
from marts.schema import contract
from marts.sql.athena import AthenaQueries, AthenaRebuild, mart_select, measure_curated, month_batches, unload
from marts.sql.queries import Context
from marts.sql.run import SqlMarts, curated_schema
from retail_platform.sql import SqlEngine, SqlError, check_trino
from retail_platform.storage import MemoryBlobStore
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
