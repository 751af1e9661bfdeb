"""Curated inputs as SQL: each curated dataset normalised (canonical columns typed, one row per business key,
`_date`, custom attributes), and the order-line facts the sales marts share.

Same rules as `marts.curated.normalise` (and the pandas marts before, tests/reference): the version from the last
`_source_key` (then `_source_row`) wins; numbers are DOUBLE; a row's `_date` is the UTC day of its
partition column. The text is DuckDB SQL in the subset Trino shares (no QUALIFY, no GROUP BY ALL), so the
same CTEs run on Athena over the catalogued `curated_<dataset>` tables.
"""

# ruff: noqa: S608 - this module generates SQL: identifiers quoted, data values escaped literals, run values bound
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from marts.attributes import PREFIX
from retail_platform.contracts import load_canonical
from retail_platform.sql import quote_identifier as q

LINEAGE = ("_source_key", "_source_row")
MEASURE_KINDS = ("int", "float")
HIVE_COLUMNS = ("month",)  # partition columns a scan may add; never attributes
OBJECT = "_object"  # a scan's column of each row's object (DuckDB's `filename`): the last object wins a tie


@dataclass(frozen=True)
class Attribute:
    """A custom attribute column: its curated name and kind (contract type it is written as)."""

    name: str
    kind: str

    @property
    def carried(self) -> str:
        return PREFIX + self.name

    @property
    def measure(self) -> bool:
        return self.kind in MEASURE_KINDS


def kind_of(sql_type: str) -> str:
    """The attribute kind of a DuckDB column type (as `attributes.kind` tells it from a pandas dtype)."""
    t = sql_type.upper()
    if t == "BOOLEAN":
        return "bool"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return "int"
    if t in ("FLOAT", "DOUBLE", "REAL") or t.startswith("DECIMAL"):
        return "float"
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return "timestamp"
    if t.startswith("TIMESTAMP") or t == "DATE":
        return "date"
    return "string"


_CASTS = {
    "int": "TRY_CAST({c} AS DOUBLE)",
    "float": "TRY_CAST({c} AS DOUBLE)",
    "bool": "TRY_CAST({c} AS BOOLEAN)",
    "timestamp": "TRY_CAST({c} AS TIMESTAMPTZ)",
    "date": "CAST(date_trunc('day', TRY_CAST({c} AS TIMESTAMP)) AS TIMESTAMP)",
}
_ATTRIBUTE_CASTS = {
    "bool": "CAST({c} AS BOOLEAN)",
    "int": "CAST({c} AS BIGINT)",
    "float": "CAST({c} AS DOUBLE)",
    "timestamp": "CAST({c} AS TIMESTAMPTZ)",
    "date": "CAST({c} AS TIMESTAMP)",
    "string": "CAST({c} AS VARCHAR)",
}


def attributes_of(dataset: str, columns: Mapping[str, str]) -> list[Attribute]:
    """The custom attributes among a curated view's (column -> type), sorted by name."""
    canonical = load_canonical(dataset).columns
    names = sorted(c for c in columns if c not in canonical and not c.startswith("_") and c not in HIVE_COLUMNS)
    return [Attribute(n, kind_of(columns[n])) for n in names]


def day_of(column: str) -> str:
    """SQL of the UTC day (a TIMESTAMP at midnight) of a typed partition column (the session is in UTC)."""
    return f"CAST(date_trunc('day', {column}) AS TIMESTAMP)"


def normalised(
    dataset: str, source: str, columns: Mapping[str, str], window: bool = True
) -> tuple[str, list[Attribute]]:
    """SELECT of a curated dataset normalised, from the relation `source` with (column -> type) `columns`.

    `window`: keep only rows whose `_date` lies in [$lo, $hi] (bound parameters; partitioned datasets)."""
    spec = load_canonical(dataset)
    attrs = attributes_of(dataset, columns)
    typed = []
    for name, column in spec.columns.items():
        raw = q(name) if name in columns else "NULL"
        cast = _CASTS.get(column.type, "CAST({c} AS VARCHAR)")
        typed.append(f"{cast.format(c=raw)} AS {q(name)}")
    source_key = "CAST(_source_key AS VARCHAR)" if "_source_key" in columns else "CAST(NULL AS VARCHAR)"
    source_row = "TRY_CAST(_source_row AS BIGINT)" if "_source_row" in columns else "CAST(NULL AS BIGINT)"
    typed.append(f"coalesce({source_key}, '') AS _source_key")
    typed.append(f"coalesce({source_row}, -1) AS _source_row")
    typed += [f"{_ATTRIBUTE_CASTS[a.kind].format(c=q(a.name))} AS {q(a.carried)}" for a in attrs]
    tie = ""
    if OBJECT in columns:  # two versions with the same lineage (the same raw object curated twice)
        typed.append(f"CAST({OBJECT} AS VARCHAR) AS {OBJECT}")
        tie = f", {OBJECT} DESC"
    partition = spec.partition_by
    names = [*spec.columns, *LINEAGE, *(a.carried for a in attrs)]
    if partition:
        names.append("_date")
        inner = f"SELECT *, {day_of(q(partition))} AS _date FROM (SELECT {', '.join(typed)} FROM {source}) AS t"
        if window:
            inner += f" WHERE {day_of(q(partition))} BETWEEN $lo AND $hi"
    else:
        inner = f"SELECT {', '.join(typed)} FROM {source}"
    outer = ", ".join(q(n) for n in names)
    if not spec.business_key:
        return f"SELECT {outer} FROM ({inner}) AS typed", attrs
    key = ", ".join(q(k) for k in spec.business_key)
    ranked = (
        f"SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _source_key DESC, _source_row DESC{tie}) "
        f"AS _version FROM ({inner}) AS typed"
    )
    return f"SELECT {outer} FROM ({ranked}) AS ranked WHERE _version = 1", attrs


def facts(line_attributes: list[Attribute], source: str = "norm_order_lines") -> str:
    """One row per order line with signed and sale-only measures (a cancellation line counts on its own
    day, negative); `_seq`
    orders the lines of a day as the pandas marts did (order id, line number, SKU)."""
    extra = "".join(f", {q(a.carried)}" for a in line_attributes)
    return f"""
SELECT
  _date AS date, order_id, line_no, order_ts, sku, description, country, currency, customer_id,
  cancel AS is_cancellation, promo, qty, amount,
  CASE WHEN cancel THEN 0.0 ELSE qty END AS gross_qty,
  CASE WHEN cancel THEN 0.0 ELSE amount END AS gross_amount,
  CASE WHEN cancel THEN NULL ELSE order_id END AS sale_order,
  CASE WHEN cancel THEN NULL ELSE customer_id END AS sale_customer,
  CASE WHEN cancel THEN order_id ELSE NULL END AS cancel_order,
  row_number() OVER (PARTITION BY _date ORDER BY order_id NULLS LAST, line_no NULLS LAST, sku NULLS LAST) AS _seq
  {extra}
FROM (
  SELECT *, coalesce(is_cancellation, FALSE) AS cancel, coalesce(promo_flag, FALSE) AS promo,
    coalesce(quantity, 0.0) AS qty, coalesce(quantity, 0.0) * coalesce(unit_price, 0.0) AS amount
  FROM {source}
) AS l"""
