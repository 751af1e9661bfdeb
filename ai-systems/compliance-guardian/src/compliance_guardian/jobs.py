"""The batch paths the handler runs: one prod dataset's update, and the nightly audit with text-model training."""

from __future__ import annotations

from typing import Any

from compliance_guardian import batch, report
from compliance_guardian.config import GuardianSettings
from compliance_guardian.store import Buckets
from retail_platform.observability import record_model_scores
from retail_platform.storage.blobstore import S3Client


def on_dataset_updated(
    s3: S3Client | Buckets,
    events_client: Any,
    settings: Any,
    cfg: GuardianSettings,
    dataset: str,
    periods: list[str],
) -> dict[str, Any]:
    """Audit the dataset's new partitions (day or month labels) for card data; payments are also scored (and
    the model retrained). `s3` is a client (S3 stores of the settings' buckets) or injected `Buckets`."""
    result = batch.run_prod_update(s3, settings, cfg, dataset, periods, events_client)
    fraud = result.get("fraud") or {}
    if (fraud.get("model") or {}).get("trained"):  # a retrained model's holdout scores
        record_model_scores("fraud", fraud.get("model_version"), fraud["model"].get("metrics_holdout"))
    result["report_html"] = report.html_fragment(result)
    return result


def fraud_counts(result: dict[str, Any]) -> tuple[int, int]:
    """(alerts, transactions scored) of a batch result: the fraud-alert rate alarm's two metrics."""
    days = ((result.get("fraud") or {}).get("days") or {}).values()
    return sum(d["alerts"] for d in days), sum(d["scored"] for d in days)


def nightly(s3: S3Client | Buckets, settings: Any, cfg: GuardianSettings) -> dict[str, Any]:
    """Audit the newest curated partitions and (re)train the text model when due."""
    from compliance_guardian.textclf.serving import ensure_text_model

    buckets = Buckets.of(s3, settings)
    result: dict[str, Any] = {"curated_audit": batch.audit_curated(buckets, settings, cfg)}
    artifacts = buckets.artifacts
    result["text_model"] = ensure_text_model(artifacts, artifacts.bucket, cfg.text_model_texts, cfg.text_model_epochs)
    result["report_html"] = report.html_fragment(result)
    return result
