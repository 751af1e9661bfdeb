"""Prod frames shaped by their contract: its columns, fixed dtypes, rows in business-key order, and the
Arrow schema they are written with (derived from the contract alone, without pandas metadata, so that a
partition's bytes depend only on its rows).

Custom attributes (`attributes.PREFIX` columns of a mart frame) follow the contract's columns, sorted by
name, without the prefix; their Arrow types follow from their dtypes. An attribute named like a contract
column is not written twice (a line's `category` fills the contract's `category`).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa

from marts import attributes
from retail_platform.contracts import CanonicalDataset, load_prod

REPORTING_COLUMN = "reporting_currency"

_ARROW = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.timestamp("ns"),
    "timestamp": pa.timestamp("ns", tz="UTC"),
}


def contract(name: str) -> CanonicalDataset:
    return load_prod(name)


@cache
def arrow_schema(name: str) -> pa.Schema:
    spec = contract(name)
    # nullable throughout: `required` is checked by the tests, a stray null must not fail a whole rebuild
    return pa.schema([pa.field(c.name, _ARROW.get(c.type, pa.string()), nullable=True) for c in spec.columns.values()])


def _cast(values: pd.Series, kind: str) -> pd.Series:
    if kind == "int":
        return pd.to_numeric(values, errors="coerce").round().astype("Int64")
    if kind == "float":
        return pd.to_numeric(values, errors="coerce").astype("float64").replace([np.inf, -np.inf], np.nan)
    if kind == "bool":
        return values.astype("boolean")
    if kind == "date":
        return pd.to_datetime(values).astype("datetime64[ns]")
    if kind == "timestamp":
        return pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")
    return values.astype(object).where(values.notna(), None)


def _extras(frame: pd.DataFrame, spec: CanonicalDataset) -> dict[str, pd.Series]:
    """Attribute columns by prod name (sorted), cast to their kind's prod dtype."""
    columns = {c[len(attributes.PREFIX) :]: c for c in attributes.carried(frame)}
    return {
        name: _cast(frame[column], attributes.kind(frame[column]))
        for name, column in sorted(columns.items())
        if name not in spec.columns
    }


def conform(frame: pd.DataFrame, name: str, reporting: str | None = None) -> pd.DataFrame:
    """The contract's columns, in its order, with fixed dtypes, then the custom attributes; sorted by
    partition, business key and the attribute dimensions. `reporting`: the `reporting_currency` value."""
    spec = contract(name)
    if REPORTING_COLUMN in spec.columns:
        frame = frame.assign(**{REPORTING_COLUMN: reporting})
    out = pd.DataFrame({c.name: _cast(frame[c.name], c.type) for c in spec.columns.values()})
    extras = _extras(frame, spec)
    for column, values in extras.items():
        out[column] = values
    order = list(spec.business_key)
    if spec.partition_by and spec.partition_by not in order:
        order.insert(0, spec.partition_by)
    order += [c for c, v in extras.items() if attributes.kind(v) not in attributes.MEASURE_KINDS]
    if order and not out.empty:
        out = out.sort_values(order, kind="mergesort", na_position="last")
    return out.reset_index(drop=True)


def empty(name: str) -> pd.DataFrame:
    spec = contract(name)
    return conform(pd.DataFrame({c: pd.Series(dtype=object) for c in spec.columns}), name)


def frame_schema(frame: pd.DataFrame, name: str) -> pa.Schema:
    """The contract's schema plus a field per attribute column of a conformed frame."""
    schema = arrow_schema(name)
    extras = [c for c in frame.columns if c not in schema.names]
    fields = [pa.field(c, _ARROW.get(attributes.kind(frame[c]), pa.string()), nullable=True) for c in extras]
    return pa.schema([*schema, *fields]) if fields else schema


def to_table(frame: pd.DataFrame, name: str) -> pa.Table:
    """Arrow table of a conformed frame with the contract's schema and its attributes (no pandas metadata)."""
    schema = frame_schema(frame, name)
    arrays = [pa.array(frame[f.name], type=f.type, from_pandas=True) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


# ---------------------------------------------------------------------- the same conformance, in SQL

_SQL_CASTS = {
    "int": "CAST(round({c}) AS BIGINT)",
    "float": "CASE WHEN isfinite({c}) THEN CAST({c} AS DOUBLE) END",  # inf and NaN are missing, as above
    "bool": "CAST({c} AS BOOLEAN)",
    "date": "CAST({c} AS TIMESTAMP)",
    "timestamp": "CAST({c} AS TIMESTAMPTZ)",
    "string": "CAST({c} AS VARCHAR)",
}


def arrow_kind(field_type: pa.DataType) -> str:
    """The contract type an attribute of this Arrow type is written as (`attributes.kind` for a frame)."""
    if pa.types.is_boolean(field_type):
        return "bool"
    if pa.types.is_integer(field_type):
        return "int"
    if pa.types.is_floating(field_type) or pa.types.is_decimal(field_type):
        return "float"
    if pa.types.is_timestamp(field_type):
        return "timestamp" if field_type.tz else "date"
    if pa.types.is_date(field_type):
        return "date"
    return "string"


def conformed(name: str, working: str, shape: pa.Schema) -> tuple[str, pa.Schema]:
    """`conform` as SQL over a mart's working query (whose result has the Arrow schema `shape`): the text of
    the conformed SELECT ($reporting bound to the reporting currency) and the schema its result is cast to.
    Rows and values equal `to_table(conform(frame))` of the same query (tests/unit/test_curated_to_prod_sql.py)."""
    from retail_platform.sql import quote_identifier as q

    spec = contract(name)
    select = []
    for column in spec.columns.values():
        if column.name == REPORTING_COLUMN:
            select.append(f"CAST($reporting AS VARCHAR) AS {q(column.name)}")
        else:
            select.append(
                _SQL_CASTS.get(column.type, _SQL_CASTS["string"]).format(c=f"m.{q(column.name)}")
                + f" AS {q(column.name)}"
            )
    extras = sorted(
        (f.name[len(attributes.PREFIX) :], f.name, arrow_kind(f.type))
        for f in shape
        if f.name.startswith(attributes.PREFIX) and f.name[len(attributes.PREFIX) :] not in spec.columns
    )
    select += [f"{_SQL_CASTS[kind].format(c=f'm.{q(column)}')} AS {q(out)}" for out, column, kind in extras]
    order = list(spec.business_key)
    if spec.partition_by and spec.partition_by not in order:
        order.insert(0, spec.partition_by)
    order += [out for out, _, kind in extras if kind not in attributes.MEASURE_KINDS]
    text = f"SELECT {', '.join(select)} FROM ({working}) AS m"  # noqa: S608 - quoted names of our own query
    if order:
        text += " ORDER BY " + ", ".join(f"{q(c)} ASC NULLS LAST" for c in order)
    fields = [pa.field(out, _ARROW.get(kind, pa.string()), nullable=True) for out, _, kind in extras]
    return text, pa.schema([*arrow_schema(name), *fields])


def cast_to(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A conformed query's Arrow result with the prod schema (nanosecond timestamps, no metadata)."""
    arrays = [table.column(f.name).cast(f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema).combine_chunks()
