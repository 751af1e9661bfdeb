"""Custom attributes: curated columns that are not canonical columns of their dataset (interfaces #4).

A source contract's `attributes:` (region, segment, profit, ...) reach curated as extra columns with the
user's names. The marts carry them into the prod datasets under the same names: string, bool and date
attributes are dimensions (grouped by, or an order's first value), numeric ones are measures (summed,
null when every value summed is null). Inside the marts they travel with the PREFIX so that no name a user
picks can collide with the marts' own working columns ('amount', 'date', ...); `schema.conform` strips it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd
from pandas.core.groupby import DataFrameGroupBy

from retail_platform.contracts import load_canonical

PREFIX = "@"
MEASURE_KINDS = ("int", "float")


def extra_names(columns: Iterable[str], dataset: str) -> list[str]:
    """The custom attributes among a curated dataset's column names, sorted (lineage and other `_` columns
    are not attributes)."""
    canonical = load_canonical(dataset).columns
    return sorted(str(c) for c in columns if c not in canonical and not str(c).startswith("_"))


def extra_columns(frame: pd.DataFrame, dataset: str) -> list[str]:
    """The custom attribute columns of a curated frame, sorted."""
    return extra_names(frame.columns, dataset)


def normalised(values: pd.Series) -> pd.Series:
    """An attribute column with one dtype per kind: float64, Int64, boolean, datetime64 or object strings."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.astype("Int64")
    if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values
    present = values.dropna()
    if len(present) and present.map(lambda v: isinstance(v, dt.date)).all():
        return pd.to_datetime(values, errors="coerce", utc=True).dt.tz_localize(None).astype("datetime64[ns]")
    if len(present) and present.map(lambda v: isinstance(v, bool | np.bool_)).all():
        return values.astype("boolean")
    return values.astype(object).where(values.notna(), None)


_KIND_TESTS = (
    ("bool", pd.api.types.is_bool_dtype),
    ("int", pd.api.types.is_integer_dtype),
    ("float", pd.api.types.is_float_dtype),
    ("timestamp", lambda dtype: isinstance(dtype, pd.DatetimeTZDtype)),
    ("date", pd.api.types.is_datetime64_any_dtype),
)


def kind(values: pd.Series) -> str:
    """The contract type an attribute column is written as (string unless its dtype says otherwise)."""
    return next((name for name, test in _KIND_TESTS if test(values.dtype)), "string")


def prefixed(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """A normalised curated frame's attributes as PREFIX-named columns (same index)."""
    names = extra_columns(frame, dataset)
    return pd.DataFrame({PREFIX + n: frame[n] for n in names}, index=frame.index)


def carried(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if str(c).startswith(PREFIX)]


def split(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(dimensions, measures) among a frame's PREFIX columns."""
    columns = carried(frame)
    measures = [c for c in columns if kind(frame[c]) in MEASURE_KINDS]
    return [c for c in columns if c not in measures], measures


def by_key(frame: pd.DataFrame, dataset: str, key: str) -> pd.DataFrame:
    """`key` + PREFIX attribute columns of a lookup dataset (products by sku, ...), one row per key."""
    attrs = prefixed(frame, dataset)
    if attrs.empty and not len(attrs.columns):
        return pd.DataFrame({key: pd.Series(dtype=object)})
    lookup = pd.concat([frame[[key]], attrs], axis=1).dropna(subset=[key])
    return lookup.drop_duplicates(key, keep="last")


def join(frame: pd.DataFrame, lookup: pd.DataFrame, key: str) -> pd.DataFrame:
    """`frame` with the lookup's attributes of each row's key (an attribute already carried is kept)."""
    new = [c for c in lookup.columns if c != key and c not in frame.columns]
    if not new:
        return frame
    return frame.merge(lookup[[key, *new]], on=key, how="left", sort=False)


def with_sums(frame: pd.DataFrame, grouped: DataFrameGroupBy, measures: list[str]) -> pd.DataFrame:
    """`frame` (indexed like `grouped`) plus the measures summed per group; null where a group has no value
    at all (not a made-up zero)."""
    return frame.join(grouped[measures].sum(min_count=1)) if measures else frame


def with_firsts(frame: pd.DataFrame, grouped: DataFrameGroupBy, dimensions: list[str]) -> pd.DataFrame:
    """`frame` (indexed like `grouped`) plus each dimension's first non-null value per group."""
    return frame.join(grouped[dimensions].first()) if dimensions else frame
