"""`ParquetMirror`: objects of a `BlobStore` copied into a local directory that DuckDB scans.

DuckDB reads local files with projection and filter pushdown; reaching S3 itself would need its httpfs
extension (a download at run time, credentials and endpoint wiring that differ between moto, the local
endpoint and Lambda). Mirroring through the platform's own `BlobStore` works the same everywhere, and the
cache makes a second run in a warm Lambda (or the local run) fetch only what changed.

The cache is keyed by object key and fingerprint: ETag and size from the S3 listing (one list call per
prefix, no HEAD per object), or a digest of the bytes for stores that have no listing metadata (the
in-memory fake). Local paths keep the object keys, so hive partitions (`month=2024-03/`) stay visible.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from retail_platform.storage.blobstore import BlobStore, S3BlobStore
from retail_platform.storage.errors import translate

# /tmp in Lambda; one directory per process, so that two processes never race on one manifest
DEFAULT_CACHE = Path(tempfile.gettempdir()) / f"retail-sql-cache-{os.getpid()}"
MANIFEST = ".fingerprints.json"
FETCH_THREADS = 16


def _digest(body: bytes) -> str:
    return "sha1:" + hashlib.sha1(body, usedforsecurity=False).hexdigest() + f"/{len(body)}"


def listed(store: BlobStore, prefix: str) -> Iterator[tuple[str, str | None]]:
    """(key, fingerprint) under `prefix`: ETag/size when the store lists them, else None (fetch to know)."""
    if isinstance(store, S3BlobStore):
        try:
            pages = store.client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"], f"etag:{item.get('ETag', '').strip(chr(34))}/{item.get('Size', -1)}"
        except ClientError as e:
            raise translate(e, f"s3://{store.bucket}/{prefix}") from e
        return
    for key in store.list(prefix):
        yield key, None


class ParquetMirror:
    """A local copy of some objects of one store, refreshed by fingerprint (thread-safe)."""

    def __init__(self, store: BlobStore, cache_dir: str | os.PathLike[str] | None = None) -> None:
        self.store = store
        self.root = Path(cache_dir or DEFAULT_CACHE) / _safe(store.bucket)
        self.root.mkdir(parents=True, exist_ok=True)
        self._manifest_path = self.root / MANIFEST
        self._lock = threading.Lock()
        self._fingerprints: dict[str, str] = self._load_manifest()
        self.fetched = 0  # objects downloaded by this mirror (a warm cache fetches none)

    def _load_manifest(self) -> dict[str, str]:
        try:
            data = json.loads(self._manifest_path.read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _save_manifest(self) -> None:
        tmp = self._manifest_path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(self._fingerprints, sort_keys=True))
        tmp.replace(self._manifest_path)

    def path(self, key: str) -> Path:
        """The local file of `key` (inside the mirror's root whatever the key holds)."""
        target = (self.root / key).resolve()
        if self.root.resolve() not in target.parents:
            raise ValueError(f"object key {key!r} escapes the cache directory")
        return target

    def sync(
        self,
        prefix: str,
        keys: Iterable[str] | None = None,
        where: Callable[[str], bool] | None = None,
        suffix: str = ".parquet",
    ) -> list[Path]:
        """Local files of the objects under `prefix` ending with `suffix` (only `keys` among them, and only
        keys `where` accepts, when given), fetching new or changed ones; local files of objects gone from
        the prefix are removed."""
        present = {k: fp for k, fp in listed(self.store, prefix) if k.endswith(suffix)}
        wanted = sorted(k for k in (present if keys is None else set(keys) & set(present)) if where is None or where(k))
        self._drop_gone(prefix, set(present))
        with ThreadPoolExecutor(max_workers=max(1, min(FETCH_THREADS, len(wanted) or 1))) as pool:
            paths = list(pool.map(lambda key: self._refresh(key, present[key]), wanted))
        with self._lock:
            self._save_manifest()
        return paths

    def _refresh(self, key: str, fingerprint: str | None) -> Path:
        target = self.path(key)
        with self._lock:
            known = self._fingerprints.get(key)
        if fingerprint is not None and known == fingerprint and target.exists():
            return target
        body = self.store.get(key)
        if fingerprint is None:  # no listing metadata: the bytes are the fingerprint
            fingerprint = _digest(body)
            if known == fingerprint and target.exists():
                return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(body)
        tmp.replace(target)
        with self._lock:
            self._fingerprints[key] = fingerprint
            self.fetched += 1
        return target

    def _drop_gone(self, prefix: str, present: set[str]) -> None:
        with self._lock:
            gone = [k for k in self._fingerprints if k.startswith(prefix) and k not in present]
            for key in gone:
                self._fingerprints.pop(key, None)
                self.path(key).unlink(missing_ok=True)

    def describe(self) -> dict[str, Any]:
        return {"root": str(self.root), "objects": len(self._fingerprints), "fetched": self.fetched}


def _safe(bucket: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in bucket) or "bucket"
