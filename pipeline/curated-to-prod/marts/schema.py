"""Prod frames shaped by their contract: exactly its columns, fixed dtypes, rows in business-key order,
and the Arrow schema they are written with (derived from the contract alone, without pandas metadata,
so that a partition's bytes depend only on its rows)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa

from retail_platform.contracts import CanonicalDataset, load_prod

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


def conform(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The contract's columns, in its order, with fixed dtypes, sorted by partition and business key."""
    spec = contract(name)
    out = pd.DataFrame({c.name: _cast(frame[c.name], c.type) for c in spec.columns.values()})
    order = list(spec.business_key)
    if spec.partition_by and spec.partition_by not in order:
        order.insert(0, spec.partition_by)
    if order and not out.empty:
        out = out.sort_values(order, kind="mergesort", na_position="last")
    return out.reset_index(drop=True)


def empty(name: str) -> pd.DataFrame:
    spec = contract(name)
    return conform(pd.DataFrame({c: pd.Series(dtype=object) for c in spec.columns}), name)


def to_table(frame: pd.DataFrame, name: str) -> pa.Table:
    """Arrow table of a conformed frame with the contract's schema (no pandas metadata)."""
    schema = arrow_schema(name)
    arrays = [pa.array(frame[f.name], type=f.type, from_pandas=True) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)
