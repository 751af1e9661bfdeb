"""The `BlobStore` port (bytes by key under one bucket) with its S3 adapter and in-memory fake.

Both raise the same errors: `ObjectNotFoundError` for a missing key, `ThrottledError` when the store
refused for load (the S3 client's standard retry mode has already retried), `StorageError` otherwise.
"""

from __future__ import annotations

import builtins
import fnmatch
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from botocore.exceptions import ClientError

from retail_platform.storage.errors import ObjectNotFoundError, StorageError, translate

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = object

OCTET = "application/octet-stream"


@runtime_checkable
class BlobStore(Protocol):
    """Objects by key in one bucket."""

    @property
    def bucket(self) -> str: ...

    def get(self, key: str) -> bytes: ...

    def put(self, key: str, body: bytes, content_type: str = OCTET) -> None: ...

    def list(self, prefix: str) -> Iterator[str]: ...

    def delete(self, keys: Iterable[str]) -> None: ...

    def exists(self, key: str) -> bool: ...


class S3BlobStore:
    """`BlobStore` over an injected boto3 S3 client (retries come from the client's config, see `aws.client`)."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def _where(self, key: str) -> str:
        return f"s3://{self._bucket}/{key}"

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as e:
            raise translate(e, self._where(key)) from e

    def put(self, key: str, body: bytes, content_type: str = OCTET) -> None:
        try:
            self.client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)
        except ClientError as e:
            raise translate(e, self._where(key)) from e

    def list(self, prefix: str) -> Iterator[str]:
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"]
        except ClientError as e:
            raise translate(e, self._where(prefix)) from e

    def delete(self, keys: Iterable[str]) -> None:
        keys = builtins.list(keys)
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            try:
                self.client.delete_objects(
                    Bucket=self._bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
                )
            except ClientError as e:
                raise translate(e, self._where(chunk[0])) from e

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as e:
            error = translate(e, self._where(key))
            if isinstance(error, ObjectNotFoundError):
                return False
            raise error from e
        return True


class MemoryBlobStore:
    """In-memory `BlobStore` for tests and the local run, with the S3 adapter's errors.

    `fail(pattern, error, times)` makes calls on keys matching a glob raise `error` (e.g. a `ThrottledError`)
    for the next `times` calls (every call when None), so tests can exercise throttling and outages."""

    def __init__(self, bucket: str = "memory", objects: dict[str, bytes] | None = None) -> None:
        self._bucket = bucket
        self.objects: dict[str, bytes] = dict(objects or {})
        self.content_types: dict[str, str] = {}
        self._faults: builtins.list[tuple[str, Exception, int | None]] = []
        self._lock = threading.Lock()

    @property
    def bucket(self) -> str:
        return self._bucket

    def fail(self, pattern: str, error: Exception, times: int | None = None) -> None:
        self._faults.append((pattern, error, times))

    def _check(self, key: str) -> None:
        with self._lock:
            for index, (pattern, error, times) in enumerate(self._faults):
                if fnmatch.fnmatchcase(key, pattern):
                    if times is not None:
                        if times <= 1:
                            del self._faults[index]
                        else:
                            self._faults[index] = (pattern, error, times - 1)
                    raise error

    def get(self, key: str) -> bytes:
        self._check(key)
        try:
            return self.objects[key]
        except KeyError:
            raise ObjectNotFoundError(f"memory://{self._bucket}/{key} does not exist (NoSuchKey)") from None

    def put(self, key: str, body: bytes, content_type: str = OCTET) -> None:
        self._check(key)
        if not isinstance(body, bytes | bytearray):
            raise StorageError(f"memory://{self._bucket}/{key}: body must be bytes, not {type(body).__name__}")
        with self._lock:
            self.objects[key] = bytes(body)
            self.content_types[key] = content_type

    def list(self, prefix: str) -> Iterator[str]:
        self._check(prefix)
        with self._lock:
            keys = sorted(k for k in self.objects if k.startswith(prefix))
        yield from keys

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._check(key)
            with self._lock:
                self.objects.pop(key, None)
                self.content_types.pop(key, None)

    def exists(self, key: str) -> bool:
        self._check(key)
        return key in self.objects
