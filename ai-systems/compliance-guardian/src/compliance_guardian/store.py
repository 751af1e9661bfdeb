"""compliance-guardian's storage: the buckets it reads and writes (`Buckets`, injectable so that the batch
paths run on `MemoryBlobStore` in tests), and its models in the artifacts bucket,
models/compliance-guardian/<model>/<version>/ + current.json, kept by the platform's `VersionedArtifacts`
(fallback to the last good version included).

This module only adds the system's layout, its pointer fields and its `ModelUnavailableError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from compliance_guardian import NAME
from compliance_guardian.exceptions import ModelUnavailableError
from retail_platform.storage import BlobStore, S3BlobStore, VersionedArtifacts
from retail_platform.storage.blobstore import S3Client

T = TypeVar("T")
KEEP_PREVIOUS = 3


@dataclass(frozen=True)
class Buckets:
    """The stores of the prod, curated and artifacts buckets (S3 in the function, any `BlobStore` in tests)."""

    prod: BlobStore
    curated: BlobStore
    artifacts: BlobStore

    @classmethod
    def of(cls, s3: S3Client | Buckets, settings: Any) -> Buckets:
        """`s3` itself when it already is a `Buckets`, else S3 stores of the settings' buckets over that client."""
        if isinstance(s3, Buckets):
            return s3
        return cls(
            S3BlobStore(s3, settings.prod_bucket),
            S3BlobStore(s3, settings.curated_bucket),
            S3BlobStore(s3, settings.artifacts_bucket),
        )


class ModelStore:
    """One model's versions (`fraud`, `text`) with compliance-guardian's pointer fields and errors."""

    def __init__(self, s3: S3Client | BlobStore, bucket: str, model: str) -> None:
        store = s3 if isinstance(s3, BlobStore) else S3BlobStore(s3, bucket)
        self.artifacts = VersionedArtifacts(store, f"models/{NAME}/{model}/", keep_previous=KEEP_PREVIOUS)
        self.bucket = bucket
        self.prefix = self.artifacts.prefix

    def current_version(self) -> str | None:
        return self.artifacts.current()

    def has_version(self, version: str) -> bool:
        return self.artifacts.has(version)

    def save(self, version: str, files: dict[str, bytes], metadata: dict[str, Any]) -> str:
        """Write a version's files, then move current.json to it (keeping the previous ones as fallbacks)."""
        self.artifacts.publish(version, files, files=sorted(files), metrics=metadata.get("metrics_holdout"))
        return version

    def read_files(self, version: str) -> dict[str, bytes]:
        return self.artifacts.read(version)

    def load(self, loader: Callable[[dict[str, bytes]], T]) -> tuple[T, str]:
        """The current version through `loader`, else the newest previous one that loads."""
        pointer = self.artifacts.pointer()
        if not pointer:
            raise ModelUnavailableError(f"no model at s3://{self.bucket}/{self.artifacts.pointer_key}")
        loaded = self.artifacts.load(lambda version: loader(self.read_files(version)), pointer, (Exception,))
        if loaded is None:
            raise ModelUnavailableError(f"no loadable model version under s3://{self.bucket}/{self.prefix}")
        return loaded
