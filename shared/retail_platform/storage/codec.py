"""JSON and Parquet in and out of a `BlobStore`; undecodable bytes become `CorruptObjectError`."""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from retail_platform.storage.blobstore import BlobStore
from retail_platform.storage.errors import CorruptObjectError

JSON_TYPE = "application/json"
PARQUET_TYPE = "application/vnd.apache.parquet"


def json_bytes(payload: Any) -> bytes:
    """The platform's JSON encoding (stable key order, so equal payloads give equal bytes)."""
    return json.dumps(payload, indent=2, sort_keys=True, default=str).encode()


def read_json(store: BlobStore, key: str) -> Any:
    body = store.get(key)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise CorruptObjectError(f"{store.bucket}/{key} is not valid JSON: {e}") from e


def write_json(store: BlobStore, key: str, payload: Any) -> None:
    store.put(key, json_bytes(payload), JSON_TYPE)


def parquet_bytes(data: pd.DataFrame | pa.Table, schema: pa.Schema | None = None) -> bytes:
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, schema=schema, preserve_index=False)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def read_table(store: BlobStore, key: str, columns: list[str] | None = None) -> pa.Table:
    """A Parquet object as an Arrow table (only `columns` that exist, when given)."""
    body = store.get(key)
    try:
        table = pq.read_table(io.BytesIO(body))
    except (pa.ArrowException, OSError) as e:
        raise CorruptObjectError(f"{store.bucket}/{key} is not valid Parquet: {e}") from e
    if columns:
        table = table.select([c for c in columns if c in table.column_names])
    return table


def read_parquet(store: BlobStore, key: str, columns: list[str] | None = None) -> pd.DataFrame:
    return read_table(store, key, columns).to_pandas()


def write_parquet(store: BlobStore, key: str, data: pd.DataFrame | pa.Table, schema: pa.Schema | None = None) -> None:
    store.put(key, parquet_bytes(data, schema), PARQUET_TYPE)
