"""Quality history of a source: each object's profile compared with its earlier objects' (Deequ-style drift)."""

from __future__ import annotations

from typing import Any

from curation import detectors
from retail_platform import s3io
from retail_platform.storage.blobstore import S3Client

HISTORY_LENGTH = 30


def quality_history(s3: S3Client, artifacts_bucket: str, contract_name: str, oid: str) -> tuple[str, list[dict]]:
    """The profiles of this source's earlier objects (newest last), and where this object's profile goes."""
    prefix = f"_quality/{contract_name}/profiles/"
    listing = s3.get_paginator("list_objects_v2").paginate(Bucket=artifacts_bucket, Prefix=prefix)
    items = sorted((o for page in listing for o in page.get("Contents", [])), key=lambda o: o["LastModified"])
    own = f"{prefix}{oid}.json"
    earlier = [o["Key"] for o in items if o["Key"] != own][-HISTORY_LENGTH:]
    return own, [s3io.read_json(s3, artifacts_bucket, k) for k in earlier]


def drift(s3: S3Client, artifacts_bucket: str, contract: Any, oid: str, report: dict) -> list[dict]:
    """Compare this object's profile with the source's history; then add it to the history."""
    profile = report.pop("profile", None)
    if not profile:
        return []
    profile["rows"] = report["rows_in"]
    own_key, history = quality_history(s3, artifacts_bucket, contract.name, oid)
    policy = detectors.QualityPolicy.from_mapping({**contract.canonical.quality, **contract.quality})
    findings = [f.to_dict() for f in detectors.compare(profile, history, policy)]
    s3io.write_json(s3, artifacts_bucket, own_key, profile)
    return findings
