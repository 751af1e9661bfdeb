"""retail-copilot's SQL path: plans compile to whitelisted SQL with bound values, hostile text never reaches the
SQL, the Trino text Athena runs is pinned and parses, and the Athena calls are checked with botocore's Stubber."""

from __future__ import annotations

import re
from datetime import date
from typing import ClassVar

import boto3
import pandas as pd
import pytest
from botocore.stub import Stubber
from retail_copilot.athena import AthenaQueryError, AthenaWarehouse
from retail_copilot.copilot import Copilot
from retail_copilot.engine import QueryEngine
from retail_copilot.periods import Period
from retail_copilot.plan import QueryPlan
from retail_copilot.sqlplan import Aggregate, Tables, UnsafeQueryError, compile_aggregate, for_trino
from retail_copilot.store import Snapshot
from retail_copilot.warehouse import DuckWarehouse

from retail_platform.sql import check_trino
from tests.unit.retail_copilot.synthetic import make_frames

MAY = Period(date(2024, 5, 1), date(2024, 5, 31), "May 2024", "month")


@pytest.fixture(scope="module")
def frames():
    mart, kpis = make_frames(seed=7)
    brands = mart["description"].str.split().str[0]
    mart = mart.assign(brand=brands.where(brands != "Voltix", "O'Neill's"))  # a real value holding a quote
    return mart, kpis


class Recording:
    """A warehouse that keeps every query it is asked to run."""

    def __init__(self, inner: DuckWarehouse) -> None:
        self.inner = inner
        self.tables, self.attributes, self.order_attributes = inner.tables, inner.attributes, inner.order_attributes
        self.queries: list = []

    def fetch(self, query):
        self.queries.append(query)
        return self.inner.fetch(query)


@pytest.fixture(scope="module")
def recorded(frames):
    mart, kpis = frames
    warehouse = Recording(DuckWarehouse.from_frames(mart, kpis))
    return Copilot(Snapshot(mart, kpis, None, "sql", warehouse=warehouse)), warehouse


HOSTILE = [
    "revenue in Germany'; DROP TABLE copilot_mart; --",
    'total units for SKU-10001" OR 1=1 --',
    "revenue by category where 1=1 UNION SELECT * FROM information_schema.tables",
    "top 5 products by revenue in Robert'); DELETE FROM country_kpis;-- last month",
    "units sold by brand /* comment */ last month",
    "units in 'Germany' last month",
    'revenue in Germany" OR "1"="1 last month',
    "top 3 products by revenue in France -- robert's",
    "orders by week in 'GB'); DROP TABLE x",
]


@pytest.mark.parametrize("question", HOSTILE)
def test_hostile_question_text_never_reaches_the_sql(recorded, question):
    copilot, warehouse = recorded
    before = len(warehouse.queries)
    answer = copilot.ask(question)
    assert answer["status"] in ("answered", "refused", "clarify")
    for query in warehouse.queries[before:]:
        text = query.sql.upper()
        for fragment in ("DROP", "DELETE", "UNION", "INFORMATION_SCHEMA", "1=1", ";", "--", "/*", "ROBERT"):
            assert fragment not in text, (fragment, query.sql)
        # the only string literals in the text are the time units of DATE_TRUNC
        assert set(re.findall(r"'[^']*'", query.sql)) <= {"'day'", "'week'", "'month'", "'quarter'", "'year'"}
        assert all(isinstance(p, str) for p in query.params)


def test_most_hostile_questions_were_answered_through_sql(recorded):
    copilot, warehouse = recorded
    reached = 0
    for question in HOSTILE:
        before = len(warehouse.queries)
        copilot.ask(question)
        reached += len(warehouse.queries) > before
    assert reached >= 5  # the others were refused by the parser before any SQL


def test_a_value_with_quotes_is_bound_and_matched_literally(recorded, frames):
    copilot, warehouse = recorded
    mart = frames[0]
    before = len(warehouse.queries)
    answer = copilot.ask("Revenue for brand O'Neill's in May 2024")
    expected = mart.loc[
        (mart["brand"] == "O'Neill's") & mart["date"].between("2024-05-01", "2024-05-31"), "revenue_reporting"
    ].sum()
    assert answer["status"] == "answered" and answer["value"] == pytest.approx(round(expected, 2))
    assert any("O'Neill's" in q.params for q in warehouse.queries[before:])
    assert not any("Neill" in q.sql for q in warehouse.queries[before:])


def test_a_forged_value_matches_nothing_and_a_forged_name_is_refused(frames):
    mart, kpis = frames
    warehouse = DuckWarehouse.from_frames(mart, kpis)
    forged = Aggregate("copilot_mart", "units", date(2024, 1, 1), date(2024, 6, 30), (("country", ("x' OR '1'='1",)),))
    row = warehouse.fetch(compile_aggregate(forged, warehouse.tables)).iloc[0]
    assert row["n_rows"] == 0 and row["metric_value"] == 0
    for bad in (
        Aggregate("copilot_mart", "units", date(2024, 1, 1), date(2024, 1, 2), (('country" OR 1=1 --', ("DE",)),)),
        Aggregate("copilot_mart", "units", date(2024, 1, 1), date(2024, 1, 2), by="no_such_column"),
        Aggregate("copilot_mart", "measure", date(2024, 1, 1), date(2024, 1, 2), measure="units) FROM x; --"),
        Aggregate("copilot_mart", "units", date(2024, 1, 1), date(2024, 1, 2), by="bucket:decade"),
        Aggregate("pg_catalog", "units", date(2024, 1, 1), date(2024, 1, 2)),
        Aggregate("copilot_mart", "median", date(2024, 1, 1), date(2024, 1, 2)),
    ):
        with pytest.raises(UnsafeQueryError):
            compile_aggregate(bad, warehouse.tables)


def test_daily_customers_per_country_is_the_mean_of_daily_sums(frames):
    mart, kpis = frames
    engine = QueryEngine.from_frames(mart, kpis, Copilot(Snapshot(mart, kpis, None, "v")).catalog)
    result = engine.breakdown(QueryPlan("breakdown", "daily_customers", MAY, group_by="country"))
    window = kpis.loc[kpis["date"].between("2024-05-01", "2024-05-31")]
    golden = window.groupby(["country", "date"])["customers"].sum().groupby(level=0).mean()
    assert result.details["groups"] == pytest.approx(golden.round(2).to_dict())


def test_prod_parquet_answers_as_the_frames_do(frames, tmp_path):
    """The same plans over monthly prod partitions in a BlobStore (mirrored, scanned by DuckDB) and over the
    frames: identical answers, and the month partition column is not taken for a custom attribute."""
    from retail_copilot.store import CopilotData

    from retail_platform.sql import SqlEngine
    from retail_platform.storage import MemoryBlobStore
    from tests.unit.prod_on_memory import write_partitioned

    mart, kpis = frames
    prod = MemoryBlobStore("prod")
    assert len(write_partitioned(prod, "copilot_mart", mart, "month")) == 7
    write_partitioned(prod, "country_kpis", kpis, "day")  # an older day layout beside it reads alike
    data = CopilotData(prod, MemoryBlobStore("curated"), MemoryBlobStore("artifacts"), lambda: SqlEngine(tmp_path))
    live = Copilot(data.load_live(), data)
    framed = Copilot(Snapshot(mart, kpis, None, "v"))
    assert live.engine.attributes == framed.engine.attributes and "month" not in live.catalog.dimensions
    for question in ("Revenue by brand in May 2024", "Top 3 products by units last month", "Orders by week in Q2"):
        a, b = live.ask(question), framed.ask(question)
        assert (a["answer"], a["value"], a["table"]) == (b["answer"], b["value"], b["table"])


# ---------------------------------------------------------------------- Athena


def _compiled(frames) -> tuple[Tables, Aggregate]:
    warehouse = DuckWarehouse.from_frames(*frames)
    request = Aggregate(
        "copilot_mart", "revenue", MAY.start, MAY.end, (("country", ("DE", "FR")),), "bucket:week", None
    )
    return warehouse.tables, request


def test_the_trino_text_is_pinned_and_parses(frames):
    tables, request = _compiled(frames)
    trino = for_trino(compile_aggregate(request, tables))
    assert trino.sql == (
        'SELECT DATE_TRUNC(\'WEEK\', "date") AS group_key, CAST(SUM("revenue_reporting") AS DOUBLE) AS '
        'metric_value FROM "copilot_mart" WHERE "date" BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND '
        '"country" IN (?, ?) AND NOT DATE_TRUNC(\'WEEK\', "date") IS NULL GROUP BY DATE_TRUNC(\'WEEK\', "date")'
    )
    assert trino.params == ("2024-05-01", "2024-05-31", "DE", "FR")
    for metric in ("revenue", "units", "aov", "daily_customers", "skus"):
        source = "country_kpis" if metric in ("aov", "daily_customers") else "copilot_mart"
        for by in (None, "country", "bucket:month"):
            check_trino(for_trino(compile_aggregate(Aggregate(source, metric, MAY.start, MAY.end, by=by), tables)).sql)


GLUE_COLUMNS = {
    "prod_copilot_mart": [
        ("date", "timestamp"),
        ("country", "string"),
        ("category", "string"),
        ("sku", "string"),
        ("description", "string"),
        ("units", "bigint"),
        ("revenue_reporting", "double"),
        ("orders", "bigint"),
        ("region", "string"),
    ],
    "prod_country_kpis": [
        ("date", "timestamp"),
        ("country", "string"),
        ("orders", "bigint"),
        ("customers", "bigint"),
        ("units", "bigint"),
        ("revenue_reporting", "double"),
    ],
}


def _athena(sleeps: list[float] | None = None):
    athena = boto3.client("athena", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    glue = boto3.client("glue", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    glue_stub = Stubber(glue)
    for table in ("prod_copilot_mart", "prod_country_kpis", "prod_customer_transactions"):
        if table in GLUE_COLUMNS:
            columns = [{"Name": n, "Type": t} for n, t in GLUE_COLUMNS[table]]
            response = {
                "Table": {
                    "Name": table,
                    "StorageDescriptor": {"Columns": columns},
                    "PartitionKeys": [{"Name": "month", "Type": "string"}],
                }
            }
            glue_stub.add_response("get_table", response, {"DatabaseName": "retail_platform_dev", "Name": table})
        else:
            glue_stub.add_client_error("get_table", "EntityNotFoundException", http_status_code=400)
    glue_stub.activate()
    warehouse = AthenaWarehouse(
        athena, glue, "retail_platform_dev", "retail-copilot", timeout_seconds=2, poll_seconds=1,
        sleep=(sleeps.append if sleeps is not None else lambda _: None),
    )  # fmt: skip
    glue_stub.assert_no_pending_responses()
    return warehouse, Stubber(athena)


def test_athena_runs_the_transpiled_plan_with_bound_parameters():
    sleeps: list[float] = []
    warehouse, stub = _athena(sleeps)
    assert warehouse.attributes.dimensions == ("region",) and "customer_transactions" not in warehouse.tables.columns
    request = Aggregate("copilot_mart", "revenue", MAY.start, MAY.end, (("region", ("West's",)),), "country")
    query = for_trino(compile_aggregate(request, warehouse.tables))
    assert '"retail_platform_dev"."prod_copilot_mart"' in query.sql and "West" not in query.sql
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q-1"},
        {
            "QueryString": query.sql,
            "QueryExecutionContext": {"Database": "retail_platform_dev"},
            "WorkGroup": "retail-copilot",
            "ExecutionParameters": ["'2024-05-01'", "'2024-05-31'", "'West''s'"],
        },
    )
    for state in ("QUEUED", "RUNNING", "SUCCEEDED"):
        stub.add_response(
            "get_query_execution",
            {"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": state}}},
            {"QueryExecutionId": "q-1"},
        )
    header = {"Data": [{"VarCharValue": "group_key"}, {"VarCharValue": "metric_value"}]}
    info = {"ColumnInfo": [{"Name": "group_key", "Type": "varchar"}, {"Name": "metric_value", "Type": "double"}]}
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {"Rows": [header, {"Data": [{"VarCharValue": "DE"}, {"VarCharValue": "10.5"}]}],
                          "ResultSetMetadata": info},
            "NextToken": "page-2",
        },
        {"QueryExecutionId": "q-1"},
    )  # fmt: skip
    stub.add_response(
        "get_query_results",
        {"ResultSet": {"Rows": [{"Data": [{"VarCharValue": "FR"}, {}]}], "ResultSetMetadata": info}},
        {"QueryExecutionId": "q-1", "NextToken": "page-2"},
    )
    with stub:
        frame = warehouse.fetch(compile_aggregate(request, warehouse.tables))
    stub.assert_no_pending_responses()
    assert frame["group_key"].tolist() == ["DE", "FR"]
    assert frame["metric_value"].iloc[0] == 10.5 and pd.isna(frame["metric_value"].iloc[1])
    assert sleeps == [1, 1]


def test_a_failed_or_slow_athena_query_is_a_clear_error():
    warehouse, stub = _athena()
    request = Aggregate("country_kpis", "orders", MAY.start, MAY.end)
    query = compile_aggregate(request, warehouse.tables)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-2"})
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"Status": {"State": "FAILED", "StateChangeReason": "Query exhausted resources"}}},
    )
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-3"})
    for _ in range(3):
        stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "RUNNING"}}})
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-3"})
    with stub:
        with pytest.raises(AthenaQueryError, match="failed: Query exhausted resources"):
            warehouse.fetch(query)
        with pytest.raises(AthenaQueryError, match="stopped"):
            warehouse.fetch(query)
    stub.assert_no_pending_responses()


# ---------------------------------------------------------------------- the banks through the Athena path


class TrinoOnDuckDB:
    """Stands in for Athena and Glue: the prod tables live in a DuckDB schema named like the Glue database; a
    query's Trino text (as the copilot sends it) is read back into DuckDB by sqlglot and run with its
    ExecutionParameters bound; results come back as Athena pages of strings."""

    class exceptions:
        class EntityNotFoundException(Exception):
            pass

    GLUE_TYPES: ClassVar[dict[str, str]] = {
        "TIMESTAMP_NS": "timestamp",
        "TIMESTAMP": "timestamp",
        "DATE": "date",
        "VARCHAR": "string",
    }

    def __init__(self, database: str, tables: dict[str, pd.DataFrame]) -> None:
        import duckdb

        self.connection = duckdb.connect()
        self.connection.execute(f'CREATE SCHEMA "{database}"')
        for name, frame in tables.items():
            self.connection.register("frame", frame)
            self.connection.execute(f'CREATE TABLE "{database}"."{name}" AS SELECT * FROM frame')  # noqa: S608
            self.connection.unregister("frame")
        self.database, self.results, self.sent = database, {}, []

    def get_table(self, DatabaseName: str, Name: str) -> dict:
        try:
            rows = self.connection.execute(f'DESCRIBE "{DatabaseName}"."{Name}"').fetchall()
        except Exception as e:
            raise self.exceptions.EntityNotFoundException(Name) from e
        columns = [{"Name": r[0], "Type": self.GLUE_TYPES.get(str(r[1]), str(r[1]).lower())} for r in rows]
        return {"Table": {"Name": Name, "StorageDescriptor": {"Columns": columns}}}

    def start_query_execution(self, QueryString, QueryExecutionContext, WorkGroup, ExecutionParameters=()):
        import sqlglot

        self.sent.append((QueryString, list(ExecutionParameters)))
        (sql,) = sqlglot.transpile(QueryString, read="trino", write="duckdb")
        values = [p[1:-1].replace("''", "'") for p in ExecutionParameters]
        cursor = self.connection.execute(sql, values)
        names = [d[0] for d in cursor.description]
        kinds = ["double" if "DOUBLE" in str(d[1]) or "INT" in str(d[1]) else "date" if "DATE" in str(d[1])
                 else "varchar" for d in cursor.description]  # fmt: skip
        rows = cursor.fetchall()
        self.results[str(len(self.results))] = (names, kinds, rows)
        return {"QueryExecutionId": str(len(self.results) - 1)}

    def get_query_execution(self, QueryExecutionId):
        return {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}

    def get_query_results(self, QueryExecutionId, NextToken=None):
        names, kinds, rows = self.results[QueryExecutionId]
        cell = lambda v: {} if v is None else {"VarCharValue": repr(v) if isinstance(v, float) else str(v)}  # noqa: E731
        data = [{"Data": [{"VarCharValue": n} for n in names]}] + [{"Data": [cell(v) for v in row]} for row in rows]
        info = [{"Name": n, "Type": k} for n, k in zip(names, kinds, strict=True)]
        return {"ResultSet": {"Rows": data, "ResultSetMetadata": {"ColumnInfo": info}}}


def test_the_real_export_bank_is_answered_exactly_through_the_athena_sql():
    """Superstore's 57 questions, every query transpiled to Trino, sent with ExecutionParameters and read back
    as Athena result pages: the same exact answers as the DuckDB path (golden from the raw file)."""
    from tests.unit.retail_copilot.copilot_bank import score
    from tests.unit.retail_copilot.real_bank import superstore_cases, superstore_frames, superstore_raw

    raw = superstore_raw()
    mart, kpis, orders = superstore_frames(raw)
    fake = TrinoOnDuckDB(
        "retail_platform_dev",
        {"prod_copilot_mart": mart, "prod_country_kpis": kpis, "prod_customer_transactions": orders},
    )
    warehouse = AthenaWarehouse(fake, fake, "retail_platform_dev", "retail-copilot", sleep=lambda _: None)
    copilot = Copilot(Snapshot(None, None, None, "athena", warehouse=warehouse), currency="EUR")
    result = score(copilot.ask, superstore_cases(raw))
    assert result.total == 57 and result.correct == 57, result.failures
    assert all('"retail_platform_dev"."prod_' in sql for sql, _ in fake.sent)
    assert any(params for _, params in fake.sent) and all(p.startswith("'") for _, ps in fake.sent for p in ps)


def test_the_engine_is_chosen_by_the_settings_and_the_data_size():
    from retail_copilot.config import CopilotSettings

    from retail_platform.exceptions import ConfigurationError

    athena = {"GLUE_DATABASE": "retail_platform_dev", "ATHENA_WORKGROUP": "retail-copilot"}
    auto = CopilotSettings.from_env(athena | {"COPILOT_ATHENA_MIN_ROWS": "1000"})
    assert (auto.engine_for(None), auto.engine_for(999), auto.engine_for(1000)) == ("duckdb", "duckdb", "athena")
    assert CopilotSettings.from_env({"COPILOT_ATHENA_MIN_ROWS": "1"}).engine_for(10**9) == "duckdb"  # unconfigured
    assert CopilotSettings.from_env(athena | {"COPILOT_SQL_ENGINE": "athena"}).engine_for(None) == "athena"
    assert CopilotSettings.from_env(athena | {"COPILOT_SQL_ENGINE": "duckdb"}).engine_for(10**9) == "duckdb"
    with pytest.raises(ConfigurationError, match="needs GLUE_DATABASE and ATHENA_WORKGROUP"):
        CopilotSettings.from_env({"COPILOT_SQL_ENGINE": "athena"})
    with pytest.raises(ConfigurationError, match="one of duckdb, athena, auto"):
        CopilotSettings.from_env({"COPILOT_SQL_ENGINE": "spark"})
    with pytest.raises(ConfigurationError, match="must be integers"):
        CopilotSettings.from_env({"COPILOT_ATHENA_MIN_ROWS": "many"})


def test_an_athena_version_holds_the_catalogue_and_serves_from_athena(frames, tmp_path):
    """A rebuild on Athena saves the catalogue and metadata only (no copy of the tables); serving that version
    queries Athena."""
    from retail_copilot.batch import rebuild
    from retail_copilot.store import CopilotData

    from retail_platform.storage import MemoryBlobStore

    mart, kpis = frames
    fake = TrinoOnDuckDB("retail_platform_dev", {"prod_copilot_mart": mart, "prod_country_kpis": kpis})

    def athena():
        return AthenaWarehouse(fake, fake, "retail_platform_dev", "retail-copilot", sleep=lambda _: None)

    data = CopilotData(MemoryBlobStore("prod"), MemoryBlobStore("curated"), MemoryBlobStore("art"), athena=athena)
    outcome = rebuild(data, "EUR", "athena")
    assert outcome["status"] == "rebuilt" and outcome["self_check"]["mismatches"] == 0
    version = data.snapshots.pointer()["version"]
    files = sorted(k.rsplit("/", 1)[1] for k in data.artifacts.list(f"models/retail-copilot/{version}/"))
    assert files == ["catalog.json", "metadata.json"]
    assert data.snapshots.read_json(version, "metadata.json")["inputs"]["copilot_mart"]["rows"] == len(mart)
    snapshot = data.load_current()
    assert isinstance(snapshot.warehouse, AthenaWarehouse) and snapshot.version == version
    answer = Copilot(snapshot, data).ask("Units in Germany in May 2024")
    may = mart.loc[(mart["country"] == "DE") & mart["date"].between("2024-05-01", "2024-05-31"), "units"].sum()
    assert answer["value"] == float(may)
