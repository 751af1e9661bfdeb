"""Full rebuilds past one Lambda: the same mart SQL, transpiled to Trino, run by Amazon Athena.

Over the catalogued curated tables (`<database>.curated_<dataset>`, columns = the canonical contract, see
tools/catalog.py), each prod dataset of a batch of months is UNLOADed as Parquet into a staging prefix
of the prod bucket, partitioned by month; each month's objects then replace that month's prod objects
(`<dataset>/month=YYYY-MM/part-<n>.parquet`) and the staging objects are deleted. UNLOAD needs no Glue
table of its own, and the replace is per month, so a failed query leaves prod as it was.

Custom attributes (per shop, in no contract, so not in the stack's tables) are found in the curated objects'
footers and declared by run-scoped copies of the tables (`marts.sql.run_tables`); the queries then carry them
into prod as DuckDB does, after the contract columns, sorted by name. Dates in the text are literals made from
`date` objects (never from input); the data's currency codes are escaped literals (`marts.sql.fx.literal`).
Queries are polled with capped exponential backoff; a failed or cancelled query raises `SqlError` with
Athena's reason.
"""

# ruff: noqa: S608 - this module generates SQL: identifiers quoted, data values escaped literals
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from marts import PROD_DATASETS, attributes, currency
from marts.sql import inputs as sql_inputs
from marts.sql.queries import MARTS, Context, statement
from marts.sql.run import AFTER, BEFORE, PARTITIONED, WHOLE
from marts.sql.run_tables import RunTables, attribute_fields, sql_columns
from retail_platform.contracts import load_canonical
from retail_platform.sql import SqlEngine, SqlError, check_trino, to_trino
from retail_platform.sql.engine import quote_identifier as q
from retail_platform.storage.blobstore import BlobStore

STAGING = "_athena/"
MONTHS_PER_QUERY = 10  # Athena writes at most 100 partitions per query; months also bound the bytes scanned
POLL_FIRST_S, POLL_MAX_S = 0.5, 10.0
_TRINO_TYPES = {"int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "date": "TIMESTAMP", "timestamp": "TIMESTAMP"}
_GLUE_TYPES = {"int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "date": "TIMESTAMP", "timestamp": "TIMESTAMP"}
_PARAM = re.compile(r"\$([a-z_]+)\b")


def timestamp_literal(day: date) -> str:
    return f"TIMESTAMP '{day.isoformat()} 00:00:00'"


def with_dates(sql: str, values: Mapping[str, date]) -> str:
    """The DuckDB text with its `$name` date parameters as timestamp literals (Athena's UNLOAD takes none)."""

    def literal(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise SqlError(f"no value for ${match.group(1)}")
        return timestamp_literal(values[match.group(1)])

    return _PARAM.sub(literal, sql)


def catalogued_columns(dataset: str, attributes: Mapping[str, str] | None = None) -> dict[str, str]:
    """The columns of a catalogued curated table (contract columns and lineage, then the run's attribute
    columns, `run_tables.sql_columns`) with DuckDB-style types."""
    spec = load_canonical(dataset)
    columns = {name: _GLUE_TYPES.get(c.type, "VARCHAR") for name, c in spec.columns.items()}
    return {**columns, "_source_key": "VARCHAR", "_source_row": "BIGINT", **(attributes or {})}


@dataclass(frozen=True)
class Catalog:
    """Where a run reads each curated dataset: its table (the stack's, or a run's copy declaring attributes)
    and the attribute columns that table adds (column -> DuckDB-style type)."""

    database: str
    tables: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def table(self, dataset: str) -> str:
        return f"{q(self.database)}.{q(self.tables.get(dataset, 'curated_' + dataset))}"

    def columns(self, dataset: str) -> dict[str, str]:
        return catalogued_columns(dataset, self.attributes.get(dataset))

    def context(self, reporting: str, pairs: tuple[tuple[str, str], ...] = ()) -> Context:
        """The marts' context over these tables: FX pairs, and the custom attributes they declare."""
        attrs = {n: tuple(sql_inputs.attributes_of(n, self.columns(n))) for n in ("order_lines", *WHOLE)}
        return Context(reporting, pairs, attrs["order_lines"], attrs["products"], attrs["customers"])


def _base_ctes(catalog: Catalog, ctx: Context) -> list[tuple[str, str]]:
    ctes = []
    for name in (*PARTITIONED, *WHOLE):
        select, _ = sql_inputs.normalised(name, catalog.table(name), catalog.columns(name), window=name in PARTITIONED)
        ctes.append((f"norm_{name}", select))
    ctes.append(("facts", sql_inputs.facts(list(ctx.lines))))
    return ctes


def prod_extras(name: str, ctx: Context, catalog: Catalog) -> list[tuple[str, str]]:
    """(prod column, contract type) of the custom attributes a mart writes after its contract columns: exactly
    what the DuckDB path writes, read from the schema DuckDB gives the same SQL over empty tables shaped like
    the catalogued ones (no data, a few milliseconds)."""
    from marts.schema import arrow_kind, contract
    from marts.sql.run import SqlMarts, _month_bounds

    arrow = {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us")}
    with SqlEngine() as engine:
        for dataset in (*PARTITIONED, *WHOLE):
            schema = pa.schema([(c, arrow.get(t, pa.string())) for c, t in catalog.columns(dataset).items()])
            engine.register_table(f"curated_{dataset}", schema.empty_table())
        marts = SqlMarts(engine)
        marts.context(ctx.reporting)  # normalises the lookups
        table = marts.span_tables(ctx, *_month_bounds(2000, 1), [name])[name]
    spec = contract(name).columns
    return [(f.name, arrow_kind(f.type)) for f in table.schema if f.name not in spec]


def _projection(name: str, reporting: str, extras: Iterable[tuple[str, str]] = ()) -> str:
    """The prod contract's columns, typed as prod writes them, the custom attributes, then the month partition."""
    from marts.schema import contract

    columns = []
    typed = [(c, spec.type, c) for c, spec in contract(name).columns.items()]
    typed += [(column, kind, attributes.PREFIX + column) for column, kind in extras]
    for column, kind, source in typed:
        if column == "reporting_currency":
            columns.append(f"CAST({_literal(reporting)} AS VARCHAR) AS reporting_currency")
        elif kind == "int":
            columns.append(f"CAST(round(m.{q(source)}) AS BIGINT) AS {q(column)}")
        else:
            columns.append(f"CAST(m.{q(source)} AS {_TRINO_TYPES.get(kind, 'VARCHAR')}) AS {q(column)}")
    columns.append("strftime(m.date, '%Y-%m') AS month")
    return f"SELECT {', '.join(columns)} FROM mart AS m"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mart_select(
    name: str, ctx: Context, database: str | Catalog, first: date, last: date, extras: Iterable[tuple[str, str]] = ()
) -> str:
    """Trino SELECT of one prod dataset for the output days [first, last] (weekly: weeks starting in it);
    `extras`: its custom attribute columns (`prod_extras`) over the attribute-declaring `Catalog`."""
    catalog = database if isinstance(database, Catalog) else Catalog(database)
    ctes, select = MARTS[name](ctx)
    text = statement([*_base_ctes(catalog, ctx), *ctes, ("mart", select)], _projection(name, ctx.reporting, extras))
    dated = with_dates(text, {"lo": first - BEFORE, "hi": last + AFTER, "out_lo": first, "out_hi": last})
    trino = to_trino(dated)
    check_trino(trino)
    return trino


def unload(select: str, location: str) -> str:
    """Athena UNLOAD of a SELECT into Parquet objects partitioned by its last column, `month`."""
    return (
        f"UNLOAD ({select})\nTO {_literal(location)}\n"
        "WITH (format = 'PARQUET', compression = 'ZSTD', partitioned_by = ARRAY['month'])"
    )


@dataclass
class AthenaQueries:
    """Run queries in one workgroup (its result location and encryption are enforced there) and database."""

    client: Any
    database: str
    workgroup: str
    sleep: Callable[[float], None] = time.sleep
    timeout_s: float = 840.0

    def run(self, sql: str) -> str:
        """Start a query and wait for it; its execution id. `SqlError` when it fails, is cancelled or times out."""
        started = self.client.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": self.database}, WorkGroup=self.workgroup
        )
        query_id = started["QueryExecutionId"]
        waited, delay = 0.0, POLL_FIRST_S
        while True:
            status = self.client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return query_id
            if state in ("FAILED", "CANCELLED"):
                raise SqlError(f"Athena query {query_id} {state.lower()}: {status.get('StateChangeReason', '')}")
            if waited >= self.timeout_s:
                self.client.stop_query_execution(QueryExecutionId=query_id)
                raise SqlError(f"Athena query {query_id} still {state.lower()} after {waited:.0f} s: stopped")
            self.sleep(delay)
            waited += delay
            delay = min(delay * 2, POLL_MAX_S)

    def rows(self, sql: str) -> list[list[str | None]]:
        """Result rows of a SELECT as strings (the header row dropped)."""
        query_id = self.run(sql)
        rows: list[list[str | None]] = []
        for page in self.client.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
            for row in page["ResultSet"]["Rows"]:
                rows.append([cell.get("VarCharValue") for cell in row["Data"]])
        return rows[1:]


def month_batches(months: Iterable[str], size: int = MONTHS_PER_QUERY) -> list[tuple[date, date, list[str]]]:
    """Sorted "YYYY-MM" labels in batches of `size`: (first day, last day, labels)."""
    labels = sorted(set(months))
    out = []
    for start in range(0, len(labels), size):
        chunk = labels[start : start + size]
        first = date.fromisoformat(chunk[0] + "-01")
        end = date.fromisoformat(chunk[-1] + "-01")
        last = date(end.year + end.month // 12, end.month % 12 + 1, 1) - timedelta(days=1)
        out.append((first, last, chunk))
    return out


@dataclass
class AthenaRebuild:
    """A full rebuild of the prod datasets by Athena, published month by month into the prod store."""

    queries: AthenaQueries
    prod: BlobStore
    setting: str  # REPORTING_CURRENCY: an ISO code or AUTO
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    curated: BlobStore | None = None  # where custom attributes are looked for (None: contract columns only)
    glue: Any = None  # a boto3 Glue client, to declare them in run-scoped table copies (`marts.sql.run_tables`)
    catalog: Catalog | None = None

    def table(self, dataset: str) -> str:
        return (self.catalog or Catalog(self.queries.database)).table(dataset)

    def declare_attributes(self, tables: RunTables) -> Catalog:
        """The run's catalog: a table copy declaring its attributes for each curated dataset that has some."""
        names: dict[str, str] = {}
        attributes: dict[str, dict[str, str]] = {}
        for dataset in (*PARTITIONED, *WHOLE) if self.curated is not None else ():
            fields = attribute_fields(self.curated, dataset)
            if fields:
                if self.glue is None:
                    raise SqlError(f"custom attributes of {dataset} need a Glue client to be declared")
                names[dataset] = tables.create(dataset, fields)
                attributes[dataset] = sql_columns(fields)
        return Catalog(self.queries.database, names, attributes)

    def months(self) -> list[str]:
        rows = self.queries.rows(
            "SELECT DISTINCT date_format(order_ts, '%Y-%m') FROM "
            f"{self.table('order_lines')} UNION SELECT DISTINCT date_format(payment_ts, '%Y-%m') FROM "
            f"{self.table('payments')}"
        )
        return sorted(r[0] for r in rows if r and r[0])

    def context(self) -> Context:
        seen = self.queries.rows(
            " UNION ".join(f"SELECT DISTINCT currency FROM {self.table(n)}" for n in currency.AMOUNT_SOURCES)
        )
        reporting = currency.resolve(self.setting, {r[0] for r in seen if r and r[0]})
        pairs = self.queries.rows(
            f"SELECT DISTINCT base_currency, quote_currency FROM {self.table('fx_rates')} WHERE rate > 0 "
            "AND base_currency <> quote_currency"
        )
        catalog = self.catalog or Catalog(self.queries.database)
        return catalog.context(reporting, tuple(sorted((b, c) for b, c in pairs if b and c)))

    def run(self, datasets: Iterable[str] = PROD_DATASETS) -> dict[str, list[str]]:
        """Rebuild every month of `datasets`; the months written per dataset."""
        tables = RunTables(self.glue, self.queries.database, self.run_id)
        try:
            self.catalog = self.declare_attributes(tables)
            return self._rebuild(list(datasets))
        finally:
            tables.drop()

    def _rebuild(self, datasets: list[str]) -> dict[str, list[str]]:
        ctx = self.context()
        catalog = self.catalog or Catalog(self.queries.database)
        extras = {name: prod_extras(name, ctx, catalog) if catalog.attributes else [] for name in datasets}
        written: dict[str, list[str]] = {}
        for first, last, _ in month_batches(self.months()):
            for name in datasets:
                location = f"s3://{self.prod.bucket}/{STAGING}{self.run_id}/{name}/{first:%Y-%m}/"
                self.queries.run(unload(mart_select(name, ctx, catalog, first, last, extras[name]), location))
                written.setdefault(name, []).extend(self.publish(name, f"{STAGING}{self.run_id}/{name}/{first:%Y-%m}/"))
        return written

    def publish(self, dataset: str, staged: str) -> list[str]:
        """Each staged month's objects replace the month's prod objects; staging is emptied."""
        by_month: dict[str, list[str]] = {}
        for key in self.prod.list(staged):
            match = re.search(r"month=(\d{4}-\d{2})/", key)
            if match:
                by_month.setdefault(match.group(1), []).append(key)
        for month, keys in sorted(by_month.items()):
            prefix = f"{dataset}/month={month}/"
            new = [f"{prefix}part-{i}.parquet" for i in range(len(keys))]
            for source, target in zip(sorted(keys), new, strict=True):
                self.prod.put(target, self.prod.get(source), "application/vnd.apache.parquet")
            self.prod.delete([k for k in self.prod.list(prefix) if k not in new])
        self.prod.delete(list(self.prod.list(staged)))
        return sorted(by_month)


def measure_curated(store: BlobStore, datasets: Iterable[str]) -> dict[str, int]:
    """Bytes and objects of the curated datasets' parquet objects (what the Step Functions choice reads)."""
    from retail_platform.sql.mirror import listed

    total, objects = 0, 0
    for name in datasets:
        for key, fingerprint in listed(store, f"{name}/"):
            if not key.endswith(".parquet"):
                continue
            objects += 1
            size = fingerprint.rsplit("/", 1)[-1] if fingerprint else None
            total += int(size) if size and size.isdigit() else len(store.get(key))
    return {"curated_bytes": total, "curated_objects": objects}
