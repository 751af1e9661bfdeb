"""Where compiled plans run: DuckDB over the copilot's three tables (frames in memory, or parquet objects of a
BlobStore mirrored by `retail_platform.sql.SqlEngine`), or Athena over the catalogued prod tables (`athena.py`).

Each source is exposed as a *prepared* view: the raw dataset with the columns and types the engine relies on
(dates as DATE, counts as BIGINT with missing as 0, amounts and custom measures as DOUBLE, custom dimensions as
text - booleans as 'True'/'False'), so that frames, prod partitions and snapshot files answer alike. The view
is SQL over the raw relation: nothing is loaded into pandas, DuckDB scans only the columns a query needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from retail_copilot.attributes import CANONICAL, Attributes
from retail_copilot.errors import PlanError
from retail_copilot.sqlplan import KPIS, MART, ORDERS, Query, Tables, quote

REQUIRED = {
    MART: ("date", "country", "category", "sku", "units", "revenue_reporting", "orders"),
    KPIS: ("date", "country", "orders", "customers", "units", "revenue_reporting"),
    ORDERS: ("date", "order_id", "customer_id", "country"),
}
COUNTS = frozenset({"units", "orders", "customers"})
TEXT = frozenset({"country", "category", "sku", "order_id", "customer_id", "description", "reporting_currency"})
PARTITION_KEYS = frozenset({"month"})  # hive partition columns of the monthly layout: not attributes
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
            "FLOAT", "DOUBLE", "DECIMAL", "REAL", "INT")  # fmt: skip


class Warehouse(Protocol):
    """Runs compiled queries over the copilot's tables."""

    tables: Tables
    attributes: Attributes  # the custom attributes of copilot_mart
    order_attributes: Attributes  # ... of customer_transactions

    def fetch(self, query: Query) -> pd.DataFrame: ...


def kind(duck_type: str) -> str:
    """'bool', 'number', 'time' or 'text' for a DuckDB / Trino type name."""
    upper = duck_type.upper()
    if upper.startswith("BOOL"):
        return "bool"
    if upper.startswith(_NUMERIC):
        return "number"
    if upper.startswith(("DATE", "TIMESTAMP", "TIME")):
        return "time"
    return "text"


def attributes_of(schema: Mapping[str, str]) -> Attributes:
    """Custom dimensions (text, booleans) and measures (numbers) of a schema, as `Attributes.of` finds them in a
    frame: every column that is not canonical, not a partition key and is snake_case."""
    dimensions, measures = [], []
    for name, type_name in schema.items():
        if name in CANONICAL or name in PARTITION_KEYS or name.startswith("_"):
            continue
        try:
            quote(name)
        except ValueError:
            continue
        found = kind(type_name)
        if found == "number":
            measures.append(name)
        elif found != "time":
            dimensions.append(name)
    return Attributes(tuple(dimensions), tuple(measures))


def prepare_select(source: str, schema: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The SELECT list of a prepared view over a raw relation with `schema`, and the prepared schema.

    Raises PlanError when a required column is missing."""
    missing = [c for c in REQUIRED[source] if c not in schema]
    if missing:
        raise PlanError(f"{source} is missing columns: {', '.join(missing)}")
    attributes = attributes_of(schema)
    out: list[str] = []
    prepared: dict[str, str] = {}
    for name in schema:
        column = quote(name) if name in REQUIRED[source] or name in TEXT else None
        if name == "date":
            out.append('CAST("date" AS DATE) AS "date"')
            prepared[name] = "DATE"
        elif name in COUNTS and name in REQUIRED[source]:
            out.append(f"COALESCE(TRY_CAST({column} AS BIGINT), 0) AS {column}")
            prepared[name] = "BIGINT"
        elif name == "revenue_reporting" and column is not None:
            out.append(f"TRY_CAST({column} AS DOUBLE) AS {column}")
            prepared[name] = "DOUBLE"
        elif column is not None:
            out.append(f"CAST({column} AS VARCHAR) AS {column}")
            prepared[name] = "VARCHAR"
        elif name in attributes.measures:
            out.append(f"TRY_CAST({quote(name)} AS DOUBLE) AS {quote(name)}")
            prepared[name] = "DOUBLE"
        elif name in attributes.dimensions:
            column = quote(name)
            if kind(schema[name]) == "bool":  # as pandas writes them: 'True' / 'False'
                out.append(f"CASE WHEN {column} THEN 'True' WHEN NOT {column} THEN 'False' END AS {column}")
            else:
                out.append(f"CAST({column} AS VARCHAR) AS {column}")
            prepared[name] = "VARCHAR"
        elif name == "is_cancellation" and source == ORDERS:
            prepared[name] = "BOOLEAN"
            out.append(f"CAST({quote(name)} AS BOOLEAN) AS {quote(name)}")
    return ", ".join(out), prepared


def prepared_relation(source: str, schema: Mapping[str, str], relation: str) -> tuple[str, dict[str, str]]:
    """SELECT of the prepared source over `relation` (a quoted table or view name), and its schema; an order
    that is a cancellation is not a sale (customer_transactions)."""
    select, prepared = prepare_select(source, schema)
    cancellations = source == ORDERS and "is_cancellation" in schema
    where = ' WHERE NOT COALESCE(CAST("is_cancellation" AS BOOLEAN), false)' if cancellations else ""
    return f"SELECT {select} FROM {relation}{where}", prepared  # noqa: S608 - quoted names from the schema


@dataclass(frozen=True)
class Raw:
    """A source's raw relation in DuckDB (a view name) and its schema; None schema: the source is absent."""

    view: str
    schema: dict[str, str] | None


class DuckWarehouse:
    """The copilot's tables as prepared DuckDB views of one `SqlEngine`."""

    def __init__(self, engine: Any, raw: Mapping[str, Raw]) -> None:
        self.engine = engine
        columns: dict[str, frozenset[str]] = {}
        schemas: dict[str, dict[str, str]] = {}
        for source, relation in raw.items():
            if relation.schema is None:
                continue
            select, prepared = prepared_relation(source, relation.schema, quote(relation.view))
            engine.execute(f"CREATE OR REPLACE VIEW {quote(source)} AS {select}")
            columns[source] = frozenset(prepared)
            schemas[source] = prepared
        self.schemas = schemas
        self.tables = Tables(columns)
        self.attributes = attributes_of(schemas.get(MART, {}))
        self.order_attributes = attributes_of(schemas.get(ORDERS, {}))

    # ------------------------------------------------------------------ building

    @classmethod
    def from_frames(
        cls, mart: pd.DataFrame, kpis: pd.DataFrame | None, orders: pd.DataFrame | None = None, engine: Any = None
    ) -> DuckWarehouse:
        """Frames held in memory (tests, the CLI): registered with DuckDB, queried through the same SQL."""
        import pyarrow as pa

        engine = engine or _new_engine()
        raw: dict[str, Raw] = {}
        for source, frame in ((MART, mart), (KPIS, kpis), (ORDERS, orders)):
            if frame is None or (frame.empty and (source == ORDERS or len(frame.columns) == 0)):
                raw[source] = Raw(f"raw_{source}", None)  # absent: answers that need it say so
                continue
            engine.register_table(f"raw_{source}", pa.Table.from_pandas(_arrow_safe(frame), preserve_index=False))
            raw[source] = Raw(f"raw_{source}", dict(engine.columns(f"raw_{source}")))
        return cls(engine, raw)

    @classmethod
    def from_store(
        cls,
        store: Any,
        prefixes: Mapping[str, str],
        keys: Mapping[str, list[str]] | None = None,
        engine: Any = None,
    ) -> DuckWarehouse:
        """Parquet datasets of a BlobStore (prod partitions, or a snapshot's files: `keys` under the prefix),
        mirrored and scanned in place. A source whose prefix holds no parquet object is absent."""
        engine = engine or _new_engine()
        raw: dict[str, Raw] = {}
        for source, prefix in prefixes.items():
            wanted = None if keys is None else keys.get(source)
            raw[source] = Raw(f"raw_{source}", _register(engine, f"raw_{source}", store, prefix, wanted))
        if raw.get(MART) is None or raw[MART].schema is None:
            raise PlanError("There is no sales data yet (prod copilot_mart is empty).")
        return cls(engine, raw)

    # ------------------------------------------------------------------ queries

    def fetch(self, query: Query) -> pd.DataFrame:
        return self.engine.query_df(query.sql, list(query.params))

    def has(self, source: str) -> bool:
        return source in self.tables.columns

    def rows(self, source: str) -> int:
        return int(self.engine.query_df(f"SELECT COUNT(*) AS n FROM {self.tables.name(source)}").iloc[0]["n"])  # noqa: S608

    def compact(self) -> tuple[DuckWarehouse, dict[str, bytes]]:
        """Each prepared table written once, by DuckDB, to one local parquet file, and a warehouse over those
        files on the same engine: the partitions are scanned once (not once per query), and the files are the
        snapshot's compacted copy ({"<source>.parquet": bytes})."""
        import shutil
        import uuid
        import weakref
        from pathlib import Path

        folder = Path(getattr(self.engine, "cache_dir", None) or _temporary()) / "copilot-compact" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        files: dict[str, bytes] = {}
        raw: dict[str, Raw] = {}
        for source in self.tables.columns:
            path = folder / f"{source}.parquet"
            literal = "'" + str(path).replace("'", "''") + "'"  # our own cache path, not user input
            self.engine.execute(f"COPY (SELECT * FROM {self.tables.name(source)}) TO {literal} (FORMAT parquet)")  # noqa: S608
            view = f"compact_{source}"
            self.engine.execute(f"CREATE OR REPLACE VIEW {quote(view)} AS SELECT * FROM read_parquet({literal})")  # noqa: S608
            files[f"{source}.parquet"] = path.read_bytes()
            raw[source] = Raw(view, dict(self.engine.columns(view)))
        compacted = DuckWarehouse(self.engine, raw)
        weakref.finalize(compacted, shutil.rmtree, folder, True)  # /tmp is small in Lambda: gone with its user
        return compacted, files


def _temporary() -> str:
    import tempfile

    return tempfile.gettempdir()


def _arrow_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding mixed Python types (ids read as numbers and text) as text, so Arrow takes them."""
    out = frame
    for column in frame.columns:
        if frame[column].dtype == object:
            values = frame[column]
            types = {type(v) for v in values.dropna().head(10_000)}
            if len(types) > 1:
                out = out if out is not frame else frame.copy()
                out[column] = values.where(values.isna(), values.astype(str))
    return out


def _new_engine() -> Any:
    from retail_platform.sql import SqlEngine

    return SqlEngine()


def _register(engine: Any, view: str, store: Any, prefix: str, keys: list[str] | None) -> dict[str, str] | None:
    """The schema of the parquet objects under `prefix` (only `keys` when given), registered as `view`; None
    when there are none."""
    from retail_platform.sql import SqlError

    try:
        engine.register(view, store, prefix, keys=keys)
    except SqlError:  # no parquet object under the prefix (and no schema for an empty view): absent
        return None
    return dict(engine.columns(view))
