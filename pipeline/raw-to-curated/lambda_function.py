"""raw-to-curated: validate, normalise, dedupe and mask one raw object (or each object of an event).

Triggers: Step Functions task input {"bucket", "key"}, the EventBridge S3 "Object Created" event, or a
classic S3 notification. Output (per the state machine contract in docs/ARCHITECTURE.md): counts, the
curated partitions touched per dataset, and the quality report's key.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from curation import detectors
from curation.engine import curate_stream, object_id
from curation.outputs import S3Sink, discard_outputs, finish_outputs
from retail_platform import aws, s3io
from retail_platform.contracts import load_sources, route
from retail_platform.events import object_refs
from retail_platform.exceptions import UnreadableFileError
from retail_platform.observability import logger, metrics, record, tracer
from retail_platform.settings import get_settings

SETTINGS = get_settings()
BATCH_ROWS = int(os.environ.get("CURATION_BATCH_ROWS", "250000"))
USER_CONTRACTS_PREFIX = "contracts/"


@lru_cache(maxsize=1)
def contracts() -> list:
    """Built-in source contracts plus a retailer's own from s3://<artifacts>/contracts/*.yaml.

    Read once per execution environment, on first use: onboarding an export means uploading one YAML
    file, no redeploy (new environments pick it up; `sam deploy` or a config change refreshes all).
    """
    s3 = aws.client("s3")
    keys = [k for k in s3io.list_keys(s3, SETTINGS.artifacts_bucket, USER_CONTRACTS_PREFIX) if k.endswith(".yaml")]
    if not keys:
        return load_sources()
    folder = Path(tempfile.mkdtemp(prefix="contracts-"))
    for key in keys:
        (folder / key.rsplit("/", 1)[-1]).write_bytes(s3io.read_bytes(s3, SETTINGS.artifacts_bucket, key))
    return load_sources((folder,))


def _file_failure(s3: Any, bucket: str, key: str, dataset: str, error: Exception) -> dict:
    """A file that cannot be decoded at all: keep a copy in quarantine whole, with the reason."""
    oid = object_id(key)
    target = f"_quarantine/_files/{dataset}/{oid}/{key.rsplit('/', 1)[-1]}"
    s3io.copy(s3, bucket, key, SETTINGS.curated_bucket, target)
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
    s3io.write_json(s3, SETTINGS.curated_bucket, report_key, report)
    return {**report, "report_key": report_key}


HISTORY_LENGTH = 30


def quality_history(s3: Any, contract_name: str, oid: str) -> tuple[str, list[dict]]:
    """The profiles of this source's earlier objects (newest last), and where this object's profile goes."""
    prefix = f"_quality/{contract_name}/profiles/"
    listing = s3.get_paginator("list_objects_v2").paginate(Bucket=SETTINGS.artifacts_bucket, Prefix=prefix)
    items = sorted((o for page in listing for o in page.get("Contents", [])), key=lambda o: o["LastModified"])
    own = f"{prefix}{oid}.json"
    earlier = [o["Key"] for o in items if o["Key"] != own][-HISTORY_LENGTH:]
    return own, [s3io.read_json(s3, SETTINGS.artifacts_bucket, k) for k in earlier]


def drift(s3: Any, contract: Any, oid: str, report: dict) -> list[dict]:
    """Compare this object's profile with the source's history (Deequ-style); then add it to the history."""
    profile = report.pop("profile", None)
    if not profile:
        return []
    profile["rows"] = report["rows_in"]
    own_key, history = quality_history(s3, contract.name, oid)
    policy = detectors.QualityPolicy.from_mapping({**contract.canonical.quality, **contract.quality})
    findings = [f.to_dict() for f in detectors.compare(profile, history, policy)]
    s3io.write_json(s3, SETTINGS.artifacts_bucket, own_key, profile)
    return findings


@tracer.capture_method
def process_object(s3: Any, bucket: str, key: str) -> dict:
    contract = route(key, contracts())
    logger.info("curating object", extra={"bucket": bucket, "key": key, "contract": contract.name})
    size = s3io.head(s3, bucket, key).get("ContentLength")
    sink = S3Sink(s3, SETTINGS.curated_bucket, contract.dataset, object_id(key))
    others = {o.dataset: S3Sink(s3, SETTINGS.curated_bucket, o.dataset, object_id(key)) for o in contract.also}
    try:
        try:
            with s3io.open_stream(s3, bucket, key) as stream:
                report = curate_stream(stream, key, contract, sink, size=size, batch_rows=BATCH_ROWS, also_sinks=others)
        except UnreadableFileError as e:
            logger.warning("file quarantined whole", extra={"key": key, "error": str(e)})
            for written in (sink, *others.values()):  # nothing half-written: the latest version is unreadable
                discard_outputs(written)
            return _file_failure(s3, bucket, key, contract.dataset, e)
        report["drift"] = drift(s3, contract, sink.oid, report)
        also = report.pop("also", {})
        summary = finish_outputs(sink, report)
        summary["also"] = {name: finish_outputs(others[name], r) for name, r in also.items()}
    finally:
        for written in (sink, *others.values()):
            written.close()  # no upload thread outlives the invocation, whatever happened
    metrics.add_metric(name="RowsIn", unit="Count", value=summary["rows_in"])
    metrics.add_metric(name="RowsCurated", unit="Count", value=summary["rows_curated"])
    metrics.add_metric(name="RowsQuarantined", unit="Count", value=summary["rows_quarantined"])
    per_dataset(summary, report)
    for other in summary["also"].values():
        per_dataset(other, other)
    return summary


def per_dataset(summary: dict, report: dict) -> None:
    """Rows in / curated / quarantined and detector findings per dataset (the function-wide totals feed alarms)."""
    dataset = str(report.get("dataset") or "unknown")
    for name in ("rows_in", "rows_curated", "rows_quarantined"):
        record("".join(part.title() for part in name.split("_")), summary[name] or 0, dataset=dataset)
    flags = report.get("detector_flags") or {}
    record("DetectorFlaggedRows", sum(int(f.get("rows", 0)) for f in flags.values()), dataset=dataset)
    record("DriftFindings", len(report.get("drift") or []), dataset=dataset)


def _further_datasets(result: dict) -> dict:
    """The counts of the further datasets an export feeds (its top-level counts are the primary dataset's)."""
    also = result.get("also") or {}
    if not also:
        return {}
    keys = ("rows_curated", "rows_collapsed", "rows_quarantined", "conservation_ok", "report_key")
    return {"also": {name: {k: r.get(k) for k in keys} for name, r in also.items()}}


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    s3 = aws.client("s3")
    results = []
    for ref in object_refs(event):
        if ref.bucket != SETTINGS.raw_bucket:
            logger.warning("object is not in the raw bucket", extra={"bucket": ref.bucket})
        results.append(process_object(s3, ref.bucket, ref.key))
    partitions: dict[str, list[str]] = {}
    for r in results:
        for output in (r, *(r.get("also") or {}).values()):  # one export may feed several datasets
            days = set(partitions.get(output["dataset"], [])) | set(output.get("partitions", []))
            partitions[output["dataset"]] = sorted(days)
    totals = {k: sum((r.get(k) or 0) for r in results) for k in ("rows_in", "rows_curated", "rows_quarantined")}
    return {
        **totals,
        "objects": [
            {
                k: r.get(k)
                for k in (
                    "source_key",
                    "dataset",
                    "rows_in",
                    "rows_curated",
                    "rows_quarantined",
                    "report_key",
                    "file_error",
                )
            }
            | _further_datasets(r)
            for r in results
        ],
        "partitions": partitions,
    }
