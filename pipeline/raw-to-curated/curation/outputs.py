"""Write a curation result to the curated bucket: date partitions, quarantine, report, manifest.

Every name derives from the raw object's id, and a manifest lists what the last run wrote, so a
re-run overwrites its own files and deletes the ones it no longer produces: idempotent, no duplicates.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from curation.engine import CurationResult, object_id
from retail_platform import s3io
from retail_platform.exceptions import ObjectNotFoundError


def _partitions(frame: pd.DataFrame, column: str | None) -> dict[str, pd.DataFrame]:
    if column is None or frame.empty:
        return {"": frame} if not frame.empty else {}
    days = pd.to_datetime(frame[column], utc=True).dt.strftime("%Y-%m-%d")
    return {day: part.reset_index(drop=True) for day, part in frame.groupby(days.to_numpy(), sort=True)}


def _key(prefix: str, day: str, oid: str) -> str:
    return f"{prefix}/date={day}/part-{oid}.parquet" if day else f"{prefix}/part-{oid}.parquet"


def write_result(s3: Any, bucket: str, result: CurationResult, partition_by: str | None) -> dict:
    report = result.report
    dataset, oid = report["dataset"], object_id(report["source_key"])
    written: list[str] = []
    days: list[str] = []
    for day, part in _partitions(result.curated, partition_by).items():
        key = _key(dataset, day, oid)
        s3io.write_parquet(s3, bucket, key, part)
        written.append(key)
        if day:
            days.append(day)
    quarantine_by_day = {"": result.quarantine} if not result.quarantine.empty else {}
    for day, part in quarantine_by_day.items():
        key = _key(f"_quarantine/{dataset}", day, oid)
        s3io.write_parquet(s3, bucket, key, part)
        written.append(key)
    report_key = f"_reports/{dataset}/{oid}.json"
    report = {**report, "curated_keys": written, "partitions": days, "report_key": report_key}
    s3io.write_json(s3, bucket, report_key, report)

    manifest_key = f"_manifests/{dataset}/{oid}.json"
    try:
        previous = s3io.read_json(s3, bucket, manifest_key).get("keys", [])
    except ObjectNotFoundError:
        previous = []
    stale = sorted(set(previous) - set(written))
    if stale:
        s3io.delete_keys(s3, bucket, stale)
    s3io.write_json(s3, bucket, manifest_key, {"source_key": report["source_key"], "keys": written})
    return {**report, "stale_deleted": len(stale)}
