"""The copilot's tables on Amazon Athena: the catalogued prod tables (`<database>.prod_<dataset>`, issue #18),
queried with the same compiled plans, transpiled to Trino by sqlglot.

Each source is the same prepared relation DuckDB uses (`warehouse.prepared_relation`), written as a subquery
over the Glue table whose columns Glue lists (the whitelist). Values travel as Athena EXECUTION PARAMETERS,
apart from the query text; the workgroup enforces the result location, its encryption and the scan limit, so
no OutputLocation is passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from retail_copilot.sqlplan import KPIS, MART, ORDERS, Query, Tables, for_trino, quote
from retail_copilot.warehouse import attributes_of, prepared_relation
from retail_platform.exceptions import PlatformError

TABLE_PREFIX = "prod_"  # Glue tables of the prod datasets: prod_<dataset> (templates, docs/SCALING.md)
DONE = ("SUCCEEDED", "FAILED", "CANCELLED")
NUMBERS = ("double", "float", "real", "decimal")
INTEGERS = ("bigint", "integer", "int", "smallint", "tinyint")


class AthenaQueryError(PlatformError):
    """An Athena query failed, was cancelled or ran past its time limit."""


def parameter(value: Any) -> str:
    """A bound value as Athena takes it in ExecutionParameters: a quoted string literal (quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def glue_schema(glue: Any, database: str, table: str) -> dict[str, str] | None:
    """Column -> type of a Glue table (partition keys included); None when the table does not exist."""
    try:
        found = glue.get_table(DatabaseName=database, Name=table)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return None
    columns = [*found.get("StorageDescriptor", {}).get("Columns", []), *found.get("PartitionKeys", [])]
    return {str(c["Name"]): str(c["Type"]) for c in columns}


class AthenaWarehouse:
    """Runs compiled plans as Athena queries in one workgroup and database."""

    def __init__(
        self,
        athena: Any,
        glue: Any,
        database: str,
        workgroup: str,
        timeout_seconds: float = 60.0,
        poll_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.athena = athena
        self.database = database
        self.workgroup = workgroup
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self.sleep = sleep
        columns: dict[str, frozenset[str]] = {}
        names: dict[str, str] = {}
        schemas: dict[str, dict[str, str]] = {}
        for source in (MART, KPIS, ORDERS):
            schema = glue_schema(glue, database, TABLE_PREFIX + source)
            if schema is None:
                continue
            relation = f"{quote(database)}.{quote(TABLE_PREFIX + source)}"
            sql, prepared = prepared_relation(source, schema, relation)
            names[source] = f"({sql}) AS {quote(source)}"
            columns[source] = frozenset(prepared)
            schemas[source] = prepared
        if MART not in columns:
            raise AthenaQueryError(f"Glue database {database!r} has no table {TABLE_PREFIX + MART!r}")
        self.tables = Tables(columns, names)
        self.attributes = attributes_of(schemas[MART])
        self.order_attributes = attributes_of(schemas.get(ORDERS, {}))

    def fetch(self, query: Query) -> pd.DataFrame:
        """Start the query (Trino text, bound parameters), wait for it, read every page of its result."""
        trino = for_trino(query)
        request: dict[str, Any] = {
            "QueryString": trino.sql,
            "QueryExecutionContext": {"Database": self.database},
            "WorkGroup": self.workgroup,
        }
        if trino.params:
            request["ExecutionParameters"] = [parameter(v) for v in trino.params]
        query_id = self.athena.start_query_execution(**request)["QueryExecutionId"]
        self._wait(query_id)
        return self._results(query_id)

    def _wait(self, query_id: str) -> None:
        waited = 0.0
        while True:
            status = self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return
            if state in DONE:
                reason = status.get("StateChangeReason", "no reason given")
                raise AthenaQueryError(f"Athena query {query_id} {state.lower()}: {reason}")
            if waited >= self.timeout_seconds:
                self.athena.stop_query_execution(QueryExecutionId=query_id)
                raise AthenaQueryError(f"Athena query {query_id} still {state.lower()} after {waited:.0f} s: stopped")
            self.sleep(self.poll_seconds)
            waited += self.poll_seconds

    def _results(self, query_id: str) -> pd.DataFrame:
        columns: list[tuple[str, str]] = []
        rows: list[list[str | None]] = []
        token = None
        while True:
            page = self.athena.get_query_results(QueryExecutionId=query_id, **({"NextToken": token} if token else {}))
            result = page["ResultSet"]
            if not columns:
                columns = [(c["Name"], c["Type"]) for c in result["ResultSetMetadata"]["ColumnInfo"]]
                data = result["Rows"][1:]  # the first row of the first page repeats the header
            else:
                data = result["Rows"]
            rows.extend([cell.get("VarCharValue") for cell in row["Data"]] for row in data)
            token = page.get("NextToken")
            if not token:
                break
        frame = pd.DataFrame(rows, columns=[name for name, _ in columns])
        for name, type_name in columns:
            frame[name] = _typed(frame[name], type_name.lower())
        return frame


def _typed(values: pd.Series, type_name: str) -> pd.Series:
    if type_name.startswith(NUMBERS) or type_name.startswith(INTEGERS):
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if type_name.startswith(("date", "timestamp")):
        return pd.to_datetime(values, errors="coerce")
    return values.astype(object).where(values.notna(), None)
