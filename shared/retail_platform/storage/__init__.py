"""Storage ports of the platform: `BlobStore` (S3 adapter and in-memory fake), `VersionedArtifacts`
(the one versioned model store) and `PartitionedDataset` (a dataset's day or month partitions).

Names are imported on first use (PEP 562), so a module that only needs the `S3Client` type or the
errors does not pay for pandas and pyarrow at cold start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOMES = {
    "VersionedArtifacts": "artifacts",
    "BlobStore": "blobstore",
    "MemoryBlobStore": "blobstore",
    "S3BlobStore": "blobstore",
    "S3Client": "blobstore",
    "read_json": "codec",
    "read_parquet": "codec",
    "write_json": "codec",
    "write_parquet": "codec",
    "CorruptObjectError": "errors",
    "ObjectNotFoundError": "errors",
    "StorageError": "errors",
    "ThrottledError": "errors",
    "DEFAULT_GRAIN": "partitions",
    "PartitionedDataset": "partitions",
    "month_of": "partitions",
    "months_of": "partitions",
    "overlaps": "partitions",
    "period_of": "partitions",
    "SystemStores": "stores",
}

__all__ = [  # noqa: RUF022 - same order as _HOMES
    "VersionedArtifacts",
    "BlobStore",
    "MemoryBlobStore",
    "S3BlobStore",
    "S3Client",
    "read_json",
    "read_parquet",
    "write_json",
    "write_parquet",
    "CorruptObjectError",
    "ObjectNotFoundError",
    "StorageError",
    "ThrottledError",
    "DEFAULT_GRAIN",
    "PartitionedDataset",
    "month_of",
    "months_of",
    "overlaps",
    "period_of",
    "SystemStores",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)


if TYPE_CHECKING:
    from retail_platform.storage.artifacts import VersionedArtifacts
    from retail_platform.storage.blobstore import BlobStore, MemoryBlobStore, S3BlobStore, S3Client
    from retail_platform.storage.codec import read_json, read_parquet, write_json, write_parquet
    from retail_platform.storage.errors import CorruptObjectError, ObjectNotFoundError, StorageError, ThrottledError
    from retail_platform.storage.partitions import (
        DEFAULT_GRAIN,
        PartitionedDataset,
        month_of,
        months_of,
        overlaps,
        period_of,
    )
