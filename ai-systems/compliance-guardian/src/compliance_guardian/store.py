"""Versioned model store in the artifacts bucket: models/compliance-guardian/<model>/<version>/ + current.json.

`current.json` names the serving version and the previous good ones; loading falls back along that
list when the current version cannot be read or parsed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from compliance_guardian import NAME
from compliance_guardian.exceptions import ModelUnavailableError
from retail_platform import s3io
from retail_platform.exceptions import PlatformError, StorageError
from retail_platform.observability import logger

T = TypeVar("T")
KEEP_PREVIOUS = 3


class ModelStore:
    def __init__(self, s3: Any, bucket: str, model: str) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = f"models/{NAME}/{model}/"

    def _pointer(self) -> dict[str, Any] | None:
        try:
            return s3io.read_json(self.s3, self.bucket, self.prefix + "current.json")
        except (PlatformError, ValueError, TypeError):
            return None

    def current_version(self) -> str | None:
        pointer = self._pointer()
        return pointer.get("version") if pointer else None

    def save(self, version: str, files: dict[str, bytes], metadata: dict[str, Any]) -> str:
        """Write a version's files, then move current.json to it (keeping the previous ones as fallbacks)."""
        for name, body in files.items():
            content_type = "application/json" if name.endswith(".json") else "application/octet-stream"
            s3io.write_bytes(self.s3, self.bucket, f"{self.prefix}{version}/{name}", body, content_type)
        pointer = self._pointer() or {}
        previous = [v for v in [pointer.get("version"), *pointer.get("previous", [])] if v and v != version]
        s3io.write_json(
            self.s3,
            self.bucket,
            self.prefix + "current.json",
            {
                "version": version,
                "previous": previous[:KEEP_PREVIOUS],
                "files": sorted(files),
                "metrics": metadata.get("metrics_holdout"),
            },
        )
        return version

    def read_files(self, version: str) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        for key in s3io.list_keys(self.s3, self.bucket, f"{self.prefix}{version}/"):
            files[key[len(self.prefix) + len(version) + 1 :]] = s3io.read_bytes(self.s3, self.bucket, key)
        if not files:
            raise StorageError(f"no files under s3://{self.bucket}/{self.prefix}{version}/")
        return files

    def load(self, loader: Callable[[dict[str, bytes]], T]) -> tuple[T, str]:
        """The current version through `loader`, else the newest previous one that loads."""
        pointer = self._pointer()
        if not pointer:
            raise ModelUnavailableError(f"no model at s3://{self.bucket}/{self.prefix}current.json")
        errors = []
        current = pointer.get("version")
        for version in [current, *pointer.get("previous", [])]:
            if not version:
                continue
            try:
                loaded = loader(self.read_files(version))
            except Exception as e:
                logger.warning("model version unreadable", extra={"model": self.prefix, "version": version})
                errors.append(f"{version}: {type(e).__name__}: {e}")
                continue
            if version != current:
                logger.warning("serving a previous model version", extra={"model": self.prefix, "version": version})
            return loaded, version
        raise ModelUnavailableError("no loadable model version: " + "; ".join(errors))
