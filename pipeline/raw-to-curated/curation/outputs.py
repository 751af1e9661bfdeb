"""Write a curation's outputs to the curated bucket: partitions (`curation.partitioning`), quarantine, report,
manifest.

Every name derives from the raw object's id, and a manifest lists what the last run wrote, so a
re-run overwrites its own files and deletes the ones it no longer produces: idempotent, no duplicates.

Parts are encoded and uploaded on a few threads (Parquet encoding releases the GIL; a PUT waits on the
network), at most `max_in_flight` at a time so memory stays bounded: a big file makes many partitions,
which one at a time would cost a round trip each. `flush` waits for them all and
raises the first failure; the report and manifest are written only after it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from retail_platform import s3io
from retail_platform.exceptions import ObjectNotFoundError
from retail_platform.storage.blobstore import S3BlobStore, S3Client
from retail_platform.storage.partitions import PartitionedDataset, grain_of


@dataclass
class S3Sink:
    """Writes each output part as it is produced (memory stays bounded by one part)."""

    s3: S3Client
    bucket: str
    dataset: str
    oid: str
    written: list[str] = field(default_factory=list)
    partitions: set[str] = field(default_factory=set)
    max_in_flight: int = 8
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)
    _pending: list[Future] = field(default_factory=list, repr=False)

    def curated(self, label: str, part: int, table: pa.Table) -> None:
        """Put one part of the partition `label` (a day or month label; "" for an unpartitioned dataset)."""
        name = f"part-{self.oid}-{part:05d}.parquet"
        if label:
            dataset = PartitionedDataset(S3BlobStore(self.s3, self.bucket), self.dataset, grain_of(label))
            key = dataset.key(label, name)
            self.partitions.add(label)
        else:
            key = f"{self.dataset}/{name}"
        self._submit(key, lambda: s3io.write_parquet_table(self.s3, self.bucket, key, table))

    def quarantine(self, part: int, frame: pd.DataFrame) -> None:
        key = f"_quarantine/{self.dataset}/part-{self.oid}-{part:05d}.parquet"
        self._submit(key, lambda: s3io.write_parquet(self.s3, self.bucket, key, frame))

    def _submit(self, key: str, upload: Callable[[], None]) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix="curated-put")
        while len(self._pending) >= self.max_in_flight:
            self._pending.pop(0).result()  # the oldest upload; its failure surfaces here
        self._pending.append(self._pool.submit(upload))
        self.written.append(key)

    def flush(self) -> None:
        """Wait for every upload; raise the first failure (after all have finished)."""
        pending, self._pending = self._pending, []
        errors = [f.exception() for f in pending]
        failed = [e for e in errors if e is not None]
        if failed:
            raise failed[0]

    def close(self) -> None:
        """Wait for whatever is still uploading (failures ignored: the caller is already failing) and stop."""
        for future in self._pending:
            future.exception()
        self._pending = []
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _manifest_key(sink: S3Sink) -> str:
    return f"_manifests/{sink.dataset}/{sink.oid}.json"


def _previous_keys(sink: S3Sink) -> list[str]:
    try:
        return s3io.read_json(sink.s3, sink.bucket, _manifest_key(sink)).get("keys", [])
    except ObjectNotFoundError:
        return []


def discard_outputs(sink: S3Sink) -> None:
    """The object turned out unreadable part-way: remove everything curated from it, old and new."""
    sink.close()  # no upload may land after the deletes
    s3io.delete_keys(sink.s3, sink.bucket, sorted(set(sink.written) | set(_previous_keys(sink))))
    s3io.delete_keys(sink.s3, sink.bucket, [_manifest_key(sink)])


def finish_outputs(sink: S3Sink, report: dict) -> dict:
    """Write the report and the manifest; delete what an earlier run wrote and this one did not."""
    sink.flush()
    report_key = f"_reports/{sink.dataset}/{sink.oid}.json"
    report = {**report, "curated_keys": sink.written, "partitions": sorted(sink.partitions), "report_key": report_key}
    s3io.write_json(sink.s3, sink.bucket, report_key, report)
    stale = sorted(set(_previous_keys(sink)) - set(sink.written))
    if stale:
        s3io.delete_keys(sink.s3, sink.bucket, stale)
    s3io.write_json(
        sink.s3, sink.bucket, _manifest_key(sink), {"source_key": report["source_key"], "keys": sink.written}
    )
    return {**report, "stale_deleted": len(stale)}
