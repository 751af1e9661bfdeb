"""Whole-file quarantine: a raw file that cannot be decoded at all is copied aside with a report saying why."""

from __future__ import annotations

from curation.engine import object_id
from retail_platform import s3io
from retail_platform.storage.blobstore import S3Client


def quarantine_file(s3: S3Client, curated_bucket: str, bucket: str, key: str, dataset: str, error: Exception) -> dict:
    """Copy the raw object whole under _quarantine/_files/ and write its report; returns the report and its key."""
    oid = object_id(key)
    target = f"_quarantine/_files/{dataset}/{oid}/{key.rsplit('/', 1)[-1]}"
    s3io.copy(s3, bucket, key, curated_bucket, target)
    report = {
        "source_key": key,
        "dataset": dataset,
        "object_id": oid,
        "file_error": str(error),
        "rows_in": None,
        "rows_curated": 0,
        "rows_quarantined": None,
        "partitions": [],
        "quarantined_file": target,
    }
    report_key = f"_reports/{dataset}/{oid}.json"
    s3io.write_json(s3, curated_bucket, report_key, report)
    return {**report, "report_key": report_key}
