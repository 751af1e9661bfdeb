"""Storage ports of the platform: `BlobStore` (S3 adapter and in-memory fake), `VersionedArtifacts`
(the one versioned model store) and `PartitionedDataset` (a dataset's date partitions at one grain)."""

from __future__ import annotations

from retail_platform.storage.artifacts import VersionedArtifacts
from retail_platform.storage.blobstore import BlobStore, MemoryBlobStore, S3BlobStore
from retail_platform.storage.codec import read_json, read_parquet, write_json, write_parquet
from retail_platform.storage.errors import CorruptObjectError, ObjectNotFoundError, StorageError, ThrottledError
from retail_platform.storage.partitions import DEFAULT_GRAIN, PartitionedDataset

__all__ = [
    "DEFAULT_GRAIN",
    "BlobStore",
    "CorruptObjectError",
    "MemoryBlobStore",
    "ObjectNotFoundError",
    "PartitionedDataset",
    "S3BlobStore",
    "StorageError",
    "ThrottledError",
    "VersionedArtifacts",
    "read_json",
    "read_parquet",
    "write_json",
    "write_parquet",
]
