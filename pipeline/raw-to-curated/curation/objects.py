"""Curate one raw object end to end: route it to its contract, stream it through the engine into the sinks,
record drift and per-dataset metrics; and summarise an invocation's objects as the state machine expects."""

from __future__ import annotations

from curation.engine import curate_stream, object_id
from curation.history import drift
from curation.outputs import S3Sink, discard_outputs, finish_outputs
from curation.quarantine import quarantine_file
from retail_platform import s3io
from retail_platform.contracts import route
from retail_platform.exceptions import UnreadableFileError
from retail_platform.observability import logger, record, tracer
from retail_platform.settings import Settings
from retail_platform.storage.blobstore import S3Client

OBJECT_FIELDS = ("source_key", "dataset", "rows_in", "rows_curated", "rows_quarantined", "report_key", "file_error")
TOTALS = ("rows_in", "rows_curated", "rows_quarantined")


@tracer.capture_method
def process_object(s3: S3Client, settings: Settings, contracts: list, bucket: str, key: str, batch_rows: int) -> dict:
    contract = route(key, contracts)
    logger.info("curating object", extra={"bucket": bucket, "key": key, "contract": contract.name})
    size = s3io.head(s3, bucket, key).get("ContentLength")
    sink = S3Sink(s3, settings.curated_bucket, contract.dataset, object_id(key))
    others = {o.dataset: S3Sink(s3, settings.curated_bucket, o.dataset, object_id(key)) for o in contract.also}
    try:
        try:
            with s3io.open_stream(s3, bucket, key) as stream:
                report = curate_stream(stream, key, contract, sink, size=size, batch_rows=batch_rows, also_sinks=others)
        except UnreadableFileError as e:
            logger.warning("file quarantined whole", extra={"key": key, "error": str(e)})
            for written in (sink, *others.values()):  # nothing half-written: the latest version is unreadable
                discard_outputs(written)
            return quarantine_file(s3, settings.curated_bucket, bucket, key, contract.dataset, e)
        report["drift"] = drift(s3, settings.artifacts_bucket, contract, sink.oid, report)
        also = report.pop("also", {})
        summary = finish_outputs(sink, report)
        summary["also"] = {name: finish_outputs(others[name], r) for name, r in also.items()}
    finally:
        for written in (sink, *others.values()):
            written.close()  # no upload thread outlives the invocation, whatever happened
    per_dataset(summary, report)
    for other in summary["also"].values():
        per_dataset(other, other)
    return summary


def per_dataset(summary: dict, report: dict) -> None:
    """Rows in / curated / quarantined and detector findings per dataset (the function-wide totals feed alarms)."""
    dataset = str(report.get("dataset") or "unknown")
    for name in TOTALS:
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


def summarise(results: list[dict]) -> dict:
    """The invocation's output: totals, one entry per object, and the curated partitions touched per dataset."""
    partitions: dict[str, list[str]] = {}
    for r in results:
        for output in (r, *(r.get("also") or {}).values()):  # one export may feed several datasets
            days = set(partitions.get(output["dataset"], [])) | set(output.get("partitions", []))
            partitions[output["dataset"]] = sorted(days)
    totals = {k: sum((r.get(k) or 0) for r in results) for k in TOTALS}
    objects = [{k: r.get(k) for k in OBJECT_FIELDS} | _further_datasets(r) for r in results]
    return {**totals, "objects": objects, "partitions": partitions}
