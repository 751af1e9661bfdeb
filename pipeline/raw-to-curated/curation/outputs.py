"""Write a curation's outputs to the curated bucket: date partitions, quarantine, report, manifest.

Every name derives from the raw object's id, and a manifest lists what the last run wrote, so a
re-run overwrites its own files and deletes the ones it no longer produces: idempotent, no duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from retail_platform import s3io
from retail_platform.exceptions import ObjectNotFoundError


@dataclass
class S3Sink:
    """Writes each output part as it is produced (memory stays bounded by one part)."""

    s3: Any
    bucket: str
    dataset: str
    oid: str
    written: list[str] = field(default_factory=list)
    days: set[str] = field(default_factory=set)

    def curated(self, day: str, part: int, table: pa.Table) -> None:
        prefix = f"{self.dataset}/date={day}" if day else self.dataset
        key = f"{prefix}/part-{self.oid}-{part:05d}.parquet"
        s3io.write_parquet_table(self.s3, self.bucket, key, table)
        self.written.append(key)
        if day:
            self.days.add(day)

    def quarantine(self, part: int, frame: pd.DataFrame) -> None:
        self._write(f"_quarantine/{self.dataset}/part-{self.oid}-{part:05d}.parquet", frame)

    def _write(self, key: str, frame: pd.DataFrame) -> None:
        s3io.write_parquet(self.s3, self.bucket, key, frame)
        self.written.append(key)


def _manifest_key(sink: S3Sink) -> str:
    return f"_manifests/{sink.dataset}/{sink.oid}.json"


def _previous_keys(sink: S3Sink) -> list[str]:
    try:
        return s3io.read_json(sink.s3, sink.bucket, _manifest_key(sink)).get("keys", [])
    except ObjectNotFoundError:
        return []


def discard_outputs(sink: S3Sink) -> None:
    """The object turned out unreadable part-way: remove everything curated from it, old and new."""
    s3io.delete_keys(sink.s3, sink.bucket, sorted(set(sink.written) | set(_previous_keys(sink))))
    s3io.delete_keys(sink.s3, sink.bucket, [_manifest_key(sink)])


def finish_outputs(sink: S3Sink, report: dict) -> dict:
    """Write the report and the manifest; delete what an earlier run wrote and this one did not."""
    report_key = f"_reports/{sink.dataset}/{sink.oid}.json"
    report = {**report, "curated_keys": sink.written, "partitions": sorted(sink.days), "report_key": report_key}
    s3io.write_json(sink.s3, sink.bucket, report_key, report)
    stale = sorted(set(_previous_keys(sink)) - set(sink.written))
    if stale:
        s3io.delete_keys(sink.s3, sink.bucket, stale)
    s3io.write_json(
        sink.s3, sink.bucket, _manifest_key(sink), {"source_key": report["source_key"], "keys": sink.written}
    )
    return {**report, "stale_deleted": len(stale)}
