"""Byte-deterministic file writers: CSV (any delimiter/encoding), JSON Lines, Parquet, optional gzip."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def gzip_bytes(data: bytes) -> bytes:
    """gzip without a timestamp or file name in the header, so equal input gives equal bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()


def csv_bytes(df: pd.DataFrame, *, delimiter: str = ",", encoding: str = "utf-8", quotechar: str = '"') -> bytes:
    """CSV with a header row and '\\n' line ends; None/NaN written as empty fields."""
    text = df.to_csv(index=False, sep=delimiter, quotechar=quotechar, lineterminator="\n", na_rep="")
    return text.encode(encoding)


def jsonl_bytes(df: pd.DataFrame) -> bytes:
    """One JSON object per line (keys in column order, None -> null, non-ASCII kept as UTF-8)."""
    if df.empty:
        return b""
    text = df.to_json(orient="records", lines=True, force_ascii=False)
    text = text.replace("\\/", "/")  # pandas escapes '/', which no other JSON writer does
    if not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


def parquet_bytes(df: pd.DataFrame, schema: pa.Schema) -> bytes:
    """Parquet (snappy) with an explicit schema and no pandas metadata."""
    table = pa.Table.from_pandas(df, schema=schema, preserve_index=False).replace_schema_metadata(None)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy")
    return buf.getvalue()


def write(out_dir: Path, key: str, data: bytes) -> None:
    """Write data to out_dir/key (key = the raw object key), gzip-compressing when the key ends in .gz."""
    path = out_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip_bytes(data) if key.endswith(".gz") else data)
