"""Audit of datasets (curated and prod) for card data: findings by dataset, column, row and position."""

from __future__ import annotations

from typing import Any

import pandas as pd

from retail_platform import s3io
from retail_platform.pii import sensitive
from retail_platform.storage.blobstore import S3Client

FINDING_COLUMNS = ("dataset", "partition", "key", "column", "row", "kind", "start", "end", "brand", "confidence")


def audit_frame(frame: pd.DataFrame, dataset: str, partition: str = "", key: str = "") -> pd.DataFrame:
    """Every card-data finding in the string columns of a frame (the value itself is never kept)."""
    rows: list[dict[str, Any]] = []
    for column in frame.columns:
        series = frame[column]
        if series.dtype != object and not pd.api.types.is_string_dtype(series):
            if pd.api.types.is_integer_dtype(series):
                series = series.astype(str)  # a PAN stored as a number
            else:
                continue
        text = series.dropna()
        text = text[text.map(lambda v: isinstance(v, str) and sum(ch.isdigit() for ch in v) >= 12)]
        for row, value in text.items():
            for f in sensitive.find_card_data(value):
                rows.append(
                    {
                        "dataset": dataset,
                        "partition": partition,
                        "key": key,
                        "column": str(column),
                        "row": int(row),
                        "kind": f.kind,
                        "start": f.start,
                        "end": f.end,
                        "brand": f.brand,
                        "confidence": f.confidence,
                    }
                )
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))


def audit_prefix(s3: S3Client, bucket: str, prefix: str, dataset: str, max_objects: int = 500) -> pd.DataFrame:
    """Audit every Parquet object under a prefix (e.g. one partition of a dataset)."""
    frames = []
    for n, key in enumerate(k for k in s3io.list_keys(s3, bucket, prefix) if k.endswith(".parquet")):
        if n >= max_objects:
            break
        partition = next((part for part in key.split("/") if part.startswith("date=")), "")
        frames.append(audit_frame(s3io.read_parquet(s3, bucket, key), dataset, partition.removeprefix("date="), key))
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(FINDING_COLUMNS))
