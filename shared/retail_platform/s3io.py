"""S3 adapter: bytes, JSON and Parquet in and out, with ClientErrors turned into domain errors.

The older function-style API (raw-to-curated and the local run use it); new code takes a `BlobStore`
from `retail_platform.storage`, whose encodings and error classification these functions share.

Every function takes the boto3 client as an argument so that tests and the local run inject their own.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import ClientError

from retail_platform.storage import codec
from retail_platform.storage.blobstore import S3Client
from retail_platform.storage.errors import translate


def _translate(error: ClientError, bucket: str, key: str) -> Exception:
    return translate(error, f"s3://{bucket}/{key}")


def head(s3: S3Client, bucket: str, key: str) -> dict[str, Any]:
    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        raise _translate(e, bucket, key) from e


def read_bytes(s3: S3Client, bucket: str, key: str) -> bytes:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as e:
        raise _translate(e, bucket, key) from e


def download(s3: S3Client, bucket: str, key: str, path: str) -> None:
    """Stream an object to a local file (for files too big to hold in memory twice)."""
    try:
        s3.download_file(bucket, key, path)
    except ClientError as e:
        raise _translate(e, bucket, key) from e


class _BodyReader(io.RawIOBase):
    """A raw stream over a botocore StreamingBody, so it can be buffered and peeked."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


@contextmanager
def open_stream(s3: S3Client, bucket: str, key: str) -> Iterator[io.BufferedReader]:
    """Stream an object without holding it in memory."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as e:
        raise _translate(e, bucket, key) from e
    stream = io.BufferedReader(_BodyReader(body), buffer_size=1 << 20)
    try:
        yield stream
    finally:
        stream.close()


def copy(s3: S3Client, bucket: str, key: str, target_bucket: str, target_key: str) -> None:
    """Server-side copy (any size)."""
    try:
        s3.copy({"Bucket": bucket, "Key": key}, target_bucket, target_key)
    except ClientError as e:
        raise _translate(e, bucket, key) from e


def write_bytes(s3: S3Client, bucket: str, key: str, body: bytes, content_type: str) -> None:
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    except ClientError as e:
        raise _translate(e, bucket, key) from e


def read_json(s3: S3Client, bucket: str, key: str) -> Any:
    return json.loads(read_bytes(s3, bucket, key))


def write_json(s3: S3Client, bucket: str, key: str, payload: Any) -> None:
    write_bytes(s3, bucket, key, codec.json_bytes(payload), codec.JSON_TYPE)


def table_to_parquet_bytes(table: pa.Table) -> bytes:
    return codec.parquet_bytes(table)


def dataframe_to_parquet_bytes(frame: pd.DataFrame, schema: pa.Schema | None = None) -> bytes:
    return codec.parquet_bytes(frame, schema)


def write_parquet(s3: S3Client, bucket: str, key: str, frame: pd.DataFrame, schema: pa.Schema | None = None) -> None:
    write_bytes(s3, bucket, key, dataframe_to_parquet_bytes(frame, schema), "application/vnd.apache.parquet")


def write_parquet_table(s3: S3Client, bucket: str, key: str, table: pa.Table) -> None:
    write_bytes(s3, bucket, key, table_to_parquet_bytes(table), "application/vnd.apache.parquet")


def read_parquet(s3: S3Client, bucket: str, key: str) -> pd.DataFrame:
    return pq.read_table(io.BytesIO(read_bytes(s3, bucket, key))).to_pandas()


def list_keys(s3: S3Client, bucket: str, prefix: str) -> Iterator[str]:
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]
    except ClientError as e:
        raise _translate(e, bucket, prefix) from e


def read_parquet_prefix(s3: S3Client, bucket: str, prefix: str) -> pd.DataFrame:
    """All Parquet objects under a prefix as one frame (empty frame when there are none)."""
    frames = [
        read_parquet(s3, bucket, key) for key in sorted(list_keys(s3, bucket, prefix)) if key.endswith(".parquet")
    ]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def delete_keys(s3: S3Client, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        try:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
        except ClientError as e:
            raise _translate(e, bucket, chunk[0]) from e
