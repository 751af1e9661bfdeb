"""`SystemStores`: the two stores an AI system works on, prod (its inputs and results) and artifacts (its models
and serving documents). S3 in the function; any `BlobStore` (e.g. `MemoryBlobStore`) in tests."""

from __future__ import annotations

from dataclasses import dataclass

from retail_platform.storage.blobstore import BlobStore, S3BlobStore, S3Client


@dataclass(frozen=True)
class SystemStores:
    prod: BlobStore
    artifacts: BlobStore

    @classmethod
    def on_s3(cls, s3: S3Client, prod_bucket: str, artifacts_bucket: str) -> SystemStores:
        return cls(S3BlobStore(s3, prod_bucket), S3BlobStore(s3, artifacts_bucket))
